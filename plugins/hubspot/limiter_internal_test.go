package hubspot

import (
	"net/http"
	"testing"
	"time"
)

func TestLimiterObserve(t *testing.T) {
	tests := []struct {
		name      string
		header    map[string]string
		wantMax   int
		wantBurst int
		wantWait  bool // the next request must wait for a refill
	}{
		{"defaults without headers", nil, 100, 10, false},
		{"resized from Max and Interval", map[string]string{"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Remaining": "150"}, 190, 19, false},
		{"others spent the window", map[string]string{"X-HubSpot-RateLimit-Max": "100", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Remaining": "0"}, 100, 10, true},
		{"garbage headers ignored", map[string]string{"X-HubSpot-RateLimit-Max": "many", "X-HubSpot-RateLimit-Remaining": "-"}, 100, 10, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter()
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			l.observe(h)
			if l.max != tc.wantMax || l.lim.Burst() != tc.wantBurst {
				t.Fatalf("max %d burst %d, want %d %d", l.max, l.lim.Burst(), tc.wantMax, tc.wantBurst)
			}
			r := l.lim.Reserve()
			defer r.Cancel()
			if waits := r.Delay() > 0; waits != tc.wantWait {
				t.Errorf("next request waits %s, want waiting=%v", r.Delay(), tc.wantWait)
			}
		})
	}
}

func TestLimiterPause(t *testing.T) {
	l := newLimiter()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	l.pause(now.Add(10 * time.Second))
	l.pause(now.Add(time.Second)) // an earlier end never shortens a pause
	err := l.wait(t.Context(), now.Add(4*time.Second))
	pe, ok := err.(errPaused)
	if !ok || pe.wait != 6*time.Second {
		t.Fatalf("wait during the pause: %v", err)
	}
	if err := l.wait(t.Context(), now.Add(10*time.Second)); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}
