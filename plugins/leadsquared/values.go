package leadsquared

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// TimeLayout is how LeadSquared writes date-times in webhooks and API
// responses: UTC, no zone, sometimes with milliseconds ("2018-03-06
// 06:55:46.000"). Both forms parse with this layout.
const TimeLayout = "2006-01-02 15:04:05"

// systemFields are LeadSquared's built-in lead fields in their canonical
// spelling. The webhook says ProspectID, the API sometimes ProspectId: a
// field is looked up case-insensitively and stored under this spelling, so
// rules see one name whichever path the lead came by.
var systemFields = canonicalNames(
	"ProspectID", "ProspectAutoId", "FirstName", "LastName", "EmailAddress", "Phone", "Mobile",
	"Company", "JobTitle", "Website", "Origin", "Source", "SourceMedium", "SourceCampaign",
	"SourceContent", "SourceReferrer", "ProspectStage", "Score", "EngagementScore", "QualityScore01",
	"TotalVisits", "PageViewsPerVisit", "AvgTimePerVisit", "DoNotEmail", "DoNotCall", "DoNotSMS",
	"DoNotTrack", "OwnerId", "OwnerIdName", "OwnerIdEmailAddress", "CreatedBy", "CreatedByName",
	"CreatedOn", "ModifiedBy", "ModifiedByName", "ModifiedOn", "LastVisitDate", "LastActivityDate",
	"NotableEvent", "NotableEventdate", "StatusCode", "StatusReason", "Notes", "LeadType",
)

func canonicalNames(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return m
}

// boolFields and numberFields are the system fields LeadSquared sends as
// strings ("0", "12.5") whose meaning is a flag or a number.
var (
	boolFields   = map[string]bool{"DoNotEmail": true, "DoNotCall": true, "DoNotSMS": true, "DoNotTrack": true}
	numberFields = map[string]bool{"Score": true, "EngagementScore": true, "QualityScore01": true,
		"TotalVisits": true, "PageViewsPerVisit": true, "AvgTimePerVisit": true}
)

// canonical returns the field's canonical name: the system spelling, or
// the name as sent (custom mx_ fields keep their schema name).
func canonical(name string) string {
	if c, ok := systemFields[strings.ToLower(name)]; ok {
		return c
	}
	return name
}

// fieldValue types one raw value of field (already canonical): JSON null
// is null; JSON numbers and booleans keep their type; strings become bools
// for the DoNot* flags, numbers for the score and visit counters, times
// when they are LeadSquared date-times, and stay strings otherwise (phone
// numbers, ids and mx_ text are never guessed to be numbers). Objects and
// arrays (custom field sets) are kept as their compact JSON text.
func fieldValue(field string, raw any) sdk.Value {
	switch v := raw.(type) {
	case nil:
		return sdk.Value{}
	case bool:
		return sdk.BoolValue(v)
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return sdk.NumberValue(f)
		}
		return sdk.StringValue(v.String())
	case string:
		return stringValue(field, v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return sdk.Value{}
		}
		var buf bytes.Buffer
		if json.Compact(&buf, b) == nil {
			b = buf.Bytes()
		}
		return sdk.StringValue(string(b))
	}
}

func stringValue(field, s string) sdk.Value {
	t := strings.TrimSpace(s)
	switch {
	case boolFields[field]:
		if b, ok := parseBool(t); ok {
			return sdk.BoolValue(b)
		}
	case numberFields[field]:
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return sdk.NumberValue(f)
		}
	}
	if tm, ok := parseTime(t); ok {
		return sdk.TimeValue(tm)
	}
	return sdk.StringValue(s)
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true, true
	case "0", "false", "no":
		return false, true
	}
	return false, false
}

// parseTime reads a LeadSquared date-time ("2006-01-02 15:04:05", with or
// without fractional seconds) as UTC. It is strict about the shape so that
// free text is never taken for a time.
func parseTime(s string) (time.Time, bool) {
	if len(s) < len(TimeLayout) || s[4] != '-' || s[10] != ' ' {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
