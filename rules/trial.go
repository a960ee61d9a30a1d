package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/callee"
)

// Trial is one dry run of an agent's rules on a record, as `callgate rules
// test` and POST /api/v1/rules/test make it. No call is placed.
type Trial struct {
	// Record is a JSON object of field → value, a HubSpot object
	// ({"id": …, "properties": {…}}) or {"object_id": …, "fields": {…}}.
	// See ParseRecord.
	Record []byte
	// Event is a JSON event (see ParseEvent); empty means a creation event.
	Event []byte
	Call  Call      // call.agent_id, call.to_number, call.timezone
	Now   time.Time // zero → time.Now()
	// PhoneFields, when set, are the agent's phone_fields: the first one
	// holding a valid number becomes call.to_number, as in the pipeline,
	// and a record with none is reported as skipped.
	PhoneFields []string
	// TimezoneSetting is the agent's timezone setting. When it is
	// "callee" or "contact" and Call.Timezone is empty, call.timezone is
	// resolved as the pipeline resolves it (callee.Resolve): the number's
	// zone, or ContactTimezone, falling back to the rules' own zone with a
	// note in the report.
	TimezoneSetting string
	// ContactTimezone is the record's own zone, for "contact".
	ContactTimezone string
}

// Report is what a Trial found: the decision, every variable and the
// fields the record lacked.
type Report struct {
	Call            bool              `json:"call"`             // a call would be placed
	Reason          string            `json:"reason,omitempty"` // why not
	When            string            `json:"when"`             // the when rule
	WhenResult      bool              `json:"when_result"`      // its answer
	WhenError       string            `json:"when_error,omitempty"`
	Variables       map[string]string `json:"variables"`
	VariableErrors  map[string]string `json:"variable_errors,omitempty"`
	MissingFields   []string          `json:"missing_fields"`
	MissingRequired []string          `json:"missing_required"`
	Fields          []string          `json:"fields"` // contact fields the rules reference
	ObjectID        string            `json:"object_id,omitempty"`
	Event           Event             `json:"event"`
	ToNumber        string            `json:"to_number,omitempty"`     // call.to_number
	PhoneField      string            `json:"phone_field,omitempty"`   // the field it came from
	Timezone        string            `json:"timezone"`                // the zone dates and now were shown in
	TimezoneNote    string            `json:"timezone_note,omitempty"` // why it is not the zone the setting asked for
}

// Try compiles spec and runs it on one record. Compile problems are
// returned as CompileErrors, unreadable record or event JSON as an error
// saying what to fix; a rule that fails at run time is reported in the
// Report, not as an error.
func Try(spec Spec, t Trial) (Report, error) {
	p, err := Compile(spec)
	if err != nil {
		return Report{}, err
	}
	return p.Try(t)
}

// Try runs the compiled rules on one record; see the package-level Try.
// Unlike Evaluate it evaluates the variables even when the when rule is
// false, so they can be inspected.
func (p *Program) Try(t Trial) (Report, error) {
	if _, err := p.zone(t.Call.Timezone); err != nil {
		return Report{}, fmt.Errorf("call timezone: %w", err)
	}
	id, contact, err := ParseRecord(t.Record)
	if err != nil {
		return Report{}, err
	}
	ev, err := ParseEvent(t.Event)
	if err != nil {
		return Report{}, err
	}
	if ev.ObjectID == "" {
		ev.ObjectID = id
	}
	call := t.Call
	phoneField := ""
	if len(t.PhoneFields) > 0 {
		call.ToNumber, phoneField = p.pickPhone(contact, t.PhoneFields)
	}
	var zoneNote string
	if call.Timezone == "" && (t.TimezoneSetting == callee.FromNumber || t.TimezoneSetting == callee.FromContact) {
		z, err := callee.Resolve(t.TimezoneSetting, callee.Facts{Number: call.ToNumber, Contact: t.ContactTimezone,
			Default: p.location.String()})
		if err != nil {
			return Report{}, fmt.Errorf("call timezone: %w", err)
		}
		call.Timezone, zoneNote = z.Name, z.Note
	}
	res, whenErr := p.evaluate(Env{Contact: contact, Event: ev, Call: call, Now: t.Now}, true)
	rep := Report{
		When:            p.whenSrc,
		WhenResult:      res.Call,
		Variables:       res.Variables,
		VariableErrors:  res.VariableErrors,
		MissingFields:   nonNil(res.MissingFields),
		MissingRequired: nonNil(res.MissingRequired),
		Fields:          nonNil(p.Fields()),
		ObjectID:        id,
		Event:           ev,
		ToNumber:        call.ToNumber,
		PhoneField:      phoneField,
		Timezone:        call.Timezone,
		TimezoneNote:    zoneNote,
	}
	if rep.Timezone == "" {
		rep.Timezone = p.location.String()
	}
	if rep.Variables == nil {
		rep.Variables = map[string]string{}
	}
	if whenErr != nil {
		rep.WhenError = whenErr.Error()
	}
	rep.Call, rep.Reason = res.Decision()
	if len(t.PhoneFields) > 0 && call.ToNumber == "" {
		rep.Call = false
		rep.Reason = fmt.Sprintf("no valid phone number in %s (region %s)", strings.Join(t.PhoneFields, ", "), p.region)
	}
	return rep, nil
}

// pickPhone returns the first valid number among fields, in E.164, and
// the field it came from.
func (p *Program) pickPhone(contact map[string]any, fields []string) (number, field string) {
	for _, f := range fields {
		if e, err := E164(contact[f], p.region); err == nil && e != "" {
			return e, f
		}
	}
	return "", ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ParseRecord reads a record given as JSON: an object of field → value, a
// HubSpot CRM object {"id": "123", "properties": {…}}, or callgate's record
// shape {"object_id": "123", "fields": {…}}.
// Values keep their JSON types (text, number, bool; null is a missing
// field); text holding an RFC 3339 timestamp becomes a time. HubSpot sends
// every property as text: write numbers as JSON numbers to test numeric
// comparisons (the gateway types them from the property definitions).
func ParseRecord(data []byte) (objectID string, fields map[string]any, err error) {
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return "", nil, fmt.Errorf("record: want a JSON object of field → value: %w", err)
	}
	if raw == nil {
		return "", nil, errors.New("record: want a JSON object of field → value, got null")
	}
	if props, ok := raw["properties"].(map[string]any); ok {
		if _, hasID := raw["id"]; hasID {
			objectID = idString(raw["id"])
			raw = props
		}
	} else if fs, ok := raw["fields"].(map[string]any); ok {
		if _, hasID := raw["object_id"]; hasID {
			objectID = idString(raw["object_id"])
			raw = fs
		}
	}
	fields = make(map[string]any, len(raw))
	for k, v := range raw {
		if v == nil {
			continue
		}
		if s, ok := v.(string); ok && len(s) >= 20 && strings.Contains(s, "T") {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				v = t
			}
		}
		fields[k] = v
	}
	if objectID == "" {
		if id, ok := fields["hs_object_id"]; ok {
			objectID = idString(id)
		}
	}
	return objectID, fields, nil
}

// ParseEvent reads an event given as JSON: callgate's shape
// {"kind","type","object_type","object_id","property","value","account",
// "occurred_at","change_source","source_id","related_object_type",
// "related_object_id"} or a HubSpot webhook event (subscriptionType,
// objectId, propertyName, propertyValue, portalId, occurredAt in epoch ms,
// changeSource, sourceId, toObjectId); a JSON
// array (a whole HubSpot webhook body) gives its first event. Empty input
// is a creation event. A missing kind is taken from the type
// (contact.creation → created), else "created".
func ParseEvent(data []byte) (Event, error) {
	var ev Event
	if len(bytes.TrimSpace(data)) == 0 {
		ev.Kind = "created"
		return ev, nil
	}
	var raw map[string]any
	if trimmed := bytes.TrimSpace(data); trimmed[0] == '[' {
		var list []map[string]any
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return ev, fmt.Errorf("event: want a JSON object (or a HubSpot webhook array): %w", err)
		}
		if len(list) == 0 {
			return ev, errors.New("event: the array holds no event")
		}
		raw = list[0]
	} else if err := json.Unmarshal(trimmed, &raw); err != nil {
		return ev, fmt.Errorf("event: want a JSON object such as {\"kind\": \"created\"}: %w", err)
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := raw[k]; ok && v != nil {
				return idString(v)
			}
		}
		return ""
	}
	ev = Event{
		Type:       str("type", "subscriptionType", "eventType"),
		Kind:       str("kind"),
		ObjectType: str("object_type", "objectType"),
		ObjectID:   str("object_id", "objectId"),
		Property:   str("property", "propertyName"),
		Value:      str("value", "propertyValue"),
		Account:    str("account", "portalId"),
		// What made the change, and an association's other side.
		ChangeSource:      str("change_source", "changeSource"),
		SourceID:          str("source_id", "sourceId"),
		RelatedObjectType: str("related_object_type", "relatedObjectType"),
		RelatedObjectID:   str("related_object_id", "relatedObjectId", "toObjectId"),
	}
	if ev.ObjectType == "" && strings.Contains(ev.Type, ".") {
		ev.ObjectType, _, _ = strings.Cut(ev.Type, ".")
	}
	if ev.Kind == "" {
		ev.Kind = kindOf(ev.Type)
	}
	for _, k := range []string{"occurred_at", "occurredAt"} {
		if v, ok := raw[k]; ok && v != nil {
			t, _, err := AsTime(v, time.UTC)
			if err != nil {
				return ev, fmt.Errorf("event: %s: %w", k, err)
			}
			ev.OccurredAt = t.UTC()
			break
		}
	}
	return ev, nil
}

// kindOf maps an event type to its kind the way the HubSpot plugin does;
// no type means a creation.
func kindOf(typ string) string {
	if typ == "" {
		return "created"
	}
	_, action, _ := strings.Cut(typ, ".")
	switch action {
	case "creation":
		return "created"
	case "propertyChange":
		return "updated"
	case "deletion":
		return "deleted"
	case "privacyDeletion":
		return "erased"
	case "merge":
		return "merged"
	case "restore":
		return "restored"
	}
	return "other"
}

// idString writes an id that JSON may carry as text or as a number.
func idString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
