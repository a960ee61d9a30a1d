package throttle

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)} }

func from(remote string, xff ...string) *http.Request {
	r := httptest.NewRequest("POST", "/api/v1/calls", nil)
	r.RemoteAddr = remote
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func TestThrottleFailuresPerAddress(t *testing.T) {
	c := newClock()
	th := New(Config{Burst: 3, Rate: 1, Now: c.Now})
	attacker, admin := from("203.0.113.7:4000"), from("198.51.100.2:5000")
	for i := range 3 {
		if _, ok := th.Allow(attacker); !ok {
			t.Fatalf("failure %d refused; the first 3 should be let through", i+1)
		}
	}
	wait, ok := th.Allow(attacker)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("4th try from the attacker: ok=%v wait=%v, want refused with a wait of at most 1s", ok, wait)
	}
	if _, ok := th.Allow(admin); !ok {
		t.Fatal("another address was throttled by the attacker's failures")
	}
	th.Succeeded(admin)
	c.Add(time.Second)
	if _, ok := th.Allow(attacker); !ok {
		t.Fatal("after 1s at 1/s the attacker should have one try back")
	}
	if _, ok := th.Allow(attacker); ok {
		t.Fatal("the try given back was spent; the next must be refused")
	}
}

func TestThrottleSuccessCostsNothing(t *testing.T) {
	th := New(Config{Burst: 2, Rate: 0.001, Now: newClock().Now})
	r := from("192.0.2.1:1")
	for i := range 100 {
		if _, ok := th.Allow(r); !ok {
			t.Fatalf("success %d was throttled", i)
		}
		th.Succeeded(r)
	}
}

func TestThrottleConcurrentGuessesCannotOvershoot(t *testing.T) {
	th := New(Config{Burst: 5, Rate: 0.0001, Now: newClock().Now})
	var mu sync.Mutex
	passed := 0
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if _, ok := th.Allow(from("192.0.2.9:1")); ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if passed != 5 {
		t.Fatalf("%d of 200 concurrent guesses passed, want exactly the burst (5)", passed)
	}
}

func TestThrottleTableIsBounded(t *testing.T) {
	c := newClock()
	th := New(Config{Burst: 1, Rate: 0.001, MaxAddresses: 100, Now: c.Now})
	for i := range 5000 {
		th.Allow(from(fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)))
	}
	if n := th.Len(); n != 100 {
		t.Fatalf("table holds %d addresses after 5000, want the cap 100", n)
	}
	// The most recent address is still remembered (and throttled).
	if _, ok := th.Allow(from("10.0.19.135:1")); ok {
		t.Fatal("the newest address was forgotten")
	}
}

func TestThrottleIPv6CountsBySlash64(t *testing.T) {
	th := New(Config{Burst: 2, Rate: 0.001, Now: newClock().Now})
	th.Allow(from("[2001:db8:1:2::1]:1"))
	th.Allow(from("[2001:db8:1:2:ffff::9]:1"))
	if _, ok := th.Allow(from("[2001:db8:1:2::abcd]:1")); ok {
		t.Fatal("a third address of the same /64 got through: IPv6 must count by /64")
	}
	if _, ok := th.Allow(from("[2001:db8:1:3::1]:1")); !ok {
		t.Fatal("another /64 was throttled")
	}
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies configured: X-Forwarded-For ignored", "203.0.113.7:1", []string{"1.2.3.4"}, nil, "203.0.113.7"},
		{"untrusted peer: X-Forwarded-For ignored", "203.0.113.7:1", []string{"1.2.3.4"}, proxies, "203.0.113.7"},
		{"trusted proxy: its client", "10.1.1.1:1", []string{"198.51.100.4"}, proxies, "198.51.100.4"},
		{"forged left entries are skipped", "10.1.1.1:1", []string{"6.6.6.6, 198.51.100.4"}, proxies, "198.51.100.4"},
		{"chain of trusted proxies", "10.1.1.1:1", []string{"198.51.100.4, 10.2.2.2", "10.3.3.3"}, proxies, "198.51.100.4"},
		{"trusted proxy without the header", "10.1.1.1:1", nil, proxies, "10.1.1.1"},
		{"garbled header counts against the proxy", "10.1.1.1:1", []string{"not-an-ip"}, proxies, "10.1.1.1"},
		{"ipv6 loopback proxy", "[::1]:8080", []string{"2001:db8::5"}, proxies, "2001:db8::5"},
		{"v4-mapped peer", "[::ffff:10.1.1.1]:1", []string{"198.51.100.4"}, proxies, "198.51.100.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClientIP(from(tc.remote, tc.xff...), tc.trusted); got.String() != tc.want {
				t.Errorf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestThrottleReportsEachStreakOnce(t *testing.T) {
	c := newClock()
	var got []string
	th := New(Config{Burst: 1, Rate: 1, Now: c.Now, OnThrottled: func(addr string) { got = append(got, addr) }})
	r := from("192.0.2.5:1")
	th.Allow(r) // the one try
	for range 5 {
		th.Allow(r)
	}
	c.Add(time.Second)
	th.Allow(r) // a try again: the streak ends
	th.Allow(r)
	if len(got) != 2 || got[0] != "192.0.2.5" {
		t.Fatalf("OnThrottled calls = %v, want 192.0.2.5 twice (once per streak)", got)
	}
}

// FuzzClientIP: whatever a client writes in X-Forwarded-For, the address
// found is the peer or an entry of the header, never a trusted proxy
// unless the peer is one and the header names no one else.
func FuzzClientIP(f *testing.F) {
	for _, s := range [][2]string{
		{"10.1.1.1:443", "198.51.100.4"},
		{"10.1.1.1:443", "6.6.6.6, 198.51.100.4, 10.2.2.2"},
		{"[::1]:80", "2001:db8::5, ::1"},
		{"203.0.113.7:1", "1.2.3.4"},
		{"10.1.1.1:1", "not-an-ip,,"},
		{"garbage", "1.1.1.1"},
	} {
		f.Add(s[0], s[1])
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := from(remote, xff)
		ip := ClientIP(r, trusted)
		peer := parseIP(remote)
		if !Trusted(peer, trusted) {
			if ip != peer {
				t.Fatalf("untrusted peer %q: client %v, want the peer", remote, ip)
			}
			return
		}
		inHeader := false
		for part := range strings.SplitSeq(xff, ",") {
			inHeader = inHeader || parseIP(strings.TrimSpace(part)) == ip
		}
		if ip != peer && !inHeader {
			t.Fatalf("client %v is neither the peer nor in %q", ip, xff)
		}
		if Trusted(ip, trusted) && ip != peer {
			t.Fatalf("client %v is a trusted proxy taken from the header", ip)
		}
		_ = Key(ip)
	})
}
