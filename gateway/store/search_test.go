package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// inNormalize reads numbers as Indian ones, as callee.Normalize does with
// region IN, for the shapes these tests use.
func inNormalize(s string) (string, error) {
	d := digitsOf(s)
	switch {
	case strings.HasPrefix(strings.TrimSpace(s), "+"):
		return "+" + d, nil
	case len(d) == 11 && d[0] == '0':
		return "+91" + d[1:], nil
	case len(d) == 10:
		return "+91" + d, nil
	}
	return "", fmt.Errorf("%q is not a number", s)
}

func TestSearchMatchCall(t *testing.T) {
	c := Call{ID: "01JCALL", AgentID: "sales", ToNumber: "+919812345678",
		Variables: map[string]string{"firstname": "Asha", "lastname": "Rao"},
		Fields:    map[string]any{"email": "asha.rao@example.com", "amount": 12.5},
		Source:    Source{Type: "hubspot", ObjectID: "123"}}
	tests := []struct {
		q    string
		want bool
	}{
		{"123", true},                  // contact id
		{"12", false},                  // part of a contact id is not it
		{"+91 98123 45678", true},      // the number, international
		{"098123 45678", true},         // the number, national
		{"98123-45679", false},         // another number
		{"asha", true},                 // a name, any case
		{"RAO", true},                  // the last name
		{"asha.rao@example.com", true}, // the email
		{"example.org", false},         // another domain
		{"01jcall", true},              // the call's id
		{"12.5", false},                // numbers in fields are not text
		{"", true},                     // no search
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			s := NewSearch(tt.q, inNormalize)
			if got := s.MatchCall(&c); got != tt.want {
				t.Errorf("MatchCall(%q) = %v, want %v (search %+v)", tt.q, got, tt.want, s)
			}
		})
	}
	erased := c
	erased.ToNumber, erased.Variables = Erased, map[string]string{"firstname": Erased}
	erased.Fields = map[string]any{"email": Erased}
	for _, q := range []string{"+919812345678", "asha", "erased"} {
		if NewSearch(q, inNormalize).MatchCall(&erased) {
			t.Errorf("an erased call matched %q", q)
		}
	}
}

func TestSearchMatchEvent(t *testing.T) {
	rec, _ := json.Marshal(map[string]any{"ObjectID": "77", "Fields": map[string]any{"email": map[string]any{"String": "ravi@example.com"}},
		"Phones": []string{"098765 43210"}})
	ev := Event{ID: "01JEV", ObjectID: "77", RelatedObjectID: "900", Record: rec, Property: "firstname", Value: "Ravi"}
	call := Call{ToNumber: "+919811111111", Variables: map[string]string{"firstname": "Meera"}}
	tests := []struct {
		q    string
		call *Call
		want bool
	}{
		{"77", nil, true},
		{"900", nil, true},             // the association's other side
		{"ravi@example", nil, true},    // in the inline record
		{"+919876543210", nil, true},   // the record's phone, national form stored
		{"ravi", nil, true},            // the property value
		{"+919811111111", nil, false},  // no call: not this event
		{"+919811111111", &call, true}, // the call it became has the number
		{"meera", &call, true},         // and the name
		{"someone else", &call, false},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := NewSearch(tt.q, inNormalize).MatchEvent(&ev, tt.call); got != tt.want {
				t.Errorf("MatchEvent(%q) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	now := t0
	erased := ev
	erased.Record, erased.Value, erased.ErasedAt = json.RawMessage(`"`+Erased+`"`), Erased, &now
	if NewSearch("ravi", inNormalize).MatchEvent(&erased, nil) {
		t.Error("an erased event matched by name")
	}
	if !NewSearch("77", inNormalize).MatchEvent(&erased, nil) {
		t.Error("an erased event is still found by its object id")
	}
}

func TestWho(t *testing.T) {
	tests := []struct {
		name string
		c    Call
		want string
	}{
		{"first and last", Call{Variables: map[string]string{"firstname": "Asha", "LastName": "Rao"}}, "Asha Rao"},
		{"from fields", Call{Fields: map[string]any{"first_name": "Ravi"}}, "Ravi"},
		{"whole name", Call{Variables: map[string]string{"name": "Meera K"}}, "Meera K"},
		{"email", Call{Fields: map[string]any{"email": "a@example.com"}}, "a@example.com"},
		{"crm object", Call{Source: Source{Type: "hubspot", ObjectID: "123"}}, "hubspot contact 123"},
		{"lead", Call{Source: Source{Type: "leadsquared", ObjectType: "lead", ObjectID: "L1"}}, "leadsquared lead L1"},
		{"erased", Call{Variables: map[string]string{"firstname": Erased}}, ""},
		{"nothing", Call{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Who(); got != tt.want {
				t.Errorf("Who() = %q, want %q", got, tt.want)
			}
		})
	}
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
