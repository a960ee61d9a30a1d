package leadsquared

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// Event types the plugin reports in sdk.Event.Type.
const (
	TypeLeadCreation    = "lead.creation"
	TypeLeadUpdate      = "lead.update"
	TypeLeadStageChange = "lead.stage_change"
)

// EventTypes are the event types the plugin emits.
var EventTypes = []string{TypeLeadCreation, TypeLeadUpdate, TypeLeadStageChange}

// EventParam is the optional webhook URL query parameter that names the
// LeadSquared event a webhook is configured for (lead_create, lead_update,
// lead_stage_change, or LeadSquared's event numbers 3, 6, 5). LeadSquared
// does not say which event fired, so without it the kind is inferred from
// the lead's timestamps (see ParseWebhook).
const EventParam = "lsq_event"

// ObjectType is the object type of every LeadSquared event and record.
const ObjectType = "lead"

// MaxBodyBytes bounds a webhook body: one lead is a few KiB.
const MaxBodyBytes = 4 << 20

// createdSlack is how far apart CreatedOn and ModifiedOn may be for a lead
// to count as just created: LeadSquared stamps both on creation, and
// automations that run at creation may move ModifiedOn by a moment.
const createdSlack = 2 * time.Second

// eventHints maps EventParam values to event types.
var eventHints = map[string]string{
	"lead_create": TypeLeadCreation, "lead_creation": TypeLeadCreation, "create": TypeLeadCreation, "created": TypeLeadCreation, "3": TypeLeadCreation,
	"lead_update": TypeLeadUpdate, "update": TypeLeadUpdate, "updated": TypeLeadUpdate, "6": TypeLeadUpdate,
	"lead_stage_change": TypeLeadStageChange, "stage_change": TypeLeadStageChange, "5": TypeLeadStageChange,
}

// Webhook is one LeadSquared webhook delivery, as the plugin reads it.
type Webhook struct {
	// ContentType is the request's Content-Type header ("" = sniff the body).
	ContentType string
	// Event is the EventParam value from the webhook URL ("" = infer).
	Event string
	Body  []byte
	// ReceivedAt stands in for the event time of a lead without timestamps.
	ReceivedAt time.Time
}

// ParseWebhook parses a LeadSquared webhook body into one event per lead,
// each carrying the lead inline as its Record.
//
// Bodies: a flat JSON object (what LeadSquared posts), a JSON array of such
// objects, or an application/x-www-form-urlencoded form of the same
// fields. Every lead needs a ProspectID: a single lead without one is an
// sdk.ClassBadRequest error, while in an array such a lead (or an element
// that is not an object) becomes an event with Problem set and the other
// leads are kept. Another content type, or a body that is none of these, is
// an sdk.ClassBadRequest error.
//
// Kind: the EventParam hint decides when present. Otherwise a lead whose
// ModifiedOn is absent or within 2 s of its CreatedOn is "created" (Lead
// Creation), any other lead "updated" (Lead Update). Stage changes are only
// told apart by the hint; they are "updated" with Property ProspectStage.
//
// Dedupe key: ProspectID, the modification time and the event type, so a
// redelivery collapses and every real change is new. A lead with no
// timestamp at all falls back to a hash of the body.
func ParseWebhook(w Webhook) ([]sdk.Event, error) {
	hint := ""
	if w.Event != "" {
		var ok bool
		if hint, ok = eventHints[strings.ToLower(strings.TrimSpace(w.Event))]; !ok {
			return nil, sdk.BadRequest("leadsquared: %s=%q is not a known event; use lead_create, lead_update or lead_stage_change", EventParam, truncate(w.Event, 40))
		}
	}
	if len(w.Body) > MaxBodyBytes {
		return nil, sdk.BadRequest("leadsquared: webhook body is %d bytes, over the %d a lead can need", len(w.Body), MaxBodyBytes)
	}
	leads, err := decodeBody(w.ContentType, w.Body)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(w.Body)
	bodyHash := hex.EncodeToString(sum[:8])
	events := make([]sdk.Event, 0, len(leads))
	for i, lead := range leads {
		if lead == nil {
			events = append(events, problemEvent(bodyHash, i, fmt.Sprintf("leadsquared: element %d of the webhook array is not a lead object", i)))
			continue
		}
		ev, err := toEvent(lead, hint, bodyHash, w.ReceivedAt)
		if err != nil {
			if len(leads) == 1 {
				return nil, sdk.BadRequest("leadsquared: %v", err)
			}
			// One unusable lead of an array must not cost the others: it is
			// kept (the host stores it failed with the reason).
			events = append(events, problemEvent(bodyHash, i, fmt.Sprintf("leadsquared: lead %d: %v", i, err)))
			continue
		}
		events = append(events, ev)
	}
	return events, nil
}

// problemEvent is a lead of an array the plugin cannot use; its key is the
// body's hash and the lead's place, stable across redeliveries.
func problemEvent(bodyHash string, i int, problem string) sdk.Event {
	return sdk.Event{Key: fmt.Sprintf("leadsquared:problem:%s:%d", bodyHash, i), Kind: sdk.KindOther, ObjectType: ObjectType, Problem: problem}
}

// decodeBody returns the leads of a body as raw field maps.
func decodeBody(contentType string, body []byte) ([]map[string]any, error) {
	mt := ""
	if strings.TrimSpace(contentType) != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, sdk.BadRequest("leadsquared: unreadable Content-Type %q; set the webhook's content type to application/json", truncate(contentType, 60))
		}
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(body)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return decodeForm(trimmed)
	case mt == "", mt == "application/json", mt == "text/json", strings.HasSuffix(mt, "+json"):
		if len(trimmed) == 0 {
			return nil, sdk.BadRequest("leadsquared: webhook body is empty; LeadSquared posts the lead as a JSON object")
		}
		if mt == "" && trimmed[0] != '{' && trimmed[0] != '[' {
			return decodeForm(trimmed)
		}
		return decodeJSON(trimmed)
	}
	return nil, sdk.BadRequest("leadsquared: Content-Type %q is not supported; set the webhook's content type to application/json (or application/x-www-form-urlencoded)", mt)
}

func decodeJSON(body []byte) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, sdk.BadRequest("leadsquared: webhook body is not valid JSON: %v", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, sdk.BadRequest("leadsquared: webhook body has data after the JSON value")
	}
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, sdk.BadRequest("leadsquared: webhook body is an empty JSON array; LeadSquared posts one lead object")
		}
		// An element that is not an object stays nil: ParseWebhook keeps it
		// as a problem event instead of refusing the other leads.
		leads := make([]map[string]any, len(v))
		for i, e := range v {
			if m, ok := e.(map[string]any); ok && m != nil {
				leads[i] = m
			}
		}
		return leads, nil
	}
	return nil, sdk.BadRequest("leadsquared: webhook body is a JSON %s; LeadSquared posts the lead as a JSON object", jsonKind(v))
}

func decodeForm(body []byte) ([]map[string]any, error) {
	if len(body) == 0 {
		return nil, sdk.BadRequest("leadsquared: webhook form body is empty")
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, sdk.BadRequest("leadsquared: webhook body is not a valid form (%v); set the webhook's content type to application/json", err)
	}
	lead := make(map[string]any, len(vals))
	for k, vs := range vals {
		if k != "" && len(vs) > 0 {
			lead[k] = vs[0]
		}
	}
	return []map[string]any{lead}, nil
}

// toEvent builds the event and inline record of one lead.
func toEvent(lead map[string]any, hint, bodyHash string, receivedAt time.Time) (sdk.Event, error) {
	rec := toRecord(lead)
	if rec.ObjectID == "" {
		return sdk.Event{}, fmt.Errorf("the lead has no ProspectID; LeadSquared sends it with every lead webhook")
	}
	if len(rec.ObjectID) > 100 || strings.ContainsAny(rec.ObjectID, ":\x00\n") {
		return sdk.Event{}, fmt.Errorf("ProspectID %q is not a LeadSquared lead id", truncate(rec.ObjectID, 40))
	}
	created, hasCreated := timeField(rec, "CreatedOn")
	modified, hasModified := timeField(rec, "ModifiedOn")
	typ := hint
	if typ == "" {
		typ = TypeLeadUpdate
		if !hasModified || (hasCreated && absDuration(modified.Sub(created)) <= createdSlack) {
			typ = TypeLeadCreation
		}
	}
	ev := sdk.Event{Type: typ, Kind: sdk.KindUpdated, ObjectType: ObjectType, ObjectID: rec.ObjectID, Record: &rec}
	if typ == TypeLeadCreation {
		ev.Kind = sdk.KindCreated
	}
	stamp := ""
	switch {
	case hasModified:
		ev.OccurredAt, stamp = modified, modified.Format(time.RFC3339Nano)
	case hasCreated:
		ev.OccurredAt, stamp = created, created.Format(time.RFC3339Nano)
	default:
		ev.OccurredAt, stamp = receivedAt.UTC(), "body-"+bodyHash
	}
	if typ == TypeLeadStageChange {
		ev.Property = "ProspectStage"
		if v := rec.Fields["ProspectStage"]; v.Type == sdk.TypeString {
			ev.Value = v.String
		}
	}
	ev.Key = "leadsquared:" + rec.ObjectID + ":" + stamp + ":" + typ
	return ev, nil
}

// toRecord types a lead's fields; ObjectID is its ProspectID and Phones
// are its Mobile and Phone, in that order, when set.
func toRecord(lead map[string]any) sdk.Record {
	rec := sdk.Record{Fields: make(map[string]sdk.Value, len(lead))}
	// Keys spelled canonically win over other spellings of the same field
	// ("ProspectID" over "prospectid"); the rest go in sorted order, so the
	// record never depends on map order.
	keys := slices.Sorted(maps.Keys(lead))
	for _, exact := range []bool{true, false} {
		for _, k := range keys {
			name := canonical(strings.TrimSpace(k))
			if name == "" || (name == k) != exact {
				continue
			}
			if _, dup := rec.Fields[name]; dup {
				continue
			}
			rec.Fields[name] = fieldValue(name, lead[k])
		}
	}
	rec.ObjectID = strings.TrimSpace(rec.Fields["ProspectID"].Text())
	for _, f := range []string{"Mobile", "Phone"} {
		if p := strings.TrimSpace(rec.Fields[f].Text()); p != "" {
			rec.Phones = append(rec.Phones, p)
		}
	}
	return rec
}

func timeField(rec sdk.Record, name string) (time.Time, bool) {
	v := rec.Fields[name]
	return v.Time, v.Type == sdk.TypeTime
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "value"
}

// jsonProblem keeps encoding/json's message without Go type names.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the JSON ends too early"
	}
	return err.Error()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
