package hubspot

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/callgate/callgate/sdk"
)

// HubSpot's documented floor for private apps: 100 requests per rolling 10 s.
const (
	defaultRateMax      = 100
	defaultRateInterval = 10 * time.Second
)

// limiter keeps one token's requests inside HubSpot's rolling window
// (X-HubSpot-RateLimit-Max requests per -Interval-Milliseconds) and spends
// all of it when nothing else uses the app.
//
// It keeps a log of its own requests: each holds a slot from when it is
// sent until one interval after its response arrived (HubSpot counted it
// at some moment in between, so the slot is never freed before HubSpot
// frees it). A request may go when own slots plus others' use is under Max.
// Others' use is read from -Remaining: HubSpot's count after admitting a
// request is Max - Remaining, and of that count this limiter's own
// requests (the one answered and those sent before it, still held) are not
// someone else's. What is left is held for one interval after the answer.
// Until the first answer names the limits, one request is in flight at a
// time, so a low Max is learnt before a burst can exceed it.
type limiter struct {
	mu          sync.Mutex
	max         int
	interval    time.Duration
	known       bool // a response has named Max and Interval
	sent        []*slot
	others      int       // requests of other clients in HubSpot's window
	othersUntil time.Time // when that estimate lapses
	pausedUntil time.Time // after a 429: send nothing until then
	changed     chan struct{}
}

// slot is one request this limiter sent.
type slot struct {
	sentAt   time.Time
	answered bool
	until    time.Time // answered: the slot is free from then on
}

func newLimiter() *limiter {
	return &limiter{max: defaultRateMax, interval: defaultRateInterval, changed: make(chan struct{})}
}

// errPaused says the limiter is holding requests after a 429.
type errPaused struct{ wait time.Duration }

func (e errPaused) Error() string { return "paused after HubSpot's 429 for " + e.wait.String() }

// errPastDeadline says the next free slot comes after the context's deadline.
var errPastDeadline = errors.New("the next free rate-limit slot is past the deadline")

// wait blocks until a request may be sent and returns its slot, which the
// caller hands back to done with the response's headers. now is the
// injected clock, for the 429 pause; the window runs on wall time.
func (l *limiter) wait(ctx context.Context, now time.Time) (*slot, error) {
	for {
		l.mu.Lock()
		if now.Before(l.pausedUntil) {
			wait := l.pausedUntil.Sub(now)
			l.mu.Unlock()
			return nil, errPaused{wait: wait}
		}
		wall := time.Now()
		l.expire(wall)
		free, at := l.free(wall)
		if free {
			s := &slot{sentAt: wall}
			l.sent = append(l.sent, s)
			l.mu.Unlock()
			return s, nil
		}
		changed := l.changed
		l.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if !at.IsZero() {
			if dl, ok := ctx.Deadline(); ok && at.After(dl) {
				return nil, errPastDeadline
			}
			timer = time.NewTimer(at.Sub(wall))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// expire drops slots whose interval has passed; l.mu is held.
func (l *limiter) expire(wall time.Time) {
	i := 0
	for _, s := range l.sent {
		if !s.answered || wall.Before(s.until) {
			l.sent[i] = s
			i++
		}
	}
	clear(l.sent[i:])
	l.sent = l.sent[:i]
	if !l.othersUntil.IsZero() && !wall.Before(l.othersUntil) {
		l.others, l.othersUntil = 0, time.Time{}
	}
}

// free reports whether a request may go now; if not, when to look again
// (zero: when a request in flight is answered). l.mu is held.
func (l *limiter) free(wall time.Time) (bool, time.Time) {
	if !l.known {
		for _, s := range l.sent {
			if !s.answered {
				return false, time.Time{}
			}
		}
	}
	if len(l.sent)+l.others < l.max {
		return true, time.Time{}
	}
	// Full: the earliest moment something lapses.
	var next time.Time
	for _, s := range l.sent {
		if s.answered && (next.IsZero() || s.until.Before(next)) {
			next = s.until
		}
	}
	if l.others > 0 && (next.IsZero() || l.othersUntil.Before(next)) {
		next = l.othersUntil
	}
	return false, next
}

// done releases s into the window and adapts to HubSpot's rate-limit
// headers (h nil: no response came).
func (l *limiter) done(s *slot, h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	wall := time.Now()
	if h != nil {
		mx, okMax := headerInt(h, "X-HubSpot-RateLimit-Max")
		ms, okInterval := headerInt(h, "X-HubSpot-RateLimit-Interval-Milliseconds")
		if okMax && mx > 0 {
			l.max, l.known = mx, true
			if okInterval && ms > 0 {
				l.interval = time.Duration(ms) * time.Millisecond
			}
		}
		if remaining, ok := headerInt(h, "X-HubSpot-RateLimit-Remaining"); ok && remaining >= 0 && s != nil {
			// HubSpot's count when it admitted s, less this limiter's
			// requests it had counted by then: s and those sent before it.
			own := 0
			for _, o := range l.sent {
				if o == s || !o.sentAt.After(s.sentAt) {
					own++
				}
			}
			l.others = max(0, l.max-remaining-own)
			l.othersUntil = wall.Add(l.interval)
			if l.others == 0 {
				l.othersUntil = time.Time{}
			}
		}
	}
	if s != nil {
		s.answered, s.until = true, wall.Add(l.interval)
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// pause holds every request until until.
func (l *limiter) pause(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
}

// window is the interval HubSpot last named (10 s until it names one).
func (l *limiter) window() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.interval
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
