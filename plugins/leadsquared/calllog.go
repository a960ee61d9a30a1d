package leadsquared

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// Calls are logged as activities on the lead (v2 ProspectActivity.svc:
// "Post an Activity on a Lead", apidocs.leadsquared.com/post-an-activity-to-lead)
// of the custom activity type the integration's call_activity_event names.
const (
	PathActivityCreate   = "/v2/ProspectActivity.svc/Create"
	PathActivityRetrieve = "/v2/ProspectActivity.svc/Retrieve"
	PathLeadUpdate       = "/v2/LeadManagement.svc/Lead.Update"
)

// CredCallActivityEvent is the integration setting naming the activity
// type (its numeric event code, e.g. 201) calls are logged as.
const CredCallActivityEvent = "call_activity_event"

// KeyMarker starts the note line that carries callgate's idempotency key:
// LogCall reads the lead's recent activities of the type for it before it
// posts, so a retry never logs the call twice.
const KeyMarker = "callgate-key: "

// recentActivities is how many of the lead's latest activities of the
// type the find reads: a retry comes within hours, not hundreds of calls.
const recentActivities = 50

// leadsquaredTime is LeadSquared's date-time format (UTC).
const leadsquaredTime = "2006-01-02 15:04:05"

// LogCall posts the attempt as an activity on the lead, once per key, and
// sets the follow-up fields on the lead. LeadSquared tasks are not
// created: follow-up tasks are written into the activity's note.
func (p *Plugin) LogCall(ctx context.Context, req sdk.LogCallRequest) (sdk.LogCallResult, error) {
	a, err := parseAccount(req.Credentials)
	if err != nil {
		return sdk.LogCallResult{}, err
	}
	event, err := activityEvent(req.Credentials)
	if err != nil || req.CheckOnly {
		return sdk.LogCallResult{}, err
	}
	if strings.TrimSpace(req.Key) == "" {
		return sdk.LogCallResult{}, sdk.BadRequest("leadsquared: log call: no idempotency key")
	}
	if strings.TrimSpace(req.ObjectID) == "" {
		return sdk.LogCallResult{}, sdk.BadRequest("leadsquared: log call %s: no lead id", req.Key)
	}
	if err := checkObjectType(req.ObjectType); err != nil {
		return sdk.LogCallResult{}, err
	}
	id, err := p.findActivity(ctx, a, req.ObjectID, event, req.Key)
	if err != nil {
		return sdk.LogCallResult{}, err
	}
	if id == "" {
		if id, err = p.postActivity(ctx, a, req, event); err != nil {
			return sdk.LogCallResult{}, err
		}
	}
	res := sdk.LogCallResult{ActivityID: id}
	if len(req.Properties) > 0 {
		if err := p.updateLead(ctx, a, req.ObjectID, req.Properties); err != nil {
			return sdk.LogCallResult{}, err
		}
		for name := range req.Properties {
			res.Updated = append(res.Updated, name)
		}
		slices.Sort(res.Updated)
	}
	return res, nil
}

func activityEvent(creds sdk.Credentials) (int, error) {
	v := strings.TrimSpace(creds[CredCallActivityEvent])
	if v == "" {
		return 0, sdk.Permanent("leadsquared: %s is not set: create a custom activity type for AI calls (Settings > Customizations > Activities and Scores) and put its event code (e.g. 201) in the integration block", CredCallActivityEvent)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, sdk.Permanent("leadsquared: %s %q is not an activity event code (a number such as 201)", CredCallActivityEvent, truncate(v, 20))
	}
	return n, nil
}

// findActivity returns the id of the lead's activity of type event whose
// note carries key, or "".
func (p *Plugin) findActivity(ctx context.Context, a account, leadID string, event int, key string) (string, error) {
	var raw json.RawMessage
	body := map[string]any{"Parameter": map[string]any{"ActivityEvent": event}, "Paging": map[string]any{"Offset": "0", "RowCount": strconv.Itoa(recentActivities)}}
	if err := p.call(ctx, a, http.MethodPost, PathActivityRetrieve, url.Values{"leadId": {leadID}}, body, &raw, "find the call activity "+key); err != nil {
		return "", err
	}
	id, err := activityWithKey(raw, key)
	if err != nil {
		return "", sdk.Transient("leadsquared: find the call activity %s: unreadable answer from %s: %v", key, a.host, err)
	}
	return id, nil
}

// activityWithKey reads a Retrieve answer and returns the id of the
// activity whose note carries key, or "".
func activityWithKey(body []byte, key string) (string, error) {
	var out struct {
		ProspectActivities []map[string]any
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", errors.New(jsonProblem(err))
	}
	for _, act := range out.ProspectActivities {
		if carries(act, KeyMarker+key) {
			id, _ := act["Id"].(string)
			if id == "" {
				id, _ = act["ID"].(string)
			}
			return id, nil
		}
	}
	return "", nil
}

// carries reports whether any string inside v holds marker as a line. The
// note comes back under Data (ActivityEvent_Note) or at the top level,
// depending on the activity type; reading every string copes with both.
func carries(v any, marker string) bool {
	switch x := v.(type) {
	case string:
		return slices.Contains(strings.Split(x, "\n"), marker)
	case map[string]any:
		for _, e := range x {
			if carries(e, marker) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if carries(e, marker) {
				return true
			}
		}
	}
	return false
}

func (p *Plugin) postActivity(ctx context.Context, a account, req sdk.LogCallRequest, event int) (string, error) {
	at := req.Call.StartedAt
	if at.IsZero() {
		at = p.now()
	}
	body := map[string]any{
		"RelatedProspectId": req.ObjectID,
		"ActivityEvent":     event,
		"ActivityNote":      activityNote(req),
		"ActivityDateTime":  at.UTC().Format(leadsquaredTime),
	}
	var out struct {
		Status  string
		Message struct{ Id string }
	}
	if err := p.call(ctx, a, http.MethodPost, PathActivityCreate, nil, body, &out, "log call "+req.Key+" on lead "+req.ObjectID); err != nil {
		return "", err
	}
	if out.Message.Id == "" {
		return "", sdk.Transient("leadsquared: log call %s: LeadSquared answered without the activity's id; retrying finds it", req.Key)
	}
	return out.Message.Id, nil
}

// activityNote is the activity's text: title, the call's facts, the body,
// follow-up tasks, and the key line last.
func activityNote(req sdk.LogCallRequest) string {
	c := req.Call
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if c.Title != "" {
		line("%s", c.Title)
	}
	facts := []string{"Outcome: " + orDash(c.Outcome)}
	if c.Disposition != "" || c.PlatformDisposition != "" {
		facts = append(facts, "Disposition: "+firstNonEmpty(c.Disposition, c.PlatformDisposition))
	}
	if c.Duration > 0 {
		facts = append(facts, "Duration: "+c.Duration.Round(time.Second).String())
	}
	line("%s", strings.Join(facts, " · "))
	if c.ToNumber != "" || c.FromNumber != "" {
		line("To %s from %s", orDash(c.ToNumber), orDash(c.FromNumber))
	}
	if c.RecordingURL != "" {
		line("Recording: %s", c.RecordingURL)
	}
	if c.Body != "" {
		line("\n%s\n", strings.TrimSpace(c.Body))
	}
	for _, t := range req.Tasks {
		due := ""
		if !t.Due.IsZero() {
			due = " (due " + t.Due.UTC().Format(leadsquaredTime) + " UTC)"
		}
		line("Follow-up: %s%s", t.Title, due)
		if t.Body != "" {
			line("  %s", t.Body)
		}
	}
	b.WriteString(KeyMarker + req.Key)
	return b.String()
}

// updateLead sets follow-up fields on the lead (Lead.Update takes
// [{"Attribute","Value"}], every value a string).
func (p *Plugin) updateLead(ctx context.Context, a account, leadID string, fields map[string]sdk.Value) error {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	body := make([]map[string]string, 0, len(fields))
	for _, k := range names {
		body = append(body, map[string]string{"Attribute": k, "Value": formatField(fields[k])})
	}
	var out json.RawMessage
	return p.call(ctx, a, http.MethodPost, PathLeadUpdate, url.Values{"leadId": {leadID}}, body, &out, "update lead "+leadID)
}

func formatField(v sdk.Value) string {
	switch v.Type {
	case sdk.TypeTime:
		return v.Time.UTC().Format(leadsquaredTime)
	case sdk.TypeBool:
		return strconv.FormatBool(v.Bool)
	case sdk.TypeNull:
		return ""
	}
	return v.Text()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
