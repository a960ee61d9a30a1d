package hubspot

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func rateHeaders(max, remaining int, interval time.Duration) http.Header {
	h := http.Header{}
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(max))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(interval.Milliseconds(), 10))
	return h
}

// TestLimiterOwnRequestsAreNotOthers: the Remaining a request leaves is
// read with that request (and the earlier ones) taken out, so a lone
// client is not charged twice for what it sent.
func TestLimiterOwnRequestsAreNotOthers(t *testing.T) {
	tests := []struct {
		name                 string
		max, sent, remaining int
		wantOthers           int
	}{
		{"max 1, alone", 1, 1, 0, 0},
		{"max 10, alone after 3", 10, 3, 7, 0},
		{"max 10, another client used 4", 10, 3, 3, 4},
		{"max 100, alone after 1", 100, 1, 99, 0},
		{"remaining beyond max is not negative use", 10, 1, 12, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter()
			l.known, l.max = true, tc.max
			var slots []*slot
			for range tc.sent {
				s, err := l.wait(context.Background(), time.Now())
				if err != nil {
					t.Fatal(err)
				}
				slots = append(slots, s)
			}
			for i, s := range slots {
				remaining := tc.max // only the last answer is read below
				if i == len(slots)-1 {
					remaining = tc.remaining
				}
				l.done(s, rateHeaders(tc.max, remaining, time.Minute))
			}
			if l.others != tc.wantOthers {
				t.Fatalf("others = %d, want %d", l.others, tc.wantOthers)
			}
		})
	}
}

// TestLimiterWaitsForTheWindow: at Max 1 the second request waits one
// interval after the first's answer, not two.
func TestLimiterWaitsForTheWindow(t *testing.T) {
	l := newLimiter()
	const interval = 150 * time.Millisecond
	s, err := l.wait(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l.done(s, rateHeaders(1, 0, interval))
	start := time.Now()
	s, err = l.wait(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l.done(s, rateHeaders(1, 0, interval))
	if took := time.Since(start); took < interval-10*time.Millisecond || took > 2*interval {
		t.Fatalf("second request waited %s, want about %s", took, interval)
	}
}

// TestLimiterProbesFirst: until HubSpot has named its limits, one request
// is in flight at a time.
func TestLimiterProbesFirst(t *testing.T) {
	l := newLimiter()
	first, err := l.wait(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.wait(ctx, time.Now()); err == nil {
		t.Fatal("a second request went before the first was answered")
	}
	got := make(chan error, 1)
	go func() {
		_, err := l.wait(context.Background(), time.Now())
		got <- err
	}()
	l.done(first, rateHeaders(10, 9, time.Second))
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("the answer did not release the next request")
	}
}

// TestLimiterDeadline: a wait that would end after the context's deadline
// fails at once.
func TestLimiterDeadline(t *testing.T) {
	l := newLimiter()
	s, _ := l.wait(context.Background(), time.Now())
	l.done(s, rateHeaders(1, 0, time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	if _, err := l.wait(ctx, time.Now()); err != errPastDeadline || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

func TestLimiterPause(t *testing.T) {
	l := newLimiter()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l.pause(now.Add(10 * time.Second))
	l.pause(now.Add(time.Second)) // an earlier end never shortens a pause
	_, err := l.wait(t.Context(), now.Add(4*time.Second))
	pe, ok := err.(errPaused)
	if !ok || pe.wait != 6*time.Second {
		t.Fatalf("wait during the pause: %v", err)
	}
	if _, err := l.wait(t.Context(), now.Add(10*time.Second)); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}
