package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// salesIntro is the agent docs/rules.md walks through.
func salesIntro(t *testing.T) Spec {
	return Spec{
		When: "event.kind == 'created' && contact.hs_lead_status in ['NEW', 'OPEN']",
		Variables: map[string]string{
			"firstname": "title(contact.firstname) ?? 'there'",
			"company":   "contact.company",
			"greeting":  "now.Hour() < 12 ? 'Good morning' : now.Hour() < 17 ? 'Good afternoon' : 'Good evening'",
			"signed_up": "format_date(contact.createdate, '2 January')",
		},
		Required: []string{"firstname"},
		Location: kolkata(t),
	}
}

func TestTryHubSpotContact(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 31, 0, 0, time.UTC) // 9:01 in Kolkata
	tests := []struct {
		name  string
		event string
		want  Report
	}{
		{"creation webhook", "contact_creation.json", Report{
			Call: true, WhenResult: true,
			Variables: map[string]string{"firstname": "Priya", "company": "Sharma Textiles",
				"greeting": "Good morning", "signed_up": "27 November"},
			Event: Event{Type: "contact.creation", Kind: "created", ObjectType: "contact", ObjectID: "512",
				Account: "62515", OccurredAt: time.Date(2026, 11, 27, 3, 30, 17, 883e6, time.UTC), ChangeSource: "CRM"},
		}},
		{"property change", "property_change.json", Report{
			Reason: `when rule "event.kind == 'created' && contact.hs_lead_status in ['NEW', 'OPEN']" was false`,
			Variables: map[string]string{"firstname": "Priya", "company": "Sharma Textiles",
				"greeting": "Good morning", "signed_up": "27 November"},
			Event: Event{Type: "contact.propertyChange", Kind: "updated", ObjectType: "contact", ObjectID: "512",
				Property: "hs_lead_status", Value: "OPEN", Account: "62515", ChangeSource: "CRM",
				OccurredAt: time.Date(2026, 11, 27, 3, 31, 2, 114e6, time.UTC)},
		}},
		{"no event file", "", Report{
			Call: true, WhenResult: true,
			Variables: map[string]string{"firstname": "Priya", "company": "Sharma Textiles",
				"greeting": "Good morning", "signed_up": "27 November"},
			Event: Event{Kind: "created", ObjectID: "512"},
		}},
	}
	spec := salesIntro(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev []byte
			if tt.event != "" {
				ev = readTestdata(t, tt.event)
			}
			got, err := Try(spec, Trial{Record: readTestdata(t, "hubspot_contact.json"), Event: ev, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			tt.want.When = spec.When
			tt.want.ObjectID = "512"
			tt.want.Fields = []string{"company", "createdate", "firstname", "hs_lead_status"}
			tt.want.MissingFields = []string{}
			tt.want.MissingRequired = []string{}
			tt.want.Timezone = "Asia/Kolkata"
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTryReportJSON(t *testing.T) {
	rep, err := Try(salesIntro(t), Trial{Record: []byte(`{"hs_lead_status": "NEW"}`),
		Now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"call":true,"when":"event.kind == 'created' \u0026\u0026 contact.hs_lead_status in ['NEW', 'OPEN']",` +
		`"when_result":true,"variables":{"firstname":"there","greeting":"Good evening"},` +
		`"missing_fields":["company","createdate","firstname"],"missing_required":[],` +
		`"fields":["company","createdate","firstname","hs_lead_status"],` +
		`"event":{"kind":"created"},` +
		`"timezone":"Asia/Kolkata"}`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
}

func TestTryPhoneAndCalleeZone(t *testing.T) {
	spec := Spec{When: "call.to_number != ''", Variables: map[string]string{
		"local": "format_date(now, '15:04 MST')", "tz": "call.timezone"}, Location: kolkata(t)}
	now := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		record     string
		callee     bool
		wantCall   bool
		wantReason string
		wantNumber string
		wantField  string
		wantZone   string
		wantLocal  string
	}{
		{"mobile first", `{"mobilephone":"98765 43210","phone":"+1 415 555 0123"}`, false,
			true, "", "+919876543210", "mobilephone", "Asia/Kolkata", "19:30 IST"},
		{"invalid mobile falls back to phone", `{"mobilephone":"12","phone":"+1 415 555 0123"}`, false,
			true, "", "+14155550123", "phone", "Asia/Kolkata", "19:30 IST"},
		{"callee timezone", `{"phone":"+1 415 555 0123"}`, true,
			true, "", "+14155550123", "phone", "America/Los_Angeles", "06:00 PST"},
		{"no valid phone", `{"mobilephone":"n/a"}`, false,
			false, "no valid phone number in mobilephone, phone (region IN)", "", "", "Asia/Kolkata", "19:30 IST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Try(spec, Trial{Record: []byte(tt.record), Now: now,
				PhoneFields: []string{"mobilephone", "phone"}, TimezoneSetting: setting(tt.callee)})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Call != tt.wantCall || rep.Reason != tt.wantReason || rep.ToNumber != tt.wantNumber ||
				rep.PhoneField != tt.wantField || rep.Timezone != tt.wantZone || rep.Variables["local"] != tt.wantLocal {
				t.Errorf("report %+v", rep)
			}
		})
	}
}

func TestTryErrors(t *testing.T) {
	tests := []struct {
		name  string
		spec  Spec
		trial Trial
		want  string
	}{
		{"compile error", Spec{When: "event.kind =="}, Trial{Record: []byte(`{}`)}, "when: 1:13: unexpected token EOF"},
		{"record not JSON", Spec{}, Trial{Record: []byte(`firstname=ada`)}, "record: want a JSON object"},
		{"record is a list", Spec{}, Trial{Record: []byte(`[{"a":1}]`)}, "record: want a JSON object"},
		{"record null", Spec{}, Trial{Record: []byte(`null`)}, "got null"},
		{"event not JSON", Spec{}, Trial{Record: []byte(`{}`), Event: []byte(`kind=created`)}, "event: want a JSON object"},
		{"event empty list", Spec{}, Trial{Record: []byte(`{}`), Event: []byte(`[]`)}, "holds no event"},
		{"event bad time", Spec{}, Trial{Record: []byte(`{}`), Event: []byte(`{"occurred_at":"soon"}`)}, "event: occurred_at"},
		{"bad call timezone", Spec{}, Trial{Record: []byte(`{}`), Call: Call{Timezone: "Moon/Base"}}, "unknown timezone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Try(tt.spec, tt.trial)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTryWhenError(t *testing.T) {
	rep, err := Try(Spec{When: "contact.amount > 1000", Variables: map[string]string{"a": "contact.amount"}},
		Trial{Record: []byte(`{"amount": "2500"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Call || rep.WhenResult || !strings.Contains(rep.WhenError, "failed") || rep.Reason != rep.WhenError {
		t.Errorf("report = %+v, want a failed when rule as the reason", rep)
	}
	if rep.Variables["a"] != "2500" {
		t.Errorf("variables = %v, want them evaluated anyway", rep.Variables)
	}
	want := `when rule "contact.amount > 1000" failed: invalid operation: string > int (1:16)`
	if rep.WhenError != want {
		t.Errorf("when error = %q, want %q (one line, with the position)", rep.WhenError, want)
	}
}

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		wantID string
		want   map[string]any
	}{
		{"plain", `{"firstname":"Ada","amount":2500,"vip":true,"phone":null,"tags":["a"]}`, "",
			map[string]any{"firstname": "Ada", "amount": 2500.0, "vip": true, "tags": []any{"a"}}},
		{"timestamps become times", `{"createdate":"2026-11-27T03:30:17.883Z","day":"2026-11-27"}`, "",
			map[string]any{"createdate": time.Date(2026, 11, 27, 3, 30, 17, 883e6, time.UTC), "day": "2026-11-27"}},
		{"hubspot object", `{"id":"512","properties":{"firstname":"Ada","phone":null},"archived":false}`, "512",
			map[string]any{"firstname": "Ada"}},
		{"callgate record", `{"object_id":"9","fields":{"firstname":"Ada","amount":1}}`, "9",
			map[string]any{"firstname": "Ada", "amount": 1.0}},
		{"numeric id", `{"id":65059681032,"properties":{}}`, "65059681032", map[string]any{}},
		{"a field named properties", `{"properties":{"x":1},"name":"n"}`, "",
			map[string]any{"properties": map[string]any{"x": 1.0}, "name": "n"}},
		{"hs_object_id names the record", `{"hs_object_id":"77"}`, "77", map[string]any{"hs_object_id": "77"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, got, err := ParseRecord([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if id != tt.wantID || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q %#v, want %q %#v", id, got, tt.wantID, tt.want)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		in   string
		want Event
	}{
		{``, Event{Kind: "created"}},
		{`{}`, Event{Kind: "created"}},
		{`{"kind":"updated","property":"hs_lead_status","value":"OPEN"}`,
			Event{Kind: "updated", Property: "hs_lead_status", Value: "OPEN"}},
		{`{"type":"contact.deletion"}`, Event{Type: "contact.deletion", Kind: "deleted", ObjectType: "contact"}},
		{`{"type":"contact.merge"}`, Event{Type: "contact.merge", Kind: "merged", ObjectType: "contact"}},
		{`{"type":"contact.restore"}`, Event{Type: "contact.restore", Kind: "restored", ObjectType: "contact"}},
		{`{"type":"deal.something"}`, Event{Type: "deal.something", Kind: "other", ObjectType: "deal"}},
		{`{"type":"object.creation","occurred_at":"2026-11-27T09:00:00+05:30"}`,
			Event{Type: "object.creation", Kind: "created", ObjectType: "object", OccurredAt: time.Date(2026, 11, 27, 3, 30, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func setting(callee bool) string {
	if callee {
		return "callee"
	}
	return ""
}

// TestTryTimezoneSettings: the dry run resolves "callee" and "contact" with
// the pipeline's rule, falling back to the rules' zone with a note.
func TestTryTimezoneSettings(t *testing.T) {
	spec := Spec{When: "true", Variables: map[string]string{"tz": "call.timezone"}, Location: kolkata(t)}
	tests := []struct {
		name, record, setting, contactTZ, wantZone, wantNote string
	}{
		{"callee indian number", `{"phone":"+91 98765 43210"}`, "callee", "", "Asia/Kolkata", ""},
		{"callee toll free falls back", `{"phone":"+1 800 555 1234"}`, "callee", "", "Asia/Kolkata", "several timezones"},
		{"contact zone", `{"phone":"+91 98765 43210"}`, "contact", "America/New_York", "America/New_York", ""},
		{"contact without zone", `{"phone":"+91 98765 43210"}`, "contact", "", "Asia/Kolkata", "the record has no timezone"},
		{"contact unknown zone", `{"phone":"+91 98765 43210"}`, "contact", "Nowhere/Town", "Asia/Kolkata", "is not an IANA name"},
		{"agent zone", `{"phone":"+1 800 555 1234"}`, "", "", "Asia/Kolkata", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Try(spec, Trial{Record: []byte(tt.record), PhoneFields: []string{"phone"},
				TimezoneSetting: tt.setting, ContactTimezone: tt.contactTZ})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Timezone != tt.wantZone || rep.Variables["tz"] != tt.wantZone && tt.setting != "" ||
				(tt.wantNote == "") != (rep.TimezoneNote == "") || !strings.Contains(rep.TimezoneNote, tt.wantNote) {
				t.Errorf("timezone %q (call.timezone %q), note %q; want %q, note with %q", rep.Timezone, rep.Variables["tz"], rep.TimezoneNote, tt.wantZone, tt.wantNote)
			}
		})
	}
}

// TestTryChangeSourceAndAssociation: the dry run reads change_source,
// source_id and an association's other side in callgate's and HubSpot's
// spellings, so an import filter or an association rule can be tried.
func TestTryChangeSourceAndAssociation(t *testing.T) {
	imports := Spec{When: "event.kind == 'created' && event.change_source != 'IMPORT'"}
	assoc := Spec{When: "event.type == 'object.associationChange' && event.related_object_type == 'company' && event.related_object_id == '18440015001'"}
	tests := []struct {
		name  string
		spec  Spec
		event string
		call  bool
	}{
		{"import, callgate shape", imports, `{"kind":"created","change_source":"IMPORT","source_id":"userId:7"}`, false},
		{"import, HubSpot shape", imports, `[{"subscriptionType":"contact.creation","objectId":1,"changeSource":"IMPORT","sourceId":"userId:7"}]`, false},
		{"typed in", imports, `{"subscriptionType":"contact.creation","objectId":1,"changeSource":"CRM_UI"}`, true},
		{"association", assoc, `{"type":"object.associationChange","kind":"other","related_object_type":"company","related_object_id":"18440015001"}`, true},
		{"association, HubSpot shape", assoc, `{"subscriptionType":"object.associationChange","fromObjectId":1,"toObjectId":18440015001,"relatedObjectType":"company"}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Try(tc.spec, Trial{Record: []byte(`{"firstname":"A"}`), Event: []byte(tc.event)})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Call != tc.call {
				t.Fatalf("call = %v (%s), want %v; event %+v", rep.Call, rep.Reason, tc.call, rep.Event)
			}
		})
	}
	ev, err := ParseEvent([]byte(`{"subscriptionType":"contact.associationChange","changeSource":"CRM_UI","sourceId":"userId:9","toObjectId":5}`))
	if err != nil || ev.Kind != "other" || ev.ChangeSource != "CRM_UI" || ev.SourceID != "userId:9" || ev.RelatedObjectID != "5" {
		t.Fatalf("ParseEvent = %+v, %v", ev, err)
	}
}
