package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

func TestContactsErase(t *testing.T) {
	s := newAdminServer(t)
	now := time.Now().UTC()
	c := s.addCall(t, "+919812345601", store.CallScheduled, now.Add(-time.Minute))
	out, errOut, code := s.callgate(t, "contacts", "erase", "--number", "098123 45601")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"canceled 1 call(s)", "erased 1 call(s)", "take a new backup"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	got, err := s.db.GetCall(context.Background(), c.ID)
	if err != nil || got.ToNumber != store.Erased || got.Status != store.CallCanceled {
		t.Errorf("call after erase: %+v %v", got, err)
	}
	out, errOut, code = s.callgate(t, "-o", "json", "contacts", "erase", "--contact", "hubspot:42")
	if code != 0 || !strings.Contains(out, `"erased"`) {
		t.Errorf("erase --contact json: exit %d %s %s", code, out, errOut)
	}
}

func TestContactsEraseFlags(t *testing.T) {
	s := newAdminServer(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", []string{"contacts", "erase"}, "--number or --contact is required"},
		{"both", []string{"contacts", "erase", "--number", "+919812345601", "--contact", "hubspot:1"}, "give one of them"},
		{"bad contact", []string{"contacts", "erase", "--contact", "hubspot"}, "use TYPE:ID"},
		{"integration with number", []string{"contacts", "erase", "--number", "+919812345601", "--integration", "hubspot"}, "go with --contact"},
		{"server refuses the type", []string{"contacts", "erase", "--contact", "salesforce:1"}, "contact_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := s.callgate(t, tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q, want %q", code, errOut, tt.want)
			}
		})
	}
}
