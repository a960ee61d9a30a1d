package scheduler_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

// The scale benchmark is opt-in: it runs only with -bench, and builds a
// store of CALLGATE_SCALE_CALLS scheduled calls (default 100,000; the
// figures in docs/performance.md use 1,000,000):
//
//	CALLGATE_SCALE_CALLS=1000000 go test ./gateway/scheduler -run '^$' -bench Scale -benchtime 1x -timeout 30m
//
// Each figure is measured twice in the same run: on an empty store (the
// baseline) and on the full one. Ready time, RSS and dispatch lag are
// measured in a fresh child process (this test binary re-run), so they
// show what a restarted gateway sees, not what the bulk insert left behind.
func BenchmarkScale(b *testing.B) {
	n := 100_000
	if v := os.Getenv("CALLGATE_SCALE_CALLS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("CALLGATE_SCALE_CALLS=%q: %v", v, err)
		}
	}
	for range b.N {
		empty, full := b.TempDir(), b.TempDir()
		baseRate := insertCalls(b, empty, 0)
		base := scaleChild(b, empty)
		rate := insertCalls(b, full, n)
		got := scaleChild(b, full)
		b.Logf("insert: %.0f calls/s into %d (baseline: %.0f calls/s for the first batch into an empty store)", rate, n, baseRate)
		b.Logf("ready:  %s with %d calls (baseline empty store: %s)", got.Ready, n, base.Ready)
		b.Logf("RSS:    %.1f MB after ready, %.1f MB peak after dialing (baseline %.1f / %.1f MB)", got.ReadyRSSMB, got.PeakRSSMB, base.ReadyRSSMB, base.PeakRSSMB)
		b.Logf("lag:    p50 %s p99 %s max %s over %d dials at %d/s (baseline %s / %s / %s)",
			got.LagP50, got.LagP99, got.LagMax, got.Dials, lagRate, base.LagP50, base.LagP99, base.LagMax)
		b.ReportMetric(rate, "inserts/s")
		b.ReportMetric(got.Ready.Seconds(), "ready-s")
		b.ReportMetric(got.PeakRSSMB, "peak-rss-MB")
		b.ReportMetric(got.LagP99.Seconds(), "lag-p99-s")
		b.ReportMetric(base.LagP99.Seconds(), "baseline-lag-p99-s")
	}
}

// insertCalls fills dir with n calls due over the next 30 days, in batches
// of 10,000 calls per transaction, and returns the insert rate (for n = 0:
// the rate of one 10,000 batch into the empty store, deleted afterwards
// from the count by cancelling nothing: they are due next month and do not
// disturb the lag run).
func insertCalls(b *testing.B, dir string, n int) float64 {
	b.Helper()
	db, err := bolt.Open(bolt.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const batch = 10_000
	if n == 0 {
		n = batch
	}
	now := time.Now()
	start := time.Now()
	for done := 0; done < n; done += batch {
		calls := make([]store.NewCall, 0, batch)
		for i := done; i < min(done+batch, n); i++ {
			due := now.Add(24*time.Hour + time.Duration(i)*(30*24*time.Hour/time.Duration(n)))
			calls = append(calls, store.NewCall{Call: scaleCall(fmt.Sprintf("+9198%08d", i), due),
				Options: store.CreateOptions{ContactKey: fmt.Sprintf("hubspot:62515:contact:%d", i), DedupeWindow: 24 * time.Hour, Now: now}})
		}
		if _, err := db.CreateCalls(context.Background(), calls); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func scaleCall(number string, due time.Time) store.Call {
	return store.Call{AgentID: "sales-intro", ToNumber: number, Status: store.CallScheduled, Dialer: "voice", NextAttemptAt: &due,
		Variables: map[string]string{"firstname": "Ada", "company": "Analytical Engines"},
		Source:    store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: number[5:], Account: "62515"},
		Policy: store.Policy{Timezone: "Asia/Kolkata", Window: &store.Window{Start: "00:00", End: "00:00", CarryOver: true},
			Retry: store.RetryPolicy{Max: 3, Gaps: gaps(2*time.Hour, 4*time.Hour), On: scheduler.DefaultRetryOn}}}
}

const (
	lagRate    = 500 // dials per second
	lagSeconds = 10
)

type scaleResult struct {
	Ready                 time.Duration
	ReadyRSSMB, PeakRSSMB float64
	LagP50, LagP99        time.Duration
	LagMax                time.Duration
	Dials                 int
}

func scaleChild(b *testing.B, dir string) scaleResult {
	b.Helper()
	// Flush what the bulk insert left in the page cache first, so the
	// child's fsyncs do not queue behind gigabytes of writeback.
	syscall.Sync()
	cmd := exec.Command(os.Args[0], "-test.run=^TestScaleChild$", "-test.v")
	cmd.Env = append(os.Environ(), "CALLGATE_SCALE_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if _, js, ok := strings.Cut(line, "SCALE_RESULT "); ok {
			var r scaleResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				b.Fatal(err)
			}
			return r
		}
	}
	b.Fatalf("child printed no result:\n%s", out)
	return scaleResult{}
}

// noopDialer completes every call at once and notes when each was dialed.
type noopDialer struct {
	mu     sync.Mutex
	dialed map[string]time.Time
}

func (d *noopDialer) Name() string     { return "voice" }
func (d *noopDialer) Idempotent() bool { return true }
func (d *noopDialer) Dial(_ context.Context, r dialer.Request) (dialer.Placed, error) {
	d.mu.Lock()
	d.dialed[r.CallID] = time.Now()
	d.mu.Unlock()
	return dialer.Placed{ProviderCallID: r.Key(), Outcome: &dialer.Outcome{Status: store.OutcomeCompleted}}, nil
}
func (d *noopDialer) ParseOutcome(*http.Request, []byte) (dialer.Outcome, error) {
	return dialer.Outcome{}, dialer.ErrBadCallback
}

// TestScaleChild is the child process of BenchmarkScale: it opens the
// store, recovers, reports ready time and RSS, then dials 500 calls/s for
// 10 s with a no-op dialer and reports the lag between due time and dial.
func TestScaleChild(t *testing.T) {
	dir := os.Getenv("CALLGATE_SCALE_CHILD")
	if dir == "" {
		t.Skip("run by BenchmarkScale")
	}
	start := time.Now()
	db, err := bolt.Open(bolt.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := &noopDialer{dialed: map[string]time.Time{}}
	s, err := scheduler.New(scheduler.Config{Store: db, Dialers: map[string]scheduler.Dialer{"voice": d},
		Logger: hclog.NewNullLogger(), DialerLimits: map[string]scheduler.Limits{"voice": {Concurrency: 1000, Rate: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	var r scaleResult
	r.Ready = time.Since(start)
	r.ReadyRSSMB = procStatusMB(t, "VmRSS")

	// 5,000 calls due 500 per second, starting in 2 s.
	t0 := time.Now().Add(2 * time.Second)
	due := map[string]time.Time{}
	calls := make([]store.NewCall, 0, lagRate*lagSeconds)
	for i := range lagRate * lagSeconds {
		at := t0.Add(time.Duration(i) * time.Second / lagRate)
		calls = append(calls, store.NewCall{Call: scaleCall(fmt.Sprintf("+9177%08d", i), at)})
	}
	created, err := db.CreateCalls(context.Background(), calls)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range created {
		due[c.Call.ID] = *c.Call.NextAttemptAt
	}
	debug.FreeOSMemory()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := t0.Add(lagSeconds*time.Second + 30*time.Second)
	for {
		d.mu.Lock()
		n := len(d.dialed)
		d.mu.Unlock()
		if n >= len(due) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	var lags []time.Duration
	d.mu.Lock()
	for id, at := range d.dialed {
		lags = append(lags, at.Sub(due[id]))
	}
	d.mu.Unlock()
	if len(lags) < len(due) {
		t.Fatalf("dialed %d of %d calls", len(lags), len(due))
	}
	slices.Sort(lags)
	r.Dials = len(lags)
	r.LagP50, r.LagP99, r.LagMax = lags[len(lags)/2], lags[len(lags)*99/100], lags[len(lags)-1]
	r.PeakRSSMB = procStatusMB(t, "VmHWM")
	js, _ := json.Marshal(r)
	fmt.Println("SCALE_RESULT " + string(js))
}

// procStatusMB reads a kB field of /proc/self/status in MB.
func procStatusMB(t *testing.T, field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
