package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/callgate/callgate/sdk"
)

// fakeBatchPlugin answers batches after a gate opens, recording each
// batch's bodies, so a test controls what queues while a call is out.
type fakeBatchPlugin struct {
	mu      sync.Mutex
	batches [][]string
	gate    chan struct{} // nil: answer at once
	started chan struct{} // told of each call (buffered)
	err     error         // for the whole call
}

func (f *fakeBatchPlugin) batch(ctx context.Context, reqs []sdk.WebhookRequest) ([]sdk.WebhookAnswer, error) {
	var bodies []string
	for _, r := range reqs {
		bodies = append(bodies, string(r.Body))
	}
	f.mu.Lock()
	f.batches = append(f.batches, bodies)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.err != nil {
		return nil, f.err
	}
	out := make([]sdk.WebhookAnswer, len(reqs))
	for i, r := range reqs {
		if strings.HasPrefix(string(r.Body), "bad") {
			out[i].Err = sdk.InvalidSignature("signature mismatch")
			continue
		}
		out[i].Result = sdk.WebhookResult{Events: []sdk.Event{{Key: string(r.Body)}}}
	}
	return out, nil
}

func (f *fakeBatchPlugin) single(_ context.Context, r sdk.WebhookRequest) (sdk.WebhookResult, error) {
	f.mu.Lock()
	f.batches = append(f.batches, []string{"single:" + string(r.Body)})
	f.mu.Unlock()
	return sdk.WebhookResult{Events: []sdk.Event{{Key: string(r.Body)}}}, nil
}

func (f *fakeBatchPlugin) seen() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batches)
}

func hook(body string) sdk.WebhookRequest { return sdk.WebhookRequest{Body: []byte(body)} }

// An idle coalescer sends each webhook alone, at once.
func TestCoalescerIdleGoesAlone(t *testing.T) {
	f := &fakeBatchPlugin{}
	c := newCoalescer(f.batch, f.single, nil)
	for i := range 3 {
		res, err := c.handle(context.Background(), hook(fmt.Sprint(i)), time.Time{})
		if err != nil || len(res.Events) != 1 || res.Events[0].Key != fmt.Sprint(i) {
			t.Fatalf("webhook %d: %+v, %v", i, res, err)
		}
	}
	if got := f.seen(); !slices.EqualFunc(got, [][]string{{"0"}, {"1"}, {"2"}}, slices.Equal) {
		t.Fatalf("batches %v, want one per webhook", got)
	}
}

// Webhooks arriving while every slot is busy ride the next call together,
// each getting its own answer, a bad signature failing only its own.
func TestCoalescerBatchesWhileInFlight(t *testing.T) {
	f := &fakeBatchPlugin{gate: make(chan struct{}), started: make(chan struct{}, 16)}
	c := newCoalescer(f.batch, f.single, nil)
	c.inFlightMax = 1
	type answer struct {
		body string
		res  sdk.WebhookResult
		err  error
	}
	answers := make(chan answer, 8)
	send := func(body string) {
		go func() {
			res, err := c.handle(context.Background(), hook(body), time.Time{})
			answers <- answer{body, res, err}
		}()
	}
	send("first")
	<-f.started // first is out alone; the rest queue behind it
	for _, b := range []string{"a", "bad-b", "c"} {
		send(b)
	}
	waitQueued(t, c, 3)
	close(f.gate)
	got := map[string]answer{}
	for range 4 {
		a := <-answers
		got[a.body] = a
	}
	if b := f.seen(); len(b) != 2 || !slices.Equal(b[0], []string{"first"}) || len(b[1]) != 3 {
		t.Fatalf("batches %v, want [first] then the three queued", b)
	}
	for _, body := range []string{"first", "a", "c"} {
		if a := got[body]; a.err != nil || a.res.Events[0].Key != body {
			t.Errorf("%s: %+v, %v", body, a.res, a.err)
		}
	}
	if err := got["bad-b"].err; sdk.ClassOf(err) != sdk.ClassInvalidSignature {
		t.Errorf("bad-b: %v, want its own invalid signature", err)
	}
}

func waitQueued(t *testing.T, c *coalescer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		q := len(c.queue)
		c.mu.Unlock()
		if q >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("fewer than %d webhooks queued", n)
}

// A batch stops at maxBatch webhooks and at maxBytes of bodies.
func TestCoalescerBounds(t *testing.T) {
	for _, tc := range []struct {
		name            string
		maxBatch, bytes int
		bodies          []string
		want            [][]string
	}{
		{"count", 2, 1 << 20, []string{"a", "b", "c"}, [][]string{{"a", "b"}, {"c"}}},
		{"bytes", 64, 5, []string{"aaa", "bbb", "c"}, [][]string{{"aaa"}, {"bbb", "c"}}},
		{"one over the limit still goes", 64, 2, []string{"aaaa"}, [][]string{{"aaaa"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCoalescer(nil, nil, nil)
			c.maxBatch, c.maxBytes = tc.maxBatch, tc.bytes
			for _, b := range tc.bodies {
				c.queue = append(c.queue, &waiter{ctx: context.Background(), req: hook(b)})
			}
			var got [][]string
			for len(c.queue) > 0 {
				var bodies []string
				for _, w := range c.takeLocked() {
					bodies = append(bodies, string(w.req.Body))
				}
				got = append(got, bodies)
			}
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Fatalf("batches %v, want %v", got, tc.want)
			}
		})
	}
}

// A plugin older than protocol 1.1 gets every webhook alone, from the
// first one on, and the caller never sees the difference.
func TestCoalescerFallsBackForOldPlugins(t *testing.T) {
	f := &fakeBatchPlugin{err: sdk.ErrBatchUnsupported}
	c := newCoalescer(f.batch, f.single, nil)
	for _, b := range []string{"x", "y"} {
		res, err := c.handle(context.Background(), hook(b), time.Time{})
		if err != nil || res.Events[0].Key != b {
			t.Fatalf("%s: %+v, %v", b, res, err)
		}
	}
	if got := f.seen(); !slices.EqualFunc(got, [][]string{{"x"}, {"single:x"}, {"single:y"}}, slices.Equal) {
		t.Fatalf("calls %v, want one batch try and then singles", got)
	}
}

// A failed call fails each of its webhooks with its error; a caller whose
// context ends stops waiting with a transient error, and the slot frees.
func TestCoalescerErrorsAndCancel(t *testing.T) {
	f := &fakeBatchPlugin{err: sdk.Transient("plugin gone")}
	c := newCoalescer(f.batch, f.single, nil)
	if _, err := c.handle(context.Background(), hook("a"), time.Time{}); sdk.ClassOf(err) != sdk.ClassTransient || !strings.Contains(err.Error(), "plugin gone") {
		t.Fatalf("got %v, want the call's transient error", err)
	}

	f = &fakeBatchPlugin{gate: make(chan struct{})}
	c = newCoalescer(f.batch, f.single, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.handle(ctx, hook("slow"), time.Time{})
	<-ctx.Done() // the batch's own timer may fire a moment before the caller's
	if sdk.ClassOf(err) != sdk.ClassTransient || !strings.Contains(err.Error(), "deadline exceeded") || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("got %v, want a transient deadline error", err)
	}
	close(f.gate)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight != 0 || len(c.queue) != 0 {
		t.Fatalf("in flight %d, queued %d after the call ended", c.inFlight, len(c.queue))
	}
}

// A deadline given without a context timer is kept by the batch's call:
// the webhook's answer is a transient error once it passes.
func TestCoalescerDeadlineWithoutTimer(t *testing.T) {
	f := &fakeBatchPlugin{gate: make(chan struct{})}
	defer close(f.gate)
	c := newCoalescer(f.batch, f.single, nil)
	start := time.Now()
	_, err := c.handle(context.Background(), hook("slow"), start.Add(30*time.Millisecond))
	if sdk.ClassOf(err) != sdk.ClassTransient || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("got %v, want a transient deadline error", err)
	}
	if waited := time.Since(start); waited < 30*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("answered after %v, want at the 30ms deadline", waited)
	}
}

// Through a real plugin process: many concurrent webhooks, mixed with bad
// ones, each get their own answer, and they did share calls.
func TestCoalescedWebhooksThroughAPluginProcess(t *testing.T) {
	h, _ := newHost(t, Config{Builtins: []string{"alpha"}})
	crm, _ := h.CRM("alpha")
	var wg sync.WaitGroup
	errs := make(chan error, 64*10)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				body := fmt.Sprint((g+i)%5 + 1)
				if i == 3 {
					body = "not a number"
				}
				res, err := crm.(*client).HandleWebhookWithin(context.Background(), sdk.WebhookRequest{Body: []byte(body)}, 10*time.Second)
				switch {
				case body == "not a number" && sdk.ClassOf(err) != sdk.ClassBadRequest:
					errs <- fmt.Errorf("bad body: %v, want its own bad_request", err)
				case body != "not a number" && (err != nil || fmt.Sprint(len(res.Events)) != body):
					errs <- fmt.Errorf("body %s: %d events, %v", body, len(res.Events), err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p := h.procs["alpha"]
	if calls, hooks := batchStats(t, p); calls >= hooks {
		t.Errorf("%d calls for %d webhooks: none shared a call", calls, hooks)
	}
}

// batchStats reads the batch-size histogram of p's plugin.
func batchStats(t *testing.T, p *process) (calls, webhooks uint64) {
	t.Helper()
	var m dto.Metric
	if err := p.h.metrics.batch.WithLabelValues(p.name).(prometheus.Histogram).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount(), uint64(m.GetHistogram().GetSampleSum())
}
