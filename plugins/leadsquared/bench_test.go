package leadsquared

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/callgate/callgate/sdk"
)

// BenchmarkWebhook measures HandleWebhook on LeadSquared's Lead Creation
// body (decode, type every field, build the event) against plain
// json.Unmarshal of the same body into a map, in the same run: the
// typing should cost a small multiple of the decode, not an order more.
func BenchmarkWebhook(b *testing.B) {
	body := mustRead(b, "testdata/webhooks/lead-creation.json")
	form := mustRead(b, "testdata/webhooks/lead-creation.form")
	p := New()
	req := func(ct string, body []byte) sdk.WebhookRequest {
		return sdk.WebhookRequest{Method: "POST", URL: "https://calls.example.com/call/crm-webhook?type=leadsquared&agent_id=a",
			Headers: map[string][]string{"Content-Type": {ct}}, Body: body, ReceivedAt: received}
	}
	b.Run("baseline/json.Unmarshal-map", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var v map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tc := range []struct {
		name string
		req  sdk.WebhookRequest
	}{
		{"json", req("application/json", body)},
		{"form", req("application/x-www-form-urlencoded", form)},
	} {
		b.Run("HandleWebhook/"+tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := p.HandleWebhook(context.Background(), tc.req)
				if err != nil || len(res.Events) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}
