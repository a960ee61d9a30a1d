package leadsquared

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
)

var update = flag.Bool("update", false, "rewrite the .golden files")

// goldenCases are the payloads in testdata/webhooks with how they arrive.
var goldenCases = []struct {
	file, contentType, event string
	kind, typ                string
}{
	{"lead-creation.json", "application/json", "", sdk.KindCreated, TypeLeadCreation},
	{"lead-creation-nulls.json", "application/json; charset=utf-8", "", sdk.KindCreated, TypeLeadCreation},
	{"lead-update.json", "application/json", "", sdk.KindUpdated, TypeLeadUpdate},
	{"lead-stage-change.json", "application/json", "lead_stage_change", sdk.KindUpdated, TypeLeadStageChange},
	{"lead-array.json", "application/json", "3", sdk.KindCreated, TypeLeadCreation},
	{"lead-mx-fields.json", "", "", sdk.KindCreated, TypeLeadCreation},
	{"lead-api-spelling.json", "text/json", "", sdk.KindCreated, TypeLeadCreation},
	{"lead-creation.form", "application/x-www-form-urlencoded", "", sdk.KindCreated, TypeLeadCreation},
}

var received = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// TestParseWebhookGolden parses every golden payload and compares the
// events, inline records included, with the .golden file next to it
// (go test -run Golden -update rewrites them).
func TestParseWebhookGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			body := mustRead(t, filepath.Join("testdata/webhooks", tc.file))
			events, err := ParseWebhook(Webhook{ContentType: tc.contentType, Event: tc.event, Body: body, ReceivedAt: received})
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if len(events) != 1 {
				t.Fatalf("%d events, want 1", len(events))
			}
			ev := events[0]
			if ev.Kind != tc.kind || ev.Type != tc.typ || ev.ObjectType != "lead" || ev.Record == nil || ev.Record.ObjectID != ev.ObjectID {
				t.Errorf("event = %s/%s %s record %v; want %s/%s", ev.Type, ev.Kind, ev.ObjectType, ev.Record, tc.typ, tc.kind)
			}
			got, err := json.MarshalIndent(goldenView(events), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata/webhooks", tc.file+".golden")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want := mustRead(t, golden)
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("events differ from %s (run with -update after checking):\n%s", golden, got)
			}
		})
	}
}

// TestParseWebhookTypes checks the typing rules on the creation payload.
func TestParseWebhookTypes(t *testing.T) {
	events, err := ParseWebhook(Webhook{ContentType: "application/json", Body: mustRead(t, "testdata/webhooks/lead-mx-fields.json")})
	if err != nil {
		t.Fatal(err)
	}
	rec := events[0].Record
	for _, tt := range []struct {
		field string
		want  sdk.Value
	}{
		{"FirstName", sdk.StringValue("Asha")},
		{"DoNotCall", sdk.BoolValue(false)},
		{"Score", sdk.NumberValue(12.5)},
		{"mx_Budget", sdk.NumberValue(250000)},
		{"mx_Scholarship", sdk.BoolValue(true)},
		{"mx_Pincode", sdk.StringValue("600001")},
		{"mx_Callback_Time", sdk.TimeValue(time.Date(2026, 11, 28, 4, 30, 0, 0, time.UTC))},
		{"mx_KYC", sdk.StringValue(`{"Status":"Pending","mx_CustomObject_1":"XYZ12345.png"}`)},
		{"CreatedOn", sdk.TimeValue(time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC))},
	} {
		t.Run(tt.field, func(t *testing.T) {
			got := rec.Fields[tt.field]
			if got.Type != tt.want.Type || got.Any() != tt.want.Any() && !(got.Type == sdk.TypeTime && got.Time.Equal(tt.want.Time)) {
				t.Errorf("%s = %#v, want %#v", tt.field, got, tt.want)
			}
		})
	}
	if got := rec.Phones; len(got) != 1 || got[0] != "+91-9876543211" {
		t.Errorf("phones = %q", got)
	}
}

func TestParseWebhookKindsAndKeys(t *testing.T) {
	lead := func(created, modified string) []byte {
		return []byte(`{"ProspectID":"a311900c-0e56-4601-b580-f931645e7b32","Mobile":"+91-9876543210","ProspectStage":"Won"` +
			created + modified + `}`)
	}
	const c, m = `,"CreatedOn":"2026-11-27 06:30:12"`, `,"ModifiedOn":"2026-11-27 06:30:13"`
	const later = `,"ModifiedOn":"2026-11-27 08:00:00"`
	tests := []struct {
		name, event string
		body        []byte
		kind, typ   string
		key         string
		property    string
	}{
		{"same stamps is a creation", "", lead(c, m), sdk.KindCreated, TypeLeadCreation, "leadsquared:a311900c-0e56-4601-b580-f931645e7b32:2026-11-27T06:30:13Z:lead.creation", ""},
		{"no ModifiedOn is a creation", "", lead(c, ""), sdk.KindCreated, TypeLeadCreation, "leadsquared:a311900c-0e56-4601-b580-f931645e7b32:2026-11-27T06:30:12Z:lead.creation", ""},
		{"later ModifiedOn is an update", "", lead(c, later), sdk.KindUpdated, TypeLeadUpdate, "leadsquared:a311900c-0e56-4601-b580-f931645e7b32:2026-11-27T08:00:00Z:lead.update", ""},
		{"hint wins over stamps", "lead_update", lead(c, m), sdk.KindUpdated, TypeLeadUpdate, "leadsquared:a311900c-0e56-4601-b580-f931645e7b32:2026-11-27T06:30:13Z:lead.update", ""},
		{"numeric hint", "6", lead(c, m), sdk.KindUpdated, TypeLeadUpdate, "leadsquared:a311900c-0e56-4601-b580-f931645e7b32:2026-11-27T06:30:13Z:lead.update", ""},
		{"stage change names the stage", "Lead_Stage_Change", lead(c, later), sdk.KindUpdated, TypeLeadStageChange, "leadsquared:a311900c-0e56-4601-b580-f931645e7b32:2026-11-27T08:00:00Z:lead.stage_change", "Won"},
		{"no stamps hashes the body", "", lead("", ""), sdk.KindCreated, TypeLeadCreation, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := ParseWebhook(Webhook{ContentType: "application/json", Event: tt.event, Body: tt.body, ReceivedAt: received})
			if err != nil {
				t.Fatal(err)
			}
			ev := evs[0]
			if ev.Kind != tt.kind || ev.Type != tt.typ {
				t.Errorf("kind/type = %s/%s, want %s/%s", ev.Kind, ev.Type, tt.kind, tt.typ)
			}
			if tt.key != "" && ev.Key != tt.key {
				t.Errorf("key = %q, want %q", ev.Key, tt.key)
			}
			if tt.key == "" && (!strings.Contains(ev.Key, ":body-") || !ev.OccurredAt.Equal(received)) {
				t.Errorf("key %q / time %v: want a body hash and the receive time", ev.Key, ev.OccurredAt)
			}
			if tt.property != "" && (ev.Property != "ProspectStage" || ev.Value != tt.property) {
				t.Errorf("property = %s=%s, want ProspectStage=%s", ev.Property, ev.Value, tt.property)
			}
			again, _ := ParseWebhook(Webhook{ContentType: "application/json", Event: tt.event, Body: tt.body, ReceivedAt: received.Add(time.Hour)})
			if again[0].Key != ev.Key {
				t.Errorf("redelivery key %q != %q", again[0].Key, ev.Key)
			}
		})
	}
}

func TestParseWebhookRejects(t *testing.T) {
	tests := []struct {
		name, contentType, event, body, want string
	}{
		{"empty", "application/json", "", "", "empty"},
		{"text/plain", "text/plain", "", `{"ProspectID":"x"}`, `Content-Type "text/plain" is not supported`},
		{"xml", "application/xml", "", `<lead/>`, `"application/xml"`},
		{"bad media type", "application/json; =", "", `{}`, "unreadable Content-Type"},
		{"not json", "application/json", "", `{"ProspectID":`, "not valid JSON"},
		{"trailing data", "application/json", "", `{"ProspectID":"a"} {"x":1}`, "after the JSON value"},
		{"string", "application/json", "", `"lead"`, "JSON string"},
		{"empty array", "application/json", "", `[]`, "empty JSON array"},
		{"no id", "application/json", "", `{"FirstName":"A"}`, "no ProspectID"},
		{"null id", "application/json", "", `{"ProspectID":null}`, "no ProspectID"},
		{"id with colon", "application/json", "", `{"ProspectID":"a:b"}`, "not a LeadSquared lead id"},
		{"unknown hint", "application/json", "lead_delete", `{"ProspectID":"a"}`, "lsq_event"},
		{"bad form", "application/x-www-form-urlencoded", "", "ProspectID=%zz", "not a valid form"},
		{"form without id", "application/x-www-form-urlencoded", "", "FirstName=A", "no ProspectID"},
		{"too big", "application/json", "", `{"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, "bytes, over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWebhook(Webhook{ContentType: tt.contentType, Event: tt.event, Body: []byte(tt.body)})
			if sdk.ClassOf(err) != sdk.ClassBadRequest || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want bad_request containing %q", err, tt.want)
			}
		})
	}
}

// goldenView renders events for the .golden files: each field as
// "type value", so the files read like the payloads they come from.
func goldenView(events []sdk.Event) []map[string]any {
	out := make([]map[string]any, len(events))
	for i, ev := range events {
		fields := map[string]string{}
		for k, v := range ev.Record.Fields {
			switch v.Type {
			case sdk.TypeNull:
				fields[k] = "null"
			case sdk.TypeString:
				fields[k] = "string " + strconv.Quote(v.String)
			case sdk.TypeNumber:
				fields[k] = "number " + strconv.FormatFloat(v.Number, 'g', -1, 64)
			case sdk.TypeBool:
				fields[k] = "bool " + strconv.FormatBool(v.Bool)
			case sdk.TypeTime:
				fields[k] = "time " + v.Time.Format(time.RFC3339Nano)
			}
		}
		out[i] = map[string]any{
			"key": ev.Key, "type": ev.Type, "kind": ev.Kind, "object_type": ev.ObjectType, "object_id": ev.ObjectID,
			"occurred_at": ev.OccurredAt.Format(time.RFC3339Nano), "property": ev.Property, "value": ev.Value,
			"account": ev.Account, "record_id": ev.Record.ObjectID, "phones": ev.Record.Phones, "fields": fields,
		}
	}
	return out
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseWebhookArrayProblems: in an array, a lead without a ProspectID
// (or an element that is not an object) is kept as a problem event and the
// other leads are parsed as usual.
func TestParseWebhookArrayProblems(t *testing.T) {
	body := []byte(`[{"ProspectID":"a","FirstName":"Ada"},{"FirstName":"b"},1,null]`)
	events, err := ParseWebhook(Webhook{ContentType: "application/json", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 || events[0].Problem != "" || events[0].ObjectID != "a" {
		t.Fatalf("events %+v", events)
	}
	for i, want := range map[int]string{1: "lead 1: the lead has no ProspectID", 2: "element 2", 3: "element 3"} {
		if !strings.Contains(events[i].Problem, want) || events[i].Key == "" || events[i].ObjectID != "" {
			t.Errorf("event %d = %+v, want a problem saying %q", i, events[i], want)
		}
	}
	again, _ := ParseWebhook(Webhook{ContentType: "application/json", Body: body})
	if again[1].Key != events[1].Key {
		t.Errorf("problem key %q then %q", events[1].Key, again[1].Key)
	}
}
