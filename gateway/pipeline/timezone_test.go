package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/store"
)

// TestCallTimezone: the pipeline resolves each call's zone with the one
// rule, from the number or the record (hs_timezone), and a fallback is
// noted on the call's policy and in the event's reason.
func TestCallTimezone(t *testing.T) {
	e := newEnvWith(t, "", `
agent "by-number" {
  dialer   = "voice"
  timezone = "callee"
}
agent "by-record" {
  dialer   = "voice"
  timezone = "contact"
}
agent "chicago" {
  dialer   = "voice"
  timezone = "America/Chicago"
}
`, nil)
	e.hs.AddContact("1", map[string]any{"phone": "+1 800 555 1234"})
	e.hs.AddContact("2", map[string]any{"phone": "+91 98765 43210"})
	e.hs.AddContact("3", map[string]any{"phone": "+44 20 7123 4567", "hs_timezone": "America/New_York"})
	e.hs.AddContact("4", map[string]any{"phone": "+44 20 7123 4568", "hs_timezone": "mars_slash_olympus"})
	override := event("chicago", "created", "1")
	override.Overrides = []byte(`{"timezone":"callee"}`)
	tests := []struct {
		name     string
		ev       store.Event
		zone     string
		note     string // "" means none
		inReason bool
	}{
		{"toll free on a callee agent", event("by-number", "created", "1"), "Asia/Kolkata", "called in the server's default timezone Asia/Kolkata", true},
		{"indian number", event("by-number", "created", "2"), "Asia/Kolkata", "", false},
		{"record zone", event("by-record", "created", "3"), "America/New_York", "", false},
		{"record zone unknown", event("by-record", "created", "4"), "Asia/Kolkata", `contact: the record's timezone "Mars/Olympus" is not an IANA name`, true},
		{"record without zone", event("by-record", "created", "2"), "Asia/Kolkata", "contact: the record has no timezone", true},
		{"timezone=callee on an agent with a zone", override, "America/Chicago", "called in the agent's timezone America/Chicago", true},
	}
	var ids []string
	for _, tc := range tests {
		ids = append(ids, e.add(t, tc.ev)[0].ID)
	}
	e.run(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := e.get(t, ids[i])
			if ev.Status != store.EventCalled {
				t.Fatalf("event %s: %s", ev.Status, ev.Reason)
			}
			c, err := e.db.GetCall(context.Background(), ev.CallID)
			if err != nil {
				t.Fatal(err)
			}
			p := c.Policy
			if p.Timezone != tc.zone || (tc.note == "") != (p.TimezoneNote == "") || !strings.Contains(p.TimezoneNote, tc.note) {
				t.Fatalf("policy timezone %q note %q; want %q with %q", p.Timezone, p.TimezoneNote, tc.zone, tc.note)
			}
			if tc.inReason != strings.Contains(ev.Reason, "(timezone "+p.TimezoneNote+")") {
				t.Fatalf("event reason %q (note %q)", ev.Reason, p.TimezoneNote)
			}
		})
	}
}
