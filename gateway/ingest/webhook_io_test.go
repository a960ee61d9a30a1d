package ingest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
)

// The hand-written 200 answer is byte for byte what reply.JSON writes.
func TestWriteWebhookReplyMatchesReplyJSON(t *testing.T) {
	for _, res := range []WebhookReply{
		{Status: "done", Message: "1 event received", Accepted: 1},
		{Status: "done", Message: "100 events received", Accepted: 97, Duplicates: 1, Ignored: 1, Failed: 1},
		{},
	} {
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		reply.JSON(want, http.StatusOK, res)
		writeWebhookReply(got, res)
		if got.Body.String() != want.Body.String() || got.Code != want.Code {
			t.Errorf("got %d %s, want %d %s", got.Code, got.Body, want.Code, want.Body)
		}
		for _, h := range []string{"Content-Type", "X-Content-Type-Options"} {
			if got.Header().Get(h) != want.Header().Get(h) {
				t.Errorf("%s = %q, want %q", h, got.Header().Get(h), want.Header().Get(h))
			}
		}
	}
}

// shortBody says it holds more than it does, as a connection cut mid-body.
type shortBody struct{ io.Reader }

func (shortBody) Close() error { return nil }

func TestReadWebhookBody(t *testing.T) {
	cfg := &config.Config{}
	cfg.Server.MaxBodyBytes = 64
	for _, tc := range []struct {
		name    string
		body    io.Reader
		length  int64
		want    string
		wantErr string
	}{
		{"declared length", strings.NewReader(`{"a":1}`), 7, `{"a":1}`, ""},
		{"empty", strings.NewReader(""), 0, "", ""},
		{"unknown length (chunked)", strings.NewReader(`[1,2]`), -1, `[1,2]`, ""},
		{"cut short", shortBody{strings.NewReader(`{"a"`)}, 7, "", "4 of 7 bytes came"},
		{"longer than declared", strings.NewReader(`{"a":1}xyz`), 7, "", "longer than its Content-Length"},
		{"unknown length over the limit", strings.NewReader(strings.Repeat("x", 65)), -1, "", "http: request body too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/call/crm-webhook", io.NopCloser(tc.body))
			r.ContentLength = tc.length
			got, err := readWebhookBody(r, cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %q, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, []byte(tc.want)) {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	var mbe *http.MaxBytesError
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 65)))
	r.ContentLength = -1
	if _, err := readWebhookBody(r, cfg); !errors.As(err, &mbe) {
		t.Fatalf("over the limit: %v, want *http.MaxBytesError (answered 413)", err)
	}
}

// Plugins get every header but the gateway's own credentials.
func TestPluginHeadersDropGatewayCredentials(t *testing.T) {
	in := http.Header{"X-Api-Key": {"k"}, "Authorization": {"Bearer t"}, "Cookie": {"c=1"},
		"X-Hubspot-Signature-V3": {"sig"}, "Content-Type": {"application/json"}}
	out := pluginHeaders(in)
	if len(out) != 2 || out.Get("X-Hubspot-Signature-V3") != "sig" || out.Get("Content-Type") != "application/json" {
		t.Fatalf("got %v", out)
	}
	if in.Get("X-Api-Key") != "k" {
		t.Fatal("the request's own headers changed")
	}
}
