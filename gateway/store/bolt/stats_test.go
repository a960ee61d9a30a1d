package bolt

import (
	"fmt"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

func TestCallStats(t *testing.T) {
	db := openTest(t)
	day := func(n int) time.Time { return t0.AddDate(0, 0, n) }
	ended := func(at time.Time, outcome string, dur float64) store.Attempt {
		end := at.Add(time.Minute)
		return store.Attempt{N: 1, StartedAt: at, EndedAt: &end, Outcome: outcome, DurationS: dur}
	}
	add := func(at time.Time, status string, attempts ...store.Attempt) {
		t.Helper()
		c := newCall("sales", fmt.Sprintf("+9198%08d", at.Unix()%1e8))
		c.Status, c.Attempts = status, attempts
		if _, _, err := db.CreateCall(ctx, c, store.CreateOptions{Now: at}); err != nil {
			t.Fatal(err)
		}
	}
	add(day(-1), store.CallCompleted, ended(day(-1), store.OutcomeCompleted, 99)) // before the window
	add(day(0), store.CallCompleted, ended(day(0), store.OutcomeCompleted, 60))
	add(day(0).Add(time.Hour), store.CallRetryScheduled, ended(day(0), store.OutcomeNoAnswer, 0))
	add(day(0).Add(2*time.Hour), store.CallScheduled)
	inFlight := store.Attempt{N: 1, StartedAt: day(1)}
	add(day(1), store.CallDialing, inFlight)
	add(day(1).Add(time.Hour), store.CallFailed, ended(day(1), store.OutcomeFailed, 0), ended(day(1).Add(time.Minute), store.OutcomeBusy, 0))
	add(day(1).Add(2*time.Hour), store.CallCompleted, ended(day(1), store.OutcomeCompleted, 30))
	add(day(2), store.CallCompleted, ended(day(2), store.OutcomeCompleted, 10)) // on the last bound: after the window

	got, err := db.CallStats(ctx, []time.Time{day(0), day(1), day(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d periods, want 2", len(got))
	}
	tests := []struct {
		name                           string
		p                              store.PeriodStats
		calls, ended, completed, timed int
		talk                           float64
		status                         map[string]int
	}{
		{"first day", got[0], 3, 2, 1, 1, 60, map[string]int{store.CallCompleted: 1, store.CallRetryScheduled: 1, store.CallScheduled: 1}},
		{"second day", got[1], 3, 2, 1, 1, 30, map[string]int{store.CallDialing: 1, store.CallFailed: 1, store.CallCompleted: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			if p.Calls != tt.calls || p.Ended != tt.ended || p.Completed != tt.completed || p.Timed != tt.timed || p.TalkS != tt.talk {
				t.Fatalf("got calls=%d ended=%d completed=%d timed=%d talk=%v, want %d %d %d %d %v",
					p.Calls, p.Ended, p.Completed, p.Timed, p.TalkS, tt.calls, tt.ended, tt.completed, tt.timed, tt.talk)
			}
			if fmt.Sprint(p.ByStatus) != fmt.Sprint(tt.status) {
				t.Fatalf("by status %v, want %v", p.ByStatus, tt.status)
			}
		})
	}
	if !got[0].Start.Equal(day(0)) || !got[1].End.Equal(day(2)) {
		t.Fatalf("periods span %s..%s", got[0].Start, got[1].End)
	}

	t.Run("an empty window", func(t *testing.T) {
		got, err := db.CallStats(ctx, []time.Time{day(10), day(11)})
		if err != nil || got[0].Calls != 0 || len(got[0].ByStatus) != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("bad bounds", func(t *testing.T) {
		for _, b := range [][]time.Time{nil, {day(0)}, {day(1), day(0)}, {day(0), day(0)}} {
			if _, err := db.CallStats(ctx, b); err == nil {
				t.Errorf("bounds %v: no error", b)
			}
		}
	})
}

// BenchmarkCallStats sums up the last 7 days of a store of 10,000 and of
// 100,000 calls, every one of them created in those 7 days (the worst
// case: a busy week), and the same store with the calls spread over 70
// days (the window bounds the scan). The baseline in the same run walks
// the calls_by_created keys of the window without reading a call.
func BenchmarkCallStats(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, spread := range []struct {
			name string
			days int
		}{{"all-in-window", 7}, {"over-70-days", 70}} {
			db := openTest(b)
			gap := time.Duration(spread.days) * 24 * time.Hour / time.Duration(n)
			seedStats(b, db, n, gap)
			end := t0.Add(time.Duration(n) * gap)
			var bounds []time.Time
			for d := 7; d >= 0; d-- {
				bounds = append(bounds, end.AddDate(0, 0, -d))
			}
			b.Run(fmt.Sprintf("calls=%d/%s/baseline-keys", n, spread.name), func(b *testing.B) {
				for b.Loop() {
					if _, err := db.CountCalls(ctx, store.CallFilter{Since: bounds[0], Until: end}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("calls=%d/%s/CallStats", n, spread.name), func(b *testing.B) {
				for b.Loop() {
					if _, err := db.CallStats(ctx, bounds); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func seedStats(b *testing.B, db *Store, n int, gap time.Duration) {
	statuses := []string{store.CallScheduled, store.CallCompleted, store.CallFailed, store.CallRetryScheduled, store.CallCompleted}
	for done := 0; done < n; done += 10_000 {
		var batch []store.NewCall
		for i := done; i < min(n, done+10_000); i++ {
			at := t0.Add(time.Duration(i) * gap)
			c := newCall([]string{"sales", "support"}[i%2], fmt.Sprintf("+9198%08d", i))
			c.Status = statuses[i%5]
			c.Source = store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: fmt.Sprint(i), Account: "62515"}
			c.Fields = map[string]any{"firstname": "Ada", "lastname": "Lovelace", "mobilephone": c.ToNumber}
			if c.Status != store.CallScheduled {
				end := at.Add(time.Minute)
				c.Attempts = []store.Attempt{{N: 1, StartedAt: at, EndedAt: &end, Outcome: store.OutcomeCompleted, DurationS: 42, ProviderCallID: "prov"}}
			}
			batch = append(batch, store.NewCall{Call: c, Options: store.CreateOptions{Now: at}})
		}
		if _, err := db.CreateCalls(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}
