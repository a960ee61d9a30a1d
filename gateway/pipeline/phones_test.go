package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// noPhoneFields is the LeadSquared plugin with no PhoneFields in its
// manifest.
type noPhoneFields struct{ sdk.CRM }

func (n noPhoneFields) Describe(ctx context.Context) (sdk.Manifest, error) {
	m, err := n.CRM.Describe(ctx)
	m.Name, m.PhoneFields = "bare", nil
	return m, err
}

// The number comes from the agent's phone_fields, else the plugin's
// manifest's PhoneFields, else the record's Phones.
func TestPhoneFieldsResolution(t *testing.T) {
	e := newEnvWith(t, "", `
integration "lsq" {
  type       = "leadsquared"
  access_key = "k"
  secret_key = "s"
}
integration "bare" {
  type       = "bare"
  access_key = "k"
  secret_key = "s"
}
agent "lsq-default" {
  dialer       = "voice"
  integrations = ["lsq"]
}
agent "lsq-own" {
  dialer       = "voice"
  integrations = ["lsq"]
  phone_fields = ["mx_Alt"]
}
agent "bare" {
  dialer       = "voice"
  integrations = ["bare"]
}
`, plugins{"leadsquared": sdktest.Serve(t, leadsquared.New()), "bare": sdktest.Serve(t, noPhoneFields{leadsquared.New()})})
	full := map[string]sdk.Value{
		"Phone": sdk.StringValue("+91-9876500001"), "Mobile": sdk.StringValue("+91-9876500002"), "mx_Alt": sdk.StringValue("+91-9876500004"),
	}
	noAlt := map[string]sdk.Value{"Phone": sdk.StringValue("+91-9876500001")}
	tests := []struct {
		name, agent, typ, integration string
		fields                        map[string]sdk.Value
		phones                        []string
		status                        string
		number, reason                string
	}{
		{"the plugin's fields, in its order", "lsq-default", "leadsquared", "lsq", full, []string{"+91-9876500003"}, store.EventCalled, "+919876500002", ""},
		{"the agent's fields win", "lsq-own", "leadsquared", "lsq", full, []string{"+91-9876500003"}, store.EventCalled, "+919876500004", ""},
		{"the agent's fields, then the record's phones", "lsq-own", "leadsquared", "lsq", noAlt, []string{"+91-9876500003"}, store.EventCalled, "+919876500003", ""},
		{"no fields anywhere: the record's phones", "bare", "bare", "bare", full, []string{"+91-9876500003"}, store.EventCalled, "+919876500003", ""},
		{"no fields and no phones", "bare", "bare", "bare", full, nil, store.EventSkipped, "", "set the agent's phone_fields"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("lead-%d", i)
			raw, err := json.Marshal(sdk.Record{ObjectID: id, Fields: tt.fields, Phones: tt.phones})
			if err != nil {
				t.Fatal(err)
			}
			evs := e.add(t, store.Event{Key: tt.typ + ":" + id, AgentID: tt.agent, Type: tt.typ, Integration: tt.integration,
				EventType: "lead.created", Kind: sdk.KindCreated, ObjectType: "lead", ObjectID: id, OccurredAt: t0, Record: raw})
			e.run(t)
			got := e.get(t, evs[0].ID)
			if got.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", got.Status, got.Reason, tt.status)
			}
			if tt.reason != "" && !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("reason %q, want %q", got.Reason, tt.reason)
			}
			if tt.number != "" {
				call, err := e.db.GetCall(context.Background(), got.CallID)
				if err != nil {
					t.Fatal(err)
				}
				if call.ToNumber != tt.number {
					t.Fatalf("called %s, want %s", call.ToNumber, tt.number)
				}
			}
		})
	}
}
