package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/throttle"
)

// seriesCount is the number of sample lines /metrics serves for names
// with prefix.
func seriesCount(t *testing.T, url, prefix string) (int, int) {
	t.Helper()
	r := do(t, "GET", url+"/metrics", nil, nil)
	n := 0
	for line := range strings.SplitSeq(string(r.body), "\n") {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n, len(r.body)
}

func TestMetricLabelsStayBounded(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Server) {
		s.Handle("POST", "/call/status/{dialer}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.Error(w, 404, "unknown dialer")
		}))
	})
	warm := func(i int) {
		do(t, "GET", ts.url+"/healthz", nil, nil)
		do(t, "POST", fmt.Sprintf("%s/call/status/d%d", ts.url, i), nil, nil)
		do(t, "BREW", ts.url+"/healthz", nil, nil)
		do(t, "GET", fmt.Sprintf("%s/nope/%d", ts.url, i), nil, nil)
		do(t, "DELETE", ts.url+"/healthz", nil, nil)
	}
	warm(0)
	before, sizeBefore := seriesCount(t, ts.url, "callgate_http_")
	for i := range 500 {
		warm(i)
		// Invented methods on real and invented paths: each used to add
		// two series of its own.
		do(t, fmt.Sprintf("X%dMETHOD", i), ts.url+"/healthz", nil, nil)
		do(t, fmt.Sprintf("Q%d", i), fmt.Sprintf("%s/call/status/evil%d", ts.url, i), nil, nil)
	}
	after, sizeAfter := seriesCount(t, ts.url, "callgate_http_")
	// The invented methods fold into "other": at most one new route×other
	// family per route (counter + histogram buckets, sum, count).
	if after > before+2*(1+15+2) {
		t.Fatalf("HTTP series grew from %d to %d (/metrics %d → %d bytes) after 1000 invented methods and paths",
			before, after, sizeBefore, sizeAfter)
	}
	r := do(t, "GET", ts.url+"/metrics", nil, nil)
	for _, want := range []string{`method="other",route="method_not_allowed"`, `method="DELETE",route="method_not_allowed"`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(r.body), "X1METHOD") || strings.Contains(string(r.body), "evil1") {
		t.Error("an invented method or path reached a label")
	}
}

// dialFrom opens a TCP connection to addr from the loopback address local
// (the whole of 127/8 is loopback on Linux).
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot dial from %s: %v", local, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads c until EOF or error and returns how long that took;
// it fails the test if c is still open after limit.
func closedWithin(t *testing.T, c net.Conn, limit time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %s (read %q)", limit, b)
	}
	return string(b), time.Since(start)
}

func TestSlowBodyIsCutOff(t *testing.T) {
	const readTimeout = 400 * time.Millisecond
	ts := startServer(t, Config{ReadTimeout: readTimeout}, func(s *Server) {
		s.Handle("POST", "/read", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				reply.Error(w, 400, "could not read the body")
				return
			}
			reply.JSON(w, 200, map[string]string{"status": "done"})
		}))
		s.Handle("POST", "/refuse", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.Error(w, 403, "Invalid API key") // answers without reading the body
		}))
	})
	addr := strings.TrimPrefix(ts.url, "http://")
	for _, path := range []string{"/read", "/refuse"} {
		t.Run(path, func(t *testing.T) {
			c := dialFrom(t, "127.0.0.1", addr)
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", path)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // one byte every 50ms: the body would take 80 minutes
				for {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
						if _, err := c.Write([]byte("{")); err != nil {
							return
						}
					}
				}
			}()
			_, took := closedWithin(t, c, readTimeout+2*time.Second)
			if took > readTimeout+time.Second {
				t.Errorf("trickling client held the connection %s; the bound is %s", took, readTimeout)
			}
			if r := do(t, "GET", ts.url+"/healthz", nil, nil); r.status != 200 {
				t.Errorf("healthz after a slow body = %d", r.status)
			}
		})
	}
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	ts := startServer(t, Config{IdleTimeout: 300 * time.Millisecond}, nil)
	c := dialFrom(t, "127.0.0.1", strings.TrimPrefix(ts.url, "http://"))
	fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	c.SetReadDeadline(start.Add(3 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("read a byte from an idle connection")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("idle keep-alive connection still open after 3s; idle_timeout is 300ms")
	}
}

// served reports whether a request on c is answered.
func served(c net.Conn, wait time.Duration) bool {
	c.SetDeadline(time.Now().Add(wait))
	if _, err := fmt.Fprint(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

func TestConnectionsPerAddress(t *testing.T) {
	ts := startServer(t, Config{MaxConnectionsPerIP: 3}, nil)
	addr := strings.TrimPrefix(ts.url, "http://")
	var held []net.Conn
	for range 3 {
		c := dialFrom(t, "127.0.0.1", addr)
		if !served(c, 2*time.Second) {
			t.Fatal("one of the first 3 connections was not served")
		}
		held = append(held, c)
	}
	extra := dialFrom(t, "127.0.0.1", addr)
	if served(extra, 2*time.Second) {
		t.Fatal("the 4th connection from one address was served; max_connections_per_ip is 3")
	}
	if got, _ := closedWithin(t, extra, 2*time.Second); got != "" {
		t.Errorf("the refused connection got %q", got)
	}
	other := dialFrom(t, "127.0.0.2", addr)
	if !served(other, 2*time.Second) {
		t.Fatal("another address was not served while 127.0.0.1 was at its cap")
	}
	held[0].Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		again := dialFrom(t, "127.0.0.1", addr)
		if served(again, time.Second) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection did not free its slot")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.log.waitFor(t, "too many open connections from one address")
}

func TestTrustedProxyIsNotCappedPerAddress(t *testing.T) {
	ts := startServer(t, Config{MaxConnectionsPerIP: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, nil)
	addr := strings.TrimPrefix(ts.url, "http://")
	for i := range 3 {
		if c := dialFrom(t, "127.0.0.1", addr); !served(c, 2*time.Second) {
			t.Fatalf("connection %d from the trusted proxy was refused", i+1)
		}
	}
}

func TestMaxConnectionsQueuesTheRest(t *testing.T) {
	ts := startServer(t, Config{MaxConnections: 2}, nil)
	addr := strings.TrimPrefix(ts.url, "http://")
	a, b := dialFrom(t, "127.0.0.1", addr), dialFrom(t, "127.0.0.1", addr)
	if !served(a, 2*time.Second) || !served(b, 2*time.Second) {
		t.Fatal("the first two connections were not served")
	}
	third := dialFrom(t, "127.0.0.1", addr)
	answered := make(chan bool, 1)
	go func() { answered <- served(third, 5*time.Second) }()
	select {
	case <-answered:
		t.Fatal("a third connection was served past max_connections = 2")
	case <-time.After(300 * time.Millisecond):
	}
	a.Close()
	if !<-answered {
		t.Fatal("the queued connection was not served once a slot freed")
	}
}

func TestAdminThrottle(t *testing.T) {
	const token = "the-admin-token"
	proxy := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	th := throttle.New(throttle.Config{Burst: 3, Rate: 0.01, MaxAddresses: 50, TrustedProxies: proxy})
	ts := startServer(t, Config{AdminTokenSHA256: []string{sha256Hex(token)}, AdminThrottle: th, TrustedProxies: proxy}, func(s *Server) {
		s.HandleAdmin("GET", "/calls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.JSON(w, 200, map[string]any{"calls": []any{}})
		}))
	})
	as := func(client, tok string) response {
		return do(t, "GET", ts.url+"/api/v1/calls", nil, http.Header{
			"Authorization": {"Bearer " + tok}, "X-Forwarded-For": {client}})
	}
	for i := range 3 {
		if r := as("203.0.113.9", fmt.Sprintf("guess-%d", i)); r.status != 401 {
			t.Fatalf("wrong token %d = %d, want 401", i+1, r.status)
		}
	}
	r := as("203.0.113.9", "guess-4")
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.envelope(t).Status != "error" {
		t.Fatalf("4th wrong token = %d %v %s, want 429 with Retry-After", r.status, r.header, r.body)
	}
	// The throttled address is refused before its token is checked, so a
	// right guess from it tells it nothing.
	if r := as("203.0.113.9", token); r.status != 429 {
		t.Errorf("right token from the throttled address = %d, want 429", r.status)
	}
	if r := as("198.51.100.20", token); r.status != 200 {
		t.Fatalf("right token from another address = %d %s, want 200", r.status, r.body)
	}
	for i := range 20 { // the right token never spends the budget
		if r := as("198.51.100.20", token); r.status != 200 {
			t.Fatalf("right token #%d = %d", i+2, r.status)
		}
	}
	if r := do(t, "GET", ts.url+"/api/v1/calls", nil, nil); r.status != 401 {
		t.Errorf("no token = %d, want 401 (not a guess, not throttled)", r.status)
	}
	for i := range 500 {
		as(fmt.Sprintf("10.9.%d.%d", i/250, i%250), "guess")
	}
	if n := th.Len(); n > 50 {
		t.Errorf("throttle table holds %d addresses; the cap is 50", n)
	}
}

func TestAdminThrottleWithoutProxyUsesThePeer(t *testing.T) {
	const token = "the-admin-token"
	th := throttle.New(throttle.Config{Burst: 2, Rate: 0.01})
	ts := startServer(t, Config{AdminTokenSHA256: []string{sha256Hex(token)}, AdminThrottle: th}, func(s *Server) {
		s.HandleAdmin("GET", "/calls", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply.JSON(w, 200, map[string]any{})
		}))
	})
	from := func(local, tok, xff string) int {
		tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}).DialContext}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequestWithContext(context.Background(), "GET", ts.url+"/api/v1/calls", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Skipf("cannot dial from %s: %v", local, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// A forged X-Forwarded-For from an untrusted peer changes nothing.
	for i := range 3 {
		from("127.0.0.1", "wrong", fmt.Sprintf("192.0.2.%d", i))
	}
	if got := from("127.0.0.1", "wrong", "192.0.2.99"); got != 429 {
		t.Fatalf("forged X-Forwarded-For escaped the throttle: %d", got)
	}
	if got := from("127.0.0.2", token, ""); got != 200 {
		t.Fatalf("right token from 127.0.0.2 = %d, want 200", got)
	}
}

func TestNotFoundDoesNotEchoALongPath(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	long := "/" + strings.Repeat("a", 4000)
	r := do(t, "GET", ts.url+long, nil, nil)
	msg := r.envelope(t).Message
	if r.status != 404 || len(msg) > 200 || !strings.Contains(msg, "…") {
		t.Fatalf("404 for a 4000-byte path = %d, message of %d bytes: %.100s", r.status, len(msg), msg)
	}
}
