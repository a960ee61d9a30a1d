package pluginhost

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callgate/callgate/sdk"
)

// Coalescing bounds: enough in flight that the plugin always has the next
// batch waiting when it finishes one, and batches small enough that one
// message stays far below sdk.MaxMessageBytes.
const (
	coalesceInFlight = 2
	coalesceMaxBatch = 64
	coalesceMaxBytes = 8 << 20
)

// coalescer turns concurrent webhooks for one plugin into few round trips
// without making any of them wait for company: a webhook that finds a
// call slot free goes at once (with whatever queued behind the slots);
// webhooks arriving while coalesceInFlight calls are out queue and all
// ride the next call. So an idle gateway sends every webhook alone, with
// no added latency, and a loaded one sends batches as large as the load.
type coalescer struct {
	// batch sends reqs in one call (sdk.WebhookBatcher.HandleWebhooks).
	batch func(ctx context.Context, reqs []sdk.WebhookRequest) ([]sdk.WebhookAnswer, error)
	// single sends one request the old way, for plugins without batches.
	single func(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error)
	// sized is told each batch's size (a metric); may be nil.
	sized func(n int)

	inFlightMax, maxBatch, maxBytes int

	mu       sync.Mutex
	inFlight int
	queue    []*waiter
	// unsupported: the plugin answered sdk.ErrBatchUnsupported once, so
	// every webhook goes alone from then on.
	unsupported atomic.Bool
}

type waiter struct {
	ctx context.Context
	// deadline bounds the webhook (zero: ctx's deadline, if any); the
	// batch it rides enforces it with the batch's one timer.
	deadline time.Time
	req      sdk.WebhookRequest
	done     chan sdk.WebhookAnswer // buffered: the sender never blocks
}

func newCoalescer(batch func(context.Context, []sdk.WebhookRequest) ([]sdk.WebhookAnswer, error),
	single func(context.Context, sdk.WebhookRequest) (sdk.WebhookResult, error), sized func(int)) *coalescer {
	return &coalescer{batch: batch, single: single, sized: sized,
		inFlightMax: coalesceInFlight, maxBatch: coalesceMaxBatch, maxBytes: coalesceMaxBytes}
}

// handle answers one webhook, in a batch when others are waiting too,
// by deadline (zero: ctx's own deadline, if any). The deadline needs no
// timer per webhook: the batch's call carries one for all its webhooks,
// and a webhook's answer comes when its batch's call ends.
func (c *coalescer) handle(ctx context.Context, req sdk.WebhookRequest, deadline time.Time) (sdk.WebhookResult, error) {
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	if c.unsupported.Load() {
		if !deadline.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		return c.single(ctx, req)
	}
	w := &waiter{ctx: ctx, deadline: deadline, req: req, done: make(chan sdk.WebhookAnswer, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	var batch []*waiter
	lead := c.inFlight < c.inFlightMax
	if lead {
		c.inFlight++
		batch = c.takeLocked()
	}
	c.mu.Unlock()
	if lead {
		c.run(batch) // w is in it: the first webhook goes at once
	}
	select {
	case a := <-w.done:
		if errors.Is(a.Err, sdk.ErrBatchUnsupported) {
			return c.handle(ctx, req, deadline) // now unsupported: alone
		}
		return a.Result, a.Err
	case <-ctx.Done():
		return sdk.WebhookResult{}, gaveUp(ctx)
	}
}

// gaveUp is the transient error of a caller whose context ended first.
func gaveUp(ctx context.Context) error {
	return &sdk.Error{Class: sdk.ClassTransient, Message: "plugin call HandleWebhook: " + ctx.Err().Error()}
}

// takeLocked removes the next batch from the queue: up to maxBatch
// webhooks and maxBytes of bodies (always at least one), skipping those
// whose caller has given up.
func (c *coalescer) takeLocked() []*waiter {
	var out []*waiter
	size, n := 0, 0
	for n < len(c.queue) && len(out) < c.maxBatch {
		w := c.queue[n]
		if w.ctx.Err() != nil {
			n++
			continue
		}
		if len(out) > 0 && size+len(w.req.Body) > c.maxBytes {
			break
		}
		size += len(w.req.Body)
		out = append(out, w)
		n++
	}
	clear(c.queue[:n])
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = c.queue[:0:0] // let the backing array go
	}
	return out
}

// run sends batch and answers its webhooks, then, while webhooks are
// queued, starts their call in a new goroutine (the caller that ran this
// one has its answer and returns).
func (c *coalescer) run(batch []*waiter) {
	if len(batch) > 0 {
		c.send(batch)
	}
	c.mu.Lock()
	next := c.takeLocked()
	if len(next) == 0 {
		c.inFlight--
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	go c.run(next)
}

// send makes one call for batch. Its deadline is the latest of the
// callers' (all come from the same handler, so they are close together);
// one timer for the whole batch instead of one per webhook.
func (c *coalescer) send(batch []*waiter) {
	if c.sized != nil {
		c.sized(len(batch))
	}
	ctx, cancel := batchContext(batch)
	defer cancel()
	reqs := make([]sdk.WebhookRequest, len(batch))
	for i, w := range batch {
		reqs[i] = w.req
	}
	answers, err := c.batch(ctx, reqs)
	switch {
	case errors.Is(err, sdk.ErrBatchUnsupported):
		c.unsupported.Store(true)
	case err != nil && ctx.Err() != nil:
		err = gaveUp(ctx) // the batch's deadline: the callers' own
	}
	for i, w := range batch {
		if err != nil {
			w.done <- sdk.WebhookAnswer{Err: err}
			continue
		}
		w.done <- answers[i]
	}
}

// batchContext bounds a batch's call by its webhooks' latest deadline
// (all come from the same handler with the same timeout, so they are close
// together); with any webhook that has none, the call has none either (as
// that webhook's own call would not).
func batchContext(batch []*waiter) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, w := range batch {
		if w.deadline.IsZero() {
			return context.WithCancel(context.Background())
		}
		if w.deadline.After(latest) {
			latest = w.deadline
		}
	}
	return context.WithDeadline(context.Background(), latest)
}
