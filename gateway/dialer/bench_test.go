package dialer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
)

// BenchmarkDial compares the http dialer with a bare net/http POST of the
// same body to the same local platform, over the same client: the
// difference is what the dialer adds (encoding, headers, error sorting).
func BenchmarkDial(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"provider_call_id":"pc-1","status":"queued"}`)
	}))
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	r := request(1)

	b.Run("bare-post", func(b *testing.B) {
		body, _ := json.Marshal(dialer.HTTPDialRequest{CallID: r.CallID, Attempt: r.Attempt, AgentID: r.AgentID,
			ToNumber: r.ToNumber, Variables: r.Variables, Contact: dialer.HTTPContact{Type: r.ContactType, ObjectID: r.ObjectID},
			StatusCallbackURL: r.StatusCallbackURL})
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.Run("http-dialer", func(b *testing.B) {
		d, err := dialer.New(&config.Dialer{Name: "voice", Type: "http", URL: srv.URL, Secret: secret,
			Headers: map[string]string{"Authorization": "Bearer t"}}, dialer.Options{HTTPClient: client})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.Dial(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParseOutcome compares verifying and parsing a signed status
// callback with a bare json.Unmarshal of the same body.
func BenchmarkParseOutcome(b *testing.B) {
	body := []byte(`{"call_id":"01JDCALL","attempt":1,"status":"no_answer","provider_call_id":"pc-1","duration_s":0,"reason":"rang out"}`)
	b.Run("bare-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var cb dialer.HTTPCallback
			if err := json.Unmarshal(body, &cb); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http-verify-parse", func(b *testing.B) {
		d, err := dialer.New(&config.Dialer{Name: "voice", Type: "http", URL: "http://127.0.0.1:1", Secret: secret}, dialer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/call/status/voice", nil)
		req.Header.Set(dialer.SignatureHeader, dialer.Sign(secret, body))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := d.ParseOutcome(req, body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
