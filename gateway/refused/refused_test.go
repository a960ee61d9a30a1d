package refused

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/reply"
)

func TestMiddlewareRecordsRefusals(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l, err := New(Config{Size: 3, Registerer: reg, RequestIDHeader: "X-Request-Id", Now: func() time.Time { return at },
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Logger:         hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn})})
	if err != nil {
		t.Fatal(err)
	}
	h := l.Middleware("/call/crm-webhook", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-1")
		switch r.URL.Query().Get("case") {
		case "ok":
			reply.JSON(w, http.StatusOK, reply.Envelope{Status: "done", Message: "1 event received"})
		case "plain":
			http.Error(w, "nope", http.StatusTeapot)
		default:
			reply.Error(w, http.StatusForbidden, "Invalid API key")
		}
	}))
	do := func(query, remote string, header http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/call/crm-webhook?"+query, nil)
		req.RemoteAddr = remote
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	do("case=ok&agent_id=sales", "192.0.2.1:5000", nil)
	if got := l.Recent(0); len(got) != 0 {
		t.Fatalf("a 200 was recorded: %+v", got)
	}
	rec := do("agent_id=sales&type=hubspot&x_api_key=secret-key", "192.0.2.1:5000", nil)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Invalid API key") {
		t.Fatalf("the answer was changed: %d %s", rec.Code, rec.Body)
	}
	got := l.Recent(0)
	want := Refusal{At: at, Route: "/call/crm-webhook", Agent: "sales", Type: "hubspot", Status: 403, Class: "api_key",
		Reason: "Invalid API key", Remote: "192.0.2.1", RequestID: "req-1"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("recorded %+v\nwant %+v", got, want)
	}
	if strings.Contains(logs.String(), "secret-key") || !strings.Contains(logs.String(), "request refused") || !strings.Contains(logs.String(), "request_id=req-1") {
		t.Errorf("log line: %s", logs.String())
	}

	// A caller's values are clipped; a proxy's client is named; a
	// non-envelope answer reads as its status.
	do("agent_id="+strings.Repeat("a", 500), "10.1.2.3:80", http.Header{"X-Forwarded-For": {"198.51.100.7"}})
	do("case=plain", "192.0.2.9:1", nil)
	got = l.Recent(2)
	if len(got) != 2 || got[0].Status != http.StatusTeapot || got[0].Class != "other" || got[0].Reason != "418 I'm a teapot" {
		t.Errorf("newest = %+v", got[0])
	}
	if got[1].Remote != "198.51.100.7" || len([]rune(got[1].Agent)) > reply.MaxQuoted+1 {
		t.Errorf("clipped = %+v", got[1])
	}

	// The ring keeps Size, newest first.
	do("agent_id=last", "192.0.2.1:5000", nil)
	got = l.Recent(0)
	if len(got) != 3 || got[0].Agent != "last" || got[2].Agent != reply.Clip(strings.Repeat("a", 500)) {
		t.Errorf("ring = %+v", got)
	}
	if n := counted(t, reg, "api_key"); n != 3 {
		t.Errorf("api_key refusals counted %v, want 3", n)
	}
}

func TestReasonsKeepNumbersOut(t *testing.T) {
	l, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ reason, want string }{
		{"DND_NUMBER: +919876500099 is on the DND list and will not be called", "DND_NUMBER: +91********99 is on the DND list and will not be called"},
		{`Invalid to_number "98765 43210": …`, `Invalid to_number "987** ***10": …`},
		{"Agent \"ghost\" not found: use one of sales-intro", "Agent \"ghost\" not found: use one of sales-intro"},
		{"Request body is larger than 1048576 bytes", "Request body is larger than 1048576 bytes"}, // 7 digits: not a number to hide
	} {
		l.Add(Refusal{Status: 400, Reason: tc.reason})
		if got := l.Recent(1)[0].Reason; got != tc.want {
			t.Errorf("%q kept as %q, want %q", tc.reason, got, tc.want)
		}
	}
}

func TestClassesAreBounded(t *testing.T) {
	seen := map[string]bool{}
	for status := 100; status < 1000; status++ {
		seen[Class(status)] = true
	}
	if len(seen) != len(classes)+1 {
		t.Errorf("%d classes for 900 status codes: %v", len(seen), seen)
	}
	for status, want := range map[int]string{400: "bad_request", 401: "signature", 403: "api_key", 404: "not_found",
		413: "too_large", 415: "media_type", 429: "throttled", 503: "unavailable", 500: "other"} {
		if got := Class(status); got != want {
			t.Errorf("Class(%d) = %s, want %s", status, got, want)
		}
	}
}

// counted reads callgate_http_refused_total for the webhook route and class.
func counted(t *testing.T, reg *prometheus.Registry, class string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if mf.GetName() == "callgate_http_refused_total" && labels["class"] == class && labels["route"] == "/call/crm-webhook" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
