// Package throttle slows down the guessing of secrets: it keeps a token
// bucket of failed authentications per client address, so one address
// that keeps sending wrong admin tokens or API keys is turned away with
// 429 while every other address signs in as usual.
//
// Its guarantees: a throttled address is refused before its credential
// is checked (a right guess from it is not even looked at, so the
// throttle really bounds the guessing rate); a success costs nothing; the
// table of addresses never holds more than Config.MaxAddresses entries.
package throttle

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultBurst        = 10
	DefaultRate         = 10.0 / 60 // failures per second: 10 a minute
	DefaultMaxAddresses = 10000
)

// Config configures New.
type Config struct {
	// Burst is how many failures an address may have in a row before it
	// is throttled (default 10).
	Burst int
	// Rate is how many failures per second are forgiven (default 10 a
	// minute): a throttled address may try again after 1/Rate.
	Rate float64
	// MaxAddresses caps the table; past it the address seen least
	// recently is forgotten (default 10000).
	MaxAddresses int
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	// Empty: the TCP peer is the client, X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
	// OnThrottled, when set, is called with the address each time one
	// starts being refused (once per streak of refusals, not per request),
	// for a log line.
	OnThrottled func(addr string)
	Now         func() time.Time
}

// Throttle counts failures per client address.
type Throttle struct {
	cfg Config

	mu     sync.Mutex
	byAddr map[string]*list.Element // of *bucket
	lru    *list.List               // front: touched most recently
}

type bucket struct {
	addr     string
	tokens   float64
	at       time.Time
	refusing bool // refused since it last had a try
}

// New builds a Throttle; zero fields take their defaults.
func New(cfg Config) *Throttle {
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.MaxAddresses <= 0 {
		cfg.MaxAddresses = DefaultMaxAddresses
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Throttle{cfg: cfg, byAddr: map[string]*list.Element{}, lru: list.New()}
}

// Allow takes one try from the request's address. It answers false, and
// how long to wait, when the address has used up its failures; the caller
// then refuses with 429 and Retry-After without checking the credential.
// On true the caller checks the credential and calls Succeeded if it was
// right (a success gives the try back); a failure keeps it spent. Taking
// before checking means concurrent guesses from one address cannot pass
// the throttle all at once.
func (t *Throttle) Allow(r *http.Request) (time.Duration, bool) {
	return t.allow(t.Key(r))
}

// Succeeded gives back the try Allow took for the request's address.
func (t *Throttle) Succeeded(r *http.Request) { t.refund(t.Key(r)) }

// Len is the number of addresses in the table.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}

func (t *Throttle) allow(key string) (time.Duration, bool) {
	now := t.cfg.Now()
	t.mu.Lock()
	b := t.touch(key, now)
	if b.tokens < 1 {
		wait := time.Duration((1 - b.tokens) / t.cfg.Rate * float64(time.Second))
		first := !b.refusing
		b.refusing = true
		t.mu.Unlock()
		if first && t.cfg.OnThrottled != nil {
			t.cfg.OnThrottled(key)
		}
		return wait, false
	}
	b.tokens--
	b.refusing = false
	t.mu.Unlock()
	return 0, true
}

func (t *Throttle) refund(key string) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.touch(key, now)
	b.tokens = min(float64(t.cfg.Burst), b.tokens+1)
}

// touch returns key's bucket refilled to now, at the front of the LRU,
// creating it (and forgetting the least recent address past the cap).
func (t *Throttle) touch(key string, now time.Time) *bucket {
	if e, ok := t.byAddr[key]; ok {
		t.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		if now.After(b.at) {
			b.tokens = min(float64(t.cfg.Burst), b.tokens+now.Sub(b.at).Seconds()*t.cfg.Rate)
			b.at = now
		}
		return b
	}
	for t.lru.Len() >= t.cfg.MaxAddresses {
		old := t.lru.Back()
		t.lru.Remove(old)
		delete(t.byAddr, old.Value.(*bucket).addr)
	}
	b := &bucket{addr: key, tokens: float64(t.cfg.Burst), at: now}
	t.byAddr[key] = t.lru.PushFront(b)
	return b
}

// Key is the address the request's failures are counted under: the
// client's IP (IPv6 by its /64, which one subscriber usually holds
// whole). The TCP peer is the client unless it is a trusted proxy; then
// the client is the rightmost X-Forwarded-For entry that is not itself a
// trusted proxy (entries left of it could be written by anyone).
func (t *Throttle) Key(r *http.Request) string {
	return Key(ClientIP(r, t.cfg.TrustedProxies))
}

// ClientIP is the request's client address, believing X-Forwarded-For
// only from trusted proxies (see Throttle.Key). An unreadable peer
// address is the zero Addr.
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseIP(r.RemoteAddr)
	if !peer.IsValid() || !Trusted(peer, trusted) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			ip := parseIP(strings.TrimSpace(parts[j]))
			if !ip.IsValid() {
				return peer // a garbled chain: count it against the proxy
			}
			if !Trusted(ip, trusted) {
				return ip
			}
		}
	}
	return peer
}

// Trusted reports whether ip is inside one of the prefixes.
func Trusted(ip netip.Addr, trusted []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Key maps an IP to its table key: IPv4 whole, IPv6 by its /64.
func Key(ip netip.Addr) string {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return "unknown"
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// parseIP reads "ip", "ip:port" or "[ip]:port".
func parseIP(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return ip.WithZone("").Unmap()
}
