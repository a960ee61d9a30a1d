package hubspot

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/callgate/callgate/sdk"
	"golang.org/x/time/rate"
)

// HubSpot's documented floor for private apps: 100 requests per rolling 10 s.
const (
	defaultRateMax      = 100
	defaultRateInterval = 10 * time.Second
)

// limiter keeps one token's requests under HubSpot's rolling window. The
// bucket holds a tenth of the window's allowance and refills at nine tenths
// of it, so no rolling window can see more than Max requests; it is resized
// from X-HubSpot-RateLimit-Max / -Interval-Milliseconds and drained when
// -Remaining says other clients of the same app used the window.
type limiter struct {
	lim *rate.Limiter

	mu          sync.Mutex
	max         int
	interval    time.Duration
	pausedUntil time.Time // after a 429: send nothing until then
}

func newLimiter() *limiter {
	l := &limiter{lim: rate.NewLimiter(rate.Inf, 1)}
	l.configure(defaultRateMax, defaultRateInterval)
	return l
}

// configure must be called with l.mu held (or before l is shared).
func (l *limiter) configure(max int, interval time.Duration) {
	l.max, l.interval = max, interval
	l.lim.SetLimit(rate.Limit(0.9 * float64(max) / interval.Seconds()))
	l.lim.SetBurst(burstFor(max))
}

func burstFor(limit int) int { return max(1, limit/10) }

// errPaused says the limiter is holding requests after a 429.
type errPaused struct{ wait time.Duration }

func (e errPaused) Error() string { return "paused after HubSpot's 429 for " + e.wait.String() }

// wait blocks until a request may be sent.
func (l *limiter) wait(ctx context.Context, now time.Time) error {
	l.mu.Lock()
	paused := l.pausedUntil
	l.mu.Unlock()
	if now.Before(paused) {
		return errPaused{wait: paused.Sub(now)}
	}
	return l.lim.Wait(ctx)
}

// pause holds every request until until.
func (l *limiter) pause(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
}

// observe adapts the limiter to HubSpot's rate-limit headers. The token
// bucket runs on wall time (rate.Limiter.Wait does), not the injected clock.
func (l *limiter) observe(h http.Header) {
	max, okMax := headerInt(h, "X-HubSpot-RateLimit-Max")
	ms, okInterval := headerInt(h, "X-HubSpot-RateLimit-Interval-Milliseconds")
	remaining, okRemaining := headerInt(h, "X-HubSpot-RateLimit-Remaining")
	l.mu.Lock()
	defer l.mu.Unlock()
	if okMax && max > 0 {
		interval := l.interval
		if okInterval && ms > 0 {
			interval = time.Duration(ms) * time.Millisecond
		}
		if max != l.max || interval != l.interval {
			l.configure(max, interval)
		}
	}
	if okRemaining && remaining >= 0 {
		if deficit := burstFor(l.max) - remaining; deficit > 0 {
			// Others spent the window: take the difference from the bucket so
			// the next requests wait for the refill.
			l.lim.ReserveN(time.Now(), deficit)
		}
	}
}

func headerInt(h http.Header, name string) (int, bool) {
	v := h.Get(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// limiter returns the limiter for a's token.
func (p *Plugin) limiter(a account) *limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.limiters[a.tokenKey]
	if !ok {
		l = newLimiter()
		p.limiters[a.tokenKey] = l
	}
	return l
}

func (p *Plugin) classifyWait(err error, c call) error {
	if pe, ok := err.(errPaused); ok {
		return sdk.RateLimited(pe.wait, "hubspot: %s: held back after HubSpot's 429; retry in %s", c.what, pe.wait.Round(time.Second))
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sdk.Transient("hubspot: %s: %v", c.what, err)
	}
	return sdk.RateLimited(time.Second, "hubspot: %s: the client-side rate limit would delay this request past its deadline", c.what)
}
