package hubspot

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
)

// BenchmarkWebhook100 measures verify (v3) + parse of a 100-event body
// against plain json.Unmarshal of the same body in the same run.
func BenchmarkWebhook100(b *testing.B) {
	body := eventsBody(100)
	url := "https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=sales-intro&x_api_key=k"
	at := time.Now()
	h := SignV3("secret", "POST", url, body, at)
	req := sdk.WebhookRequest{
		Method: "POST", URL: url, Body: body, ReceivedAt: at,
		Headers:     map[string][]string{HeaderSignatureV3: {h[HeaderSignatureV3]}, HeaderRequestTimestamp: {h[HeaderRequestTimestamp]}},
		Credentials: sdk.Credentials{CredClientSecret: "secret"},
	}
	p := New()
	b.Run("baseline/json.Unmarshal-map", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var v []map[string]any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline/json.Unmarshal-typed", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var v []WebhookEvent
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-v3", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := VerifySignature(req, "secret", at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-v3+parse", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			res, err := p.HandleWebhook(context.Background(), req)
			if err != nil || len(res.Events) != 100 {
				b.Fatal(err)
			}
		}
	})
}
