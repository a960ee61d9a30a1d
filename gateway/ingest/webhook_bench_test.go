package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
)

// The webhook path's small parts, each against what it replaced, in the
// same run: go test -run=NONE -bench=Webhook -benchmem ./gateway/ingest/

func BenchmarkWebhookReply(b *testing.B) {
	res := WebhookReply{Status: "done", Message: "1 event received", Accepted: 1}
	w := discard{http.Header{}}
	b.Run("reply.JSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reply.JSON(w, http.StatusOK, res)
		}
	})
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			writeWebhookReply(w, res)
		}
	})
}

func BenchmarkWebhookHeaders(b *testing.B) {
	h := http.Header{"Content-Type": {"application/json"}, "X-Hubspot-Signature-V3": {"c2lnbmF0dXJl"},
		"X-Hubspot-Request-Timestamp": {"1764590000000"}, "User-Agent": {"HubSpot Connect 2.0"},
		"Accept-Encoding": {"gzip"}, "Content-Length": {"230"}, "X-Request-Id": {"01KB0000000000000000000000"}, "X-Api-Key": {"k"}}
	b.Run("clone-and-delete", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := h.Clone()
			for _, k := range gatewayCredentials {
				out.Del(k)
			}
			headerSink = out
		}
	})
	b.Run("filtered", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			headerSink = pluginHeaders(h)
		}
	})
}

func BenchmarkWebhookBody(b *testing.B) {
	cfg := &config.Config{}
	body := []byte("[" + strings.Repeat(`{"eventId":1,"subscriptionId":1,"portalId":62515,"appId":1,"occurredAt":1764590000000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":1000001,"changeSource":"CRM_UI"},`, 99) + `{}]`)
	for _, tc := range []struct {
		name string
		read func(*http.Request, *config.Config) ([]byte, error)
	}{{"io.ReadAll", readBody}, {"sized", readWebhookBody}} {
		b.Run(tc.name+"/100-events", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/call/crm-webhook", bytes.NewReader(body))
				if _, err := tc.read(r, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// headerSink keeps benchmark results alive, so they are really built.
var headerSink http.Header

// discard is a ResponseWriter that keeps nothing but its header map.
type discard struct{ h http.Header }

func (d discard) Header() http.Header       { return d.h }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
