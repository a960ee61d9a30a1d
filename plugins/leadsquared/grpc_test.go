package leadsquared_test

import (
	"reflect"
	"testing"

	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// TestInlineRecordSurvivesGRPC: the events and inline leads the host gets
// over the plugin protocol equal what the plugin made, value types (null,
// bool, number, time) included.
func TestInlineRecordSurvivesGRPC(t *testing.T) {
	p := leadsquared.New()
	remote := sdktest.Serve(t, p)
	for _, tc := range []struct{ file, contentType string }{
		{"testdata/webhooks/lead-creation.json", leadsquaredtest.ContentJSON},
		{"testdata/webhooks/lead-mx-fields.json", leadsquaredtest.ContentJSON},
		{"testdata/webhooks/lead-creation-nulls.json", leadsquaredtest.ContentJSON},
		{"testdata/webhooks/lead-creation.form", leadsquaredtest.ContentForm},
	} {
		t.Run(tc.file, func(t *testing.T) {
			req := sdk.WebhookRequest{Method: "POST", URL: "http://gw/call/crm-webhook?type=leadsquared&lsq_event=lead_create",
				Headers: leadsquaredtest.WebhookHeaders(tc.contentType, ""), Body: mustReadFile(t, tc.file), ReceivedAt: created}
			local, err := p.HandleWebhook(ctx(t), req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := remote.HandleWebhook(ctx(t), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Events) != 1 || got.Events[0].Record == nil {
				t.Fatalf("events over gRPC: %+v", got.Events)
			}
			want, have := local.Events[0], got.Events[0]
			if want.Key != have.Key || want.Kind != have.Kind || want.Type != have.Type || !want.OccurredAt.Equal(have.OccurredAt) {
				t.Errorf("event over gRPC = %+v, want %+v", have, want)
			}
			if !reflect.DeepEqual(want.Record.Phones, have.Record.Phones) || want.Record.ObjectID != have.Record.ObjectID {
				t.Errorf("record id/phones over gRPC = %s %q, want %s %q", have.Record.ObjectID, have.Record.Phones, want.Record.ObjectID, want.Record.Phones)
			}
			if len(want.Record.Fields) != len(have.Record.Fields) {
				t.Errorf("%d fields over gRPC, want %d", len(have.Record.Fields), len(want.Record.Fields))
			}
			for k, w := range want.Record.Fields {
				h, ok := have.Record.Fields[k]
				if !ok || h.Type != w.Type || (w.Type == sdk.TypeTime && !h.Time.Equal(w.Time)) || (w.Type != sdk.TypeTime && h.Any() != w.Any()) {
					t.Errorf("%s over gRPC = %#v (present %v), want %#v", k, h, ok, w)
				}
			}
		})
	}
}
