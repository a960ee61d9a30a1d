package store

import (
	"errors"
	"testing"
	"time"
)

func TestReplay(t *testing.T) {
	erased := t0
	for _, tt := range []struct {
		name string
		ev   Event
		ok   bool
	}{
		{"failed", Event{ID: "e1", Status: EventFailed, Reason: "token rejected (401)", Attempts: 3, UpdatedAt: t0, NotBefore: t0}, true},
		{"skipped", Event{ID: "e2", Status: EventSkipped, Reason: "no valid phone", UpdatedAt: t0}, true},
		{"pending", Event{ID: "e3", Status: EventPending}, false},
		{"called", Event{ID: "e4", Status: EventCalled, CallID: "c1"}, false},
		{"erased", Event{ID: "e5", Status: EventFailed, ErasedAt: &erased}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev, now := tt.ev, t0.Add(time.Hour)
			err := Replay(&ev, now)
			if CanReplay(tt.ev) != tt.ok || (err == nil) != tt.ok {
				t.Fatalf("CanReplay %v, Replay err %v; want ok=%v", CanReplay(tt.ev), err, tt.ok)
			}
			if !tt.ok {
				if !errors.Is(err, ErrNotReplayable) || ev.Status != tt.ev.Status {
					t.Fatalf("err %v, status %s: the event must stay as it was", err, ev.Status)
				}
				return
			}
			want := "2026-11-27T09:00:00Z " + tt.ev.Status + ": " + tt.ev.Reason
			if ev.Status != EventPending || ev.Reason != "" || ev.Attempts != 0 || !ev.NotBefore.IsZero() ||
				!ev.UpdatedAt.Equal(now) || len(ev.History) != 1 || ev.History[0] != want {
				t.Fatalf("replayed = %+v, want pending with history %q", ev, want)
			}
		})
	}
}

func TestCallCursor(t *testing.T) {
	for _, created := range []time.Time{t0, time.Unix(0, 0).UTC(), t0.Add(123 * time.Nanosecond)} {
		c := CallCursor(created, "01JCALL")
		got, id, err := ParseCallCursor(c)
		if err != nil || !got.Equal(created) || id != "01JCALL" {
			t.Errorf("%s: round trip = %s %q %v", created, got, id, err)
		}
	}
	if got, _, _ := ParseCallCursor(CallCursor(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), "x")); !got.Equal(time.Unix(0, 0)) {
		t.Errorf("a time before 1970 reads back as %s, want the epoch", got)
	}
	for _, bad := range []string{"!!", "", "AAAA"} {
		if _, _, err := ParseCallCursor(bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("ParseCallCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

func TestWaitsForConfig(t *testing.T) {
	ev := Event{Status: EventPending, OrphanedAt: t0, NotBefore: t0.Add(time.Hour)}
	if !WaitsForConfig(ev, t0) || WaitsForConfig(ev, t0.Add(2*time.Hour)) || WaitsForConfig(Event{NotBefore: t0.Add(time.Hour)}, t0) {
		t.Error("WaitsForConfig")
	}
	Wake(&ev, t0)
	if WaitsForConfig(ev, t0) {
		t.Error("a woken event still waits")
	}
}
