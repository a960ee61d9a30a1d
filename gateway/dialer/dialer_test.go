package dialer_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  *config.Dialer
		kind string // "" = error expected
		msg  string
	}{
		{name: "http", cfg: &config.Dialer{Name: "v", Type: "http", URL: "http://127.0.0.1:9/x", Secret: "s"}, kind: "*dialer.HTTP"},
		{name: "http without secret", cfg: &config.Dialer{Name: "v", Type: "http", URL: "http://127.0.0.1:9/x"}, msg: "needs secret"},
		{name: "http without url", cfg: &config.Dialer{Name: "v", Type: "http", Secret: "s"}, msg: "needs url"},
		{name: "callkaro", cfg: &config.Dialer{Name: "ck", Type: "callkaro", APIKey: "k", Secret: "s"}, kind: "*dialer.Callkaro"},
		{name: "callkaro without key", cfg: &config.Dialer{Name: "ck", Type: "callkaro", Secret: "s"}, msg: "needs api_key"},
		{name: "callkaro without secret", cfg: &config.Dialer{Name: "ck", Type: "callkaro", APIKey: "k"}, msg: "token=<secret>"},
		{name: "log", cfg: &config.Dialer{Name: "l", Type: "log"}, kind: "*dialer.Log"},
		{name: "unknown", cfg: &config.Dialer{Name: "x", Type: "sip"}, msg: "unknown type"},
		{name: "nil", msg: "no dialer block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := dialer.New(tt.cfg, dialer.Options{})
			if tt.kind == "" {
				if err == nil || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := typeName(d); got != tt.kind {
				t.Errorf("type = %s, want %s", got, tt.kind)
			}
		})
	}
}

func typeName(d dialer.Dialer) string {
	switch d.(type) {
	case *dialer.HTTP:
		return "*dialer.HTTP"
	case *dialer.Callkaro:
		return "*dialer.Callkaro"
	case *dialer.Log:
		return "*dialer.Log"
	}
	return "?"
}

func TestLogDialer(t *testing.T) {
	var buf bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info})
	d, err := dialer.New(&config.Dialer{Name: "trial", Type: "log"}, dialer.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r := request(1)
	r.Variables["secret_note"] = "do-not-log-me"
	placed, err := d.Dial(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if o := placed.Outcome; o == nil || o.Status != "completed" || o.CallID != r.CallID || o.Attempt != 1 {
		t.Fatalf("outcome = %+v", placed.Outcome)
	}
	out := buf.String()
	for _, leak := range []string{"+14155550123", "do-not-log-me", "Ada"} {
		if strings.Contains(out, leak) {
			t.Errorf("log line leaks %q: %s", leak, out)
		}
	}
	for _, want := range []string{"01JDCALL", "+14*******23", "secret_note", "trial"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %q: %s", want, out)
		}
	}
	if !d.Idempotent() {
		t.Error("log dialer calls nobody; re-sending is safe")
	}
	req := httptest.NewRequest(http.MethodPost, "/call/status/trial", nil)
	if _, err := d.ParseOutcome(req, []byte(`{}`)); !errors.Is(err, dialer.ErrBadSignature) {
		t.Errorf("log dialer accepted a callback: %v", err)
	}
}

func TestRequestKey(t *testing.T) {
	r := dialer.Request{CallID: "c", Attempt: 3}
	if r.Key() != "c-3" {
		t.Errorf("Key = %q", r.Key())
	}
	r.IdempotencyKey = "custom"
	if r.Key() != "custom" {
		t.Errorf("Key = %q", r.Key())
	}
}
