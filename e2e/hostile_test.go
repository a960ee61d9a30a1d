package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hostileConfig is a gateway with tight limits, so the bounded load
// below shows each of them holding in seconds.
const hostileConfig = `
server {
  listen                 = "{{.Listen}}"
  data_dir               = "{{.DataDir}}"
  admin_token_sha256     = ["` + e2eAdminTokenSHA + `"]
  read_timeout           = "2s"
  idle_timeout           = "5s"
  max_connections_per_ip = 16
  auth_fail_burst        = 10
  auth_fail_rate         = "10/m"
}
api_key "crm" {
  sha256 = "` + hostileKeySHA + `"
}
integration "hubspot" {
  access_token = "unused: no record is fetched here"
}
dialer "log" {
  type = "log"
}
agent "sales" {
  dialer = "log"
}
`

const hostileKey = "e2e-hostile-webhook-key"

const hostileKeySHA = "92bfa5e57a59e4671bc241d915b6d3fb9e9b9927909545d4b3de27bc59a9e458" // sha256 of hostileKey

// clientFrom is an HTTP client whose connections come from the loopback
// address local (all of 127/8 is loopback on Linux), with at most conns
// connections.
func clientFrom(local string, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: d.DialContext, MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns,
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func status(t *testing.T, c *http.Client, method, u string, body io.Reader, h http.Header) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestHostileTrafficIsBounded drives the real binary with unauthenticated
// abuse over loopback, bounded in count and time: invented methods and
// paths, trickled bodies, too many connections from one address, and
// guessed tokens and keys. Each limit must hold and the gateway must keep
// serving everyone else.
func TestHostileTrafficIsBounded(t *testing.T) {
	g := launch(t, gatewayOptions{Config: hostileConfig})
	if _, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).Dial("tcp", g.Addr); err != nil {
		t.Skipf("cannot dial from 127.0.0.2: %v", err)
	}
	local := clientFrom("127.0.0.1", 8)

	t.Run("metric labels", func(t *testing.T) {
		_, before := g.Do("GET", "/metrics", nil, nil)
		const n = 20000
		start := time.Now()
		var wg sync.WaitGroup
		var failed atomic.Int64
		next := atomic.Int64{}
		for range 8 {
			wg.Go(func() {
				for {
					i := next.Add(1)
					if i > n {
						return
					}
					paths := []string{"/healthz", "/call/crm-webhook", fmt.Sprintf("/call/status/evil-%d", i), fmt.Sprintf("/x/%d", i)}
					req, _ := http.NewRequest(fmt.Sprintf("M%dX", i), g.URL+paths[i%4], nil)
					resp, err := local.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		if failed.Load() > 0 {
			t.Errorf("%d of %d requests failed", failed.Load(), n)
		}
		_, after := g.Do("GET", "/metrics", nil, nil)
		t.Logf("%d invented-method requests in %s: /metrics %d → %d bytes", n, took.Round(time.Millisecond), len(before), len(after))
		if len(after) > len(before)+16<<10 {
			t.Fatalf("/metrics grew from %d to %d bytes after %d invented methods", len(before), len(after), n)
		}
		if strings.Contains(string(after), "M17X") || strings.Contains(string(after), "evil-") {
			t.Fatal("an invented method or path is a label")
		}
	})

	t.Run("slow bodies", func(t *testing.T) {
		paths := []string{"/call/crm-webhook?type=hubspot&agent_id=sales", "/call/outbound", "/call/delete-schedule-call?agent_id=sales", "/ui/login", "/api/v1/dnd"}
		var wg sync.WaitGroup
		held := make([]time.Duration, len(paths))
		for i, p := range paths {
			wg.Go(func() {
				c, err := net.Dial("tcp", g.Addr)
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				start := time.Now()
				ct := "application/json"
				if strings.HasPrefix(p, "/ui/") {
					ct = "application/x-www-form-urlencoded"
				}
				fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nX-API-KEY: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n",
					p, hostileKey, e2eAdminToken, ct)
				stop := make(chan struct{})
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(100 * time.Millisecond):
							if _, err := c.Write([]byte("a")); err != nil {
								return
							}
						}
					}
				}()
				c.SetReadDeadline(start.Add(10 * time.Second))
				_, err = io.Copy(io.Discard, c)
				close(stop)
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Errorf("POST %s: a trickled body held the connection for 10s", p)
				}
				held[i] = time.Since(start)
			})
		}
		// A wrong key is answered at once, without waiting for the body.
		wg.Go(func() {
			c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}).Dial("tcp", g.Addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			start := time.Now()
			fmt.Fprint(c, "POST /call/crm-webhook?type=hubspot&agent_id=sales HTTP/1.1\r\nHost: x\r\nX-API-KEY: wrong\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
			c.SetReadDeadline(start.Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Errorf("wrong key with a pending body: %v", err)
				return
			}
			resp.Body.Close()
			took := time.Since(start)
			t.Logf("wrong key with a pending body: %d after %s", resp.StatusCode, took.Round(time.Millisecond))
			if resp.StatusCode != 403 || took > time.Second {
				t.Errorf("wrong key with a pending body: %d after %s, want 403 at once", resp.StatusCode, took)
			}
		})
		// While they trickle, the gateway answers.
		time.Sleep(500 * time.Millisecond)
		if code, _ := status(t, local, "GET", g.URL+"/healthz", nil, nil); code != 200 {
			t.Errorf("healthz while bodies trickle = %d", code)
		}
		wg.Wait()
		for i, p := range paths {
			t.Logf("POST %s with a trickled body: closed after %s (read_timeout 2s)", p, held[i].Round(time.Millisecond))
			if held[i] > 3500*time.Millisecond {
				t.Errorf("POST %s: held %s, want at most read_timeout (2s) plus slack", p, held[i])
			}
		}
	})

	t.Run("connections per address", func(t *testing.T) {
		local.CloseIdleConnections()
		time.Sleep(100 * time.Millisecond) // let the server see them close
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range 16 {
			c, err := net.Dial("tcp", g.Addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		extra, err := net.Dial("tcp", g.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer extra.Close()
		start := time.Now()
		extra.SetReadDeadline(start.Add(1500 * time.Millisecond))
		fmt.Fprint(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		b, err := io.ReadAll(extra)
		if ne, ok := err.(net.Error); (ok && ne.Timeout()) || len(b) > 0 {
			t.Fatalf("the 17th connection from one address was not closed: %q %v", b, err)
		}
		t.Logf("17th connection from one address closed after %s", time.Since(start).Round(time.Millisecond))
		other := clientFrom("127.0.0.2", 1)
		if code, _ := status(t, other, "GET", g.URL+"/healthz", nil, nil); code != 200 {
			t.Fatalf("another address while 127.0.0.1 is at its cap = %d", code)
		}
		g.WaitForOutput("too many open connections from one address")
	})

	t.Run("guessing", func(t *testing.T) {
		time.Sleep(200 * time.Millisecond)
		attacker, admin := clientFrom("127.0.0.1", 4), clientFrom("127.0.0.2", 1)
		bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
		counts := map[int]int{}
		const guesses = 1000
		start := time.Now()
		for i := range guesses {
			code, h := status(t, attacker, "GET", g.URL+"/api/v1/agents", nil, bearer(fmt.Sprintf("guess-%d", i)))
			counts[code]++
			if code == 429 && h.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
		t.Logf("%d wrong admin tokens in %s from one address: %v (status: count)", guesses, time.Since(start).Round(time.Millisecond), counts)
		if counts[401] > 11 || counts[429] < guesses-11 {
			t.Fatalf("wrong tokens: %v, want at most the burst (10, plus one refill) checked and the rest 429", counts)
		}
		if code, _ := status(t, attacker, "GET", g.URL+"/api/v1/agents", nil, bearer(e2eAdminToken)); code != 429 {
			t.Errorf("right token from the throttled address = %d, want 429 (refused before the check)", code)
		}
		form := url.Values{"token": {e2eAdminToken}}
		if code, _ := status(t, attacker, "POST", g.URL+"/ui/login", strings.NewReader(form.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}); code != 429 {
			t.Errorf("dashboard sign-in from the throttled address = %d, want 429 (one budget with the admin API)", code)
		}
		if code, _ := status(t, admin, "GET", g.URL+"/api/v1/agents", nil, bearer(e2eAdminToken)); code != 200 {
			t.Fatalf("right token from another address = %d, want 200", code)
		}
		if code, h := status(t, admin, "POST", g.URL+"/ui/login", strings.NewReader(form.Encode()),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}); code != 303 || !strings.HasSuffix(h.Get("Location"), "/ui/") {
			t.Fatalf("dashboard sign-in from another address = %d, want 303 to the overview, /ui/", code)
		}

		counts = map[int]int{}
		for i := range 200 {
			code, _ := status(t, attacker, "POST", g.URL+"/call/crm-webhook?type=hubspot&agent_id=sales",
				strings.NewReader("[]"), http.Header{"X-Api-Key": {fmt.Sprintf("k-%d", i)}, "Content-Type": {"application/json"}})
			counts[code]++
		}
		g.WaitForOutput("too many wrong admin tokens")
		g.WaitForOutput("too many invalid API keys")
		t.Logf("200 wrong webhook keys from one address: %v", counts)
		if counts[403] > 11 || counts[429] < 189 {
			t.Fatalf("wrong webhook keys: %v, want the burst answered 403 and the rest 429", counts)
		}
	})

	// Still whole after all of it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", g.URL+"/readyz", nil)
	resp, err := clientFrom("127.0.0.3", 1).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("readyz after the hostile traffic = %d", resp.StatusCode)
	}
}

// TestConflictsListingsAndEchoes: duplicate parameters that disagree are
// refused naming the parameter, /call/outbound wants its key before its
// body, /ui/static/ is not a listing, and errors quote at most a short
// piece of what was sent.
func TestConflictsListingsAndEchoes(t *testing.T) {
	g := launch(t, gatewayOptions{Config: hostileConfig})
	key := http.Header{"X-Api-Key": {hostileKey}, "Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name, path string
		header     http.Header
		body       string
		code       int
		want       string
	}{
		{"retries twice, differently", "/call/crm-webhook?type=hubspot&agent_id=sales&num_of_retries=1&num_of_retries=11", key, "[]", 400, "num_of_retries"},
		{"header and query keys differ", "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=another", key, "[]", 400, "x_api_key"},
		{"outbound without a key, body unreadable", "/call/outbound", http.Header{"Content-Type": {"application/json"}}, "{not json", 403, "Missing X-API-KEY"},
		{"a long agent_id is not echoed whole", "/call/crm-webhook?type=hubspot&agent_id=" + strings.Repeat("a", 5000), key, "[]", 404, "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := g.Do("POST", tc.path, strings.NewReader(tc.body), tc.header)
			if code != tc.code || !strings.Contains(string(body), tc.want) || len(body) > 600 {
				t.Fatalf("= %d %.200s (%d bytes), want %d naming %q", code, body, len(body), tc.code, tc.want)
			}
		})
	}
	if code, body := g.Do("GET", "/ui/static/", nil, nil); code != 404 || strings.Contains(string(body), "style.css") {
		t.Fatalf("/ui/static/ = %d %.200s, want 404 without a listing", code, body)
	}
	if code, _ := g.Do("GET", "/ui/static/style.css", nil, nil); code != 200 {
		t.Fatalf("/ui/static/style.css = %d", code)
	}
}
