package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

func gaps(ds ...time.Duration) []store.Duration {
	out := make([]store.Duration, len(ds))
	for i, d := range ds {
		out[i] = store.Duration(d)
	}
	return out
}

func TestGap(t *testing.T) {
	r := store.RetryPolicy{Max: 5, Gaps: gaps(2*time.Hour, 4*time.Hour, 6*time.Hour)}
	for i, want := range []time.Duration{2 * time.Hour, 4 * time.Hour, 6 * time.Hour, 6 * time.Hour, 6 * time.Hour} {
		if got := scheduler.Gap(r, i+1); got != want {
			t.Errorf("Gap(%d) = %s, want %s (the last gap repeats)", i+1, got, want)
		}
	}
	if got := scheduler.Gap(store.RetryPolicy{Max: 2}, 1); got != scheduler.DefaultGap {
		t.Errorf("no gaps: %s, want the default %s", got, scheduler.DefaultGap)
	}
}

func TestNextRetryLadder(t *testing.T) {
	ended := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	r := store.RetryPolicy{Max: 2, Gaps: gaps(30*time.Minute, 2*time.Hour), On: []string{store.OutcomeNoAnswer, store.OutcomeBusy, store.OutcomeFailed}}
	tests := []struct {
		outcome string
		n       int
		want    time.Duration // -1: no retry
	}{
		{store.OutcomeCompleted, 1, -1},
		{store.OutcomeCanceled, 1, -1},
		{store.OutcomeNoAnswer, 1, 30 * time.Minute},
		{store.OutcomeBusy, 2, 2 * time.Hour},
		{store.OutcomeFailed, 1, 30 * time.Minute},
		{store.OutcomeNoAnswer, 3, -1},  // two retries used
		{store.OutcomeVoicemail, 1, -1}, // not in retry.on
	}
	for _, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			at, ok := scheduler.Next(r, tt.n, tt.outcome, ended)
			if tt.want < 0 {
				if ok {
					t.Fatalf("attempt %d %s: retry at %s, want none", tt.n, tt.outcome, at)
				}
				return
			}
			if !ok || !at.Equal(ended.Add(tt.want)) {
				t.Fatalf("attempt %d %s: retry %v at %s, want at +%s", tt.n, tt.outcome, ok, at, tt.want)
			}
		})
	}
	t.Run("default retry.on includes voicemail", func(t *testing.T) {
		if _, ok := scheduler.Next(store.RetryPolicy{Max: 1}, 1, store.OutcomeVoicemail, ended); !ok {
			t.Fatal("voicemail not retried under the default retry.on")
		}
	})
}

func TestFailedReason(t *testing.T) {
	r := store.RetryPolicy{Max: 1, On: []string{store.OutcomeNoAnswer}}
	exhausted := scheduler.FailedReason(r, []store.Attempt{{N: 1, Outcome: store.OutcomeNoAnswer}, {N: 2, Outcome: store.OutcomeNoAnswer, Reason: "rang out"}})
	if !strings.Contains(exhausted, "2 attempt") || !strings.Contains(exhausted, "no_answer, no_answer (rang out)") {
		t.Errorf("exhausted reason %q does not list the outcomes", exhausted)
	}
	notRetried := scheduler.FailedReason(r, []store.Attempt{{N: 1, Outcome: store.OutcomeBusy}})
	if !strings.Contains(notRetried, "busy, which is not retried") {
		t.Errorf("reason %q does not say busy is not retried", notRetried)
	}
}

func TestTransportBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n < 20; n++ {
		d := scheduler.TransportBackoff(0, n)
		if d < prev || d > 10*time.Minute || d <= 0 {
			t.Fatalf("TransportBackoff(%d) = %s after %s", n, d, prev)
		}
		prev = d
	}
	if scheduler.TransportBackoff(0, 1) != 5*time.Second || prev != 10*time.Minute {
		t.Fatalf("backoff runs %s … %s, want 5s … 10m", scheduler.TransportBackoff(0, 1), prev)
	}
	if got := scheduler.TransportBackoff(time.Millisecond, 3); got != 4*time.Millisecond {
		t.Fatalf("TransportBackoff(1ms, 3) = %s, want 4ms", got)
	}
}

func TestLimitsFromConfig(t *testing.T) {
	got := scheduler.LimitsFromConfig(&config.Dialer{Concurrency: 7, Rate: 5, RateBurst: 2, OutcomeTimeout: time.Hour, Timeout: 10 * time.Second})
	want := scheduler.Limits{Concurrency: 7, Rate: 5, Burst: 2, OutcomeTimeout: time.Hour, DialTimeout: 20 * time.Second}
	if got != want {
		t.Fatalf("LimitsFromConfig = %+v, want %+v", got, want)
	}
	if (scheduler.LimitsFromConfig(nil) != scheduler.Limits{}) {
		t.Fatal("nil block: want zero limits (defaults apply)")
	}
}
