package schedtest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/callgate/callgate/gateway/dialer"
)

// TokenHeader carries the shared secret of the fake dialer's callbacks.
const TokenHeader = "X-Test-Token"

// Dialer is an in-process voice platform: it records every request and
// places each idempotency key once (a re-sent key is acknowledged but does
// not call again), like a platform that honours Idempotency-Key. Script
// what it answers with Next; by default it places the call and reports the
// outcome later (through the scheduler's HandleOutcome or StatusHandler).
type Dialer struct {
	DialerName string
	Dedupes    bool   // Idempotent(): honours the idempotency key
	Token      string // callbacks must carry it in TokenHeader

	mu      sync.Mutex
	reqs    []dialer.Request
	placed  map[string]int // idempotency key → times a call was really placed
	script  []func(context.Context, dialer.Request) (dialer.Placed, error)
	fallbck func(context.Context, dialer.Request) (dialer.Placed, error)
	dialed  chan dialer.Request
}

// NewDialer returns a fake platform named name.
func NewDialer(name string, dedupes bool) *Dialer {
	return &Dialer{DialerName: name, Dedupes: dedupes, Token: "secret", placed: map[string]int{},
		dialed: make(chan dialer.Request, 10000)}
}

// Name is the dialer's name.
func (d *Dialer) Name() string { return d.DialerName }

// Idempotent reports Dedupes.
func (d *Dialer) Idempotent() bool { return d.Dedupes }

// Next queues answers for the next dials, in order.
func (d *Dialer) Next(fns ...func(context.Context, dialer.Request) (dialer.Placed, error)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.script = append(d.script, fns...)
}

// Always sets the answer used when no scripted one is queued.
func (d *Dialer) Always(fn func(context.Context, dialer.Request) (dialer.Placed, error)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fallbck = fn
}

// Answers a fake dialer can give.
var (
	// Async places the call; the outcome comes later.
	Async = func(_ context.Context, r dialer.Request) (dialer.Placed, error) {
		return dialer.Placed{ProviderCallID: "p-" + r.Key()}, nil
	}
	// Unreachable fails like a 503.
	Unreachable = func(context.Context, dialer.Request) (dialer.Placed, error) {
		return dialer.Placed{}, fmt.Errorf("503 Service Unavailable: %w", dialer.ErrTransport)
	}
	// Rejected fails like a 422.
	Rejected = func(context.Context, dialer.Request) (dialer.Placed, error) {
		return dialer.Placed{}, fmt.Errorf("422 invalid number: %w", dialer.ErrRejected)
	}
	// Hang blocks until the caller gives up, as a platform that never answers.
	Hang = func(ctx context.Context, _ dialer.Request) (dialer.Placed, error) {
		<-ctx.Done()
		return dialer.Placed{}, fmt.Errorf("%v: %w", ctx.Err(), dialer.ErrTransport)
	}
)

// Sync answers synchronously with outcome status.
func Sync(status string) func(context.Context, dialer.Request) (dialer.Placed, error) {
	return func(_ context.Context, r dialer.Request) (dialer.Placed, error) {
		return dialer.Placed{ProviderCallID: "p-" + r.Key(), Outcome: &dialer.Outcome{Status: status}}, nil
	}
}

// Dial records the request and answers it.
func (d *Dialer) Dial(ctx context.Context, r dialer.Request) (dialer.Placed, error) {
	d.mu.Lock()
	d.reqs = append(d.reqs, r)
	fn := d.fallbck
	if len(d.script) > 0 {
		fn, d.script = d.script[0], d.script[1:]
	}
	if fn == nil {
		fn = Async
	}
	d.mu.Unlock()
	select {
	case d.dialed <- r:
	default:
	}
	p, err := fn(ctx, r)
	if err == nil {
		d.mu.Lock()
		if !d.Dedupes || d.placed[r.Key()] == 0 {
			d.placed[r.Key()]++
		}
		d.mu.Unlock()
	}
	return p, err
}

// Dialed delivers each request as Dial receives it.
func (d *Dialer) Dialed() <-chan dialer.Request { return d.dialed }

// Requests returns every request received, in order.
func (d *Dialer) Requests() []dialer.Request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]dialer.Request(nil), d.reqs...)
}

// Placed counts the calls really placed per idempotency key.
func (d *Dialer) Placed() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for k, v := range d.placed {
		out[k] = v
	}
	return out
}

// Callback is the JSON body ParseOutcome reads.
type Callback struct {
	CallID  string `json:"call_id"`
	Attempt int    `json:"attempt"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
}

// ParseOutcome checks TokenHeader and reads a Callback.
func (d *Dialer) ParseOutcome(r *http.Request, body []byte) (dialer.Outcome, error) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(TokenHeader)), []byte(d.Token)) != 1 {
		return dialer.Outcome{}, dialer.ErrBadSignature
	}
	var cb Callback
	if err := json.Unmarshal(body, &cb); err != nil {
		return dialer.Outcome{}, fmt.Errorf("%w: want {\"call_id\",\"attempt\",\"status\"}", dialer.ErrBadCallback)
	}
	if cb.CallID == "" {
		// Like real platforms, the fake posts events about calls callgate
		// did not place.
		return dialer.Outcome{}, fmt.Errorf("%w: no call_id", dialer.ErrIgnored)
	}
	return dialer.Outcome{CallID: cb.CallID, Attempt: cb.Attempt, Status: cb.Status, Reason: cb.Reason}, nil
}
