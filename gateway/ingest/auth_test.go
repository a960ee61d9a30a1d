package ingest_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
)

type answer struct {
	code   int
	header http.Header
	msg    string
}

func send(t *testing.T, method, url string, header http.Header, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env reply.Envelope
	_ = json.Unmarshal(b, &env)
	return answer{code: resp.StatusCode, header: resp.Header, msg: env.Message}
}

// behindProxy trusts 127.0.0.1 as a proxy, so X-Forwarded-For names the
// client in these tests.
func behindProxy(cfg *config.Config) {
	cfg.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

func TestInvalidAPIKeysAreThrottledPerAddress(t *testing.T) {
	e := newEnv(t, envOptions{withScheduler: true, tweak: behindProxy})
	from := func(client, key string) http.Header {
		return http.Header{"X-Api-Key": {key}, "X-Forwarded-For": {client}, "Content-Type": {"application/json"}}
	}
	paths := []string{
		"/call/crm-webhook?type=hubspot&agent_id=sales",
		"/call/outbound",
		"/call/delete-schedule-call?agent_id=sales",
	}
	// Ten wrong keys spread over the three endpoints: one budget per address.
	for i := range config.DefaultAuthFailBurst {
		if a := send(t, "POST", e.url+paths[i%3], from("203.0.113.5", fmt.Sprintf("guess-%d", i)), "{}"); a.code != 403 {
			t.Fatalf("wrong key %d on %s = %d %s, want 403", i+1, paths[i%3], a.code, a.msg)
		}
	}
	for _, p := range paths {
		a := send(t, "POST", e.url+p, from("203.0.113.5", "guess"), "{}")
		if a.code != 429 || a.header.Get("Retry-After") == "" || !strings.Contains(a.msg, "Too many invalid API keys") {
			t.Fatalf("wrong key past the budget on %s = %d %v %q, want 429 with Retry-After", p, a.code, a.header, a.msg)
		}
		// Refused before the key is checked: a right guess is not told apart.
		if a := send(t, "POST", e.url+p, from("203.0.113.5", keyAny), "{}"); a.code != 429 {
			t.Errorf("right key from the throttled address on %s = %d, want 429", p, a.code)
		}
	}
	// Another address with the right key is served as usual.
	a := send(t, "POST", e.url+"/call/outbound", from("198.51.100.7", keyAny), `{"to_number":"+919876543210","agent_id":"sales"}`)
	if a.code != 200 {
		t.Fatalf("right key from another address = %d %q, want 200", a.code, a.msg)
	}
	for i := range 30 { // right keys never spend the budget
		if a := send(t, "POST", e.url+"/call/outbound", from("198.51.100.7", keyAny), `{"to_number":"+919876543210","agent_id":"sales"}`); a.code != 200 {
			t.Fatalf("right key #%d = %d %q", i+2, a.code, a.msg)
		}
	}
	// A missing key guesses nothing and is not counted.
	for range 30 {
		if a := send(t, "POST", e.url+paths[0], http.Header{"X-Forwarded-For": {"192.0.2.44"}}, "{}"); a.code != 403 {
			t.Fatalf("missing key = %d, want 403", a.code)
		}
	}
}

func TestConflictingAPIKeysAreRefused(t *testing.T) {
	e := newEnv(t, envOptions{withScheduler: true})
	body := `{"to_number":"+919876543210","agent_id":"sales"}`
	for _, tc := range []struct {
		name   string
		query  string
		header http.Header
		code   int
	}{
		{"header and query differ", "?x_api_key=other-key", http.Header{"X-Api-Key": {keyAny}}, 400},
		{"two query values differ", "?x_api_key=" + keyAny + "&x_api_key=other-key", nil, 400},
		{"two headers differ", "", http.Header{"X-Api-Key": {keyAny, "other-key"}}, 400},
		{"header and query agree", "?x_api_key=" + keyAny, http.Header{"X-Api-Key": {keyAny}}, 200},
		{"query only", "?x_api_key=" + keyAny, nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"application/json"}}
			for k, v := range tc.header {
				h[k] = v
			}
			a := send(t, "POST", e.url+"/call/outbound"+tc.query, h, body)
			if a.code != tc.code {
				t.Fatalf("= %d %q, want %d", a.code, a.msg, tc.code)
			}
			if tc.code == 400 {
				if !strings.Contains(a.msg, "X-API-KEY") || !strings.Contains(a.msg, "x_api_key") {
					t.Errorf("message does not name the parameter: %q", a.msg)
				}
				if strings.Contains(a.msg, keyAny) || strings.Contains(a.msg, "other-key") {
					t.Errorf("message echoes a key: %q", a.msg)
				}
			}
		})
	}
}

func TestConflictingQueryParametersAreRefused(t *testing.T) {
	e := newEnv(t, envOptions{withScheduler: true})
	key := http.Header{"X-Api-Key": {keyAny}, "Content-Type": {"application/json"}}
	for _, tc := range []struct{ path, body, param string }{
		{"/call/crm-webhook?type=hubspot&agent_id=sales&agent_id=support", "[]", "agent_id"},
		{"/call/crm-webhook?type=hubspot&type=leadsquared&agent_id=sales", "[]", "type"},
		{"/call/crm-webhook?type=hubspot&agent_id=sales&num_of_retries=1&num_of_retries=11", "[]", "num_of_retries"},
		{"/call/delete-schedule-call?agent_id=sales&agent_id=support", `{"to_number":"+919876543210"}`, "agent_id"},
		{"/call/outbound?agent_id=support", `{"to_number":"+919876543210","agent_id":"sales"}`, "agent_id"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			a := send(t, "POST", e.url+tc.path, key, tc.body)
			if a.code != 400 || !strings.Contains(a.msg, "Conflicting") || !strings.Contains(a.msg, tc.param) {
				t.Fatalf("= %d %q, want 400 naming %s", a.code, a.msg, tc.param)
			}
		})
	}
}

func TestOutboundChecksTheKeyBeforeTheBody(t *testing.T) {
	e := newEnv(t, envOptions{withScheduler: true})
	if a := send(t, "POST", e.url+"/call/outbound", http.Header{"Content-Type": {"application/json"}}, "{not json"); a.code != 403 {
		t.Fatalf("no key, malformed body = %d %q, want 403", a.code, a.msg)
	}
	// A keyless client that never sends its body is answered at once,
	// not after the body.
	c, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "POST /call/outbound HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{")
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer while the body is pending: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("= %d, want 403", resp.StatusCode)
	}
}

func TestIngestErrorsDoNotEchoLongValues(t *testing.T) {
	e := newEnv(t, envOptions{withScheduler: true})
	key := http.Header{"X-Api-Key": {keyAny}, "Content-Type": {"application/json"}}
	long := strings.Repeat("z", 50000)
	for _, tc := range []struct{ name, path, body string }{
		{"unknown agent", "/call/crm-webhook?type=hubspot&agent_id=" + long, "[]"},
		{"unknown type", "/call/crm-webhook?type=" + long + "&agent_id=sales", "[]"},
		{"bad to_number", "/call/outbound", `{"agent_id":"sales","to_number":"+91` + strings.Repeat("9", 50000) + `"}`},
		{"bad schedule_at", "/call/outbound", `{"agent_id":"sales","to_number":"+919876543210","schedule_at":"` + long + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, "POST", e.url+tc.path, key, tc.body)
			// Clipped ("…") or not quoted at all ("is 50003 characters long").
			if a.code < 400 || len(a.msg) > 400 || strings.Contains(a.msg, strings.Repeat("9", 80)) || strings.Contains(a.msg, strings.Repeat("z", 80)) {
				t.Fatalf("= %d, message of %d bytes: %.120s", a.code, len(a.msg), a.msg)
			}
		})
	}
}
