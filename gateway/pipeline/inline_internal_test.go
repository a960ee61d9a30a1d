package pipeline

import (
	"testing"

	"github.com/callgate/callgate/rules"
	"github.com/callgate/callgate/sdk"
)

// TestInlineSuffices: an inline record is used as it came when its plugin
// says inline records are whole or cannot fetch; otherwise only when it
// holds every field the rules read (null counts) and a phone.
func TestInlineSuffices(t *testing.T) {
	prog, err := rules.Compile(rules.Spec{When: "contact.lifecyclestage == 'lead'", Variables: map[string]string{"name": "contact.firstname ?? 'there'"}})
	if err != nil {
		t.Fatal(err)
	}
	fetching := sdk.Manifest{Capabilities: []string{sdk.CapabilityFetch}}
	whole := sdk.Manifest{Capabilities: []string{sdk.CapabilityInline, sdk.CapabilityFetch}}
	noFetch := sdk.Manifest{}
	phones := []string{"mobilephone", "phone"}
	rec := func(fields map[string]sdk.Value) *sdk.Record { return &sdk.Record{Fields: fields} }
	full := map[string]sdk.Value{"firstname": sdk.StringValue("Ada"), "lifecyclestage": sdk.StringValue("lead"), "phone": sdk.StringValue("+14155550123")}
	tests := []struct {
		name   string
		rec    *sdk.Record
		m      sdk.Manifest
		phones []string
		want   bool
	}{
		{"every field and a phone", rec(full), fetching, phones, true},
		{"a field carried empty", rec(map[string]sdk.Value{"firstname": {}, "lifecyclestage": sdk.StringValue("lead"), "phone": sdk.StringValue("1")}), fetching, phones, true},
		{"a rule field missing", rec(map[string]sdk.Value{"lifecyclestage": sdk.StringValue("lead"), "phone": sdk.StringValue("1")}), fetching, phones, false},
		{"no phone field at all", rec(map[string]sdk.Value{"firstname": {}, "lifecyclestage": {}}), fetching, phones, false},
		{"phones carried empty", rec(map[string]sdk.Value{"firstname": {}, "lifecyclestage": {}, "phone": {}, "mobilephone": {}}), fetching, phones, true},
		{"only a record phone, no phone fields", &sdk.Record{Fields: map[string]sdk.Value{"firstname": {}, "lifecyclestage": {}}, Phones: []string{"+1"}}, fetching, nil, true},
		{"whole inline records (LeadSquared)", rec(map[string]sdk.Value{}), whole, phones, true},
		{"a plugin that cannot fetch", rec(map[string]sdk.Value{}), noFetch, phones, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := inlineSuffices(tc.rec, tc.m, prog, tc.phones); got != tc.want {
				t.Fatalf("inlineSuffices = %v, want %v", got, tc.want)
			}
		})
	}
}
