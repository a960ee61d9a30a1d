package store

import (
	"encoding/json"

	"fmt"
	bolt "go.etcd.io/bbolt"
	"testing"
	"time"
)

// BenchmarkListCalls pages call history on a store of 100,000 calls and,
// as the baseline in the same run, on one of 1,000: a page should cost the
// same whatever the store holds.
func BenchmarkListCalls(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		db := openTest(b)
		seedBench(b, db, n)
		filters := []struct {
			name string
			f    CallFilter
		}{
			{"newest", CallFilter{}},
			{"agent", CallFilter{AgentID: "support"}},
			{"status", CallFilter{Status: CallFailed}},
			{"agent+status", CallFilter{AgentID: "sales", Status: CallCompleted}},
			{"phone", CallFilter{Phone: fmt.Sprintf("+9198%08d", n/2)}},
			{"since", CallFilter{Since: t0.Add(time.Duration(n/2) * time.Minute)}},
		}
		for _, tt := range filters {
			b.Run(fmt.Sprintf("calls=%d/%s", n, tt.name), func(b *testing.B) {
				f := tt.f
				f.Limit = 50
				for b.Loop() {
					if _, _, err := db.ListCalls(f); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("calls=%d/page-20-deep", n), func(b *testing.B) {
			_, next, _ := db.ListCalls(CallFilter{Limit: 50})
			for range 19 {
				_, next, _ = db.ListCalls(CallFilter{Limit: 50, Cursor: next})
			}
			for b.Loop() {
				if _, _, err := db.ListCalls(CallFilter{Limit: 50, Cursor: next}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func seedBench(b *testing.B, db *DB, n int) {
	agents := []string{"sales", "support", "renewals"}
	statuses := []string{CallScheduled, CallCompleted, CallFailed, CallCanceled, CallRetryScheduled}
	for done := 0; done < n; done += 10_000 {
		var batch []NewCall
		for i := done; i < min(n, done+10_000); i++ {
			c := newCall(agents[i%3], fmt.Sprintf("+9198%08d", i))
			c.Status = statuses[i%5]
			batch = append(batch, NewCall{Call: c, Options: CreateOptions{Now: t0.Add(time.Duration(i) * time.Minute)}})
		}
		if _, err := db.CreateCalls(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateCalls measures the bulk insert path (10,000 calls per
// transaction, with dedupe checks and every index) against the baseline of
// writing the same call JSON to one bucket with no index or check.
func BenchmarkCreateCalls(b *testing.B) {
	mk := func(i int) Call {
		c := newCall([]string{"sales", "support"}[i%2], fmt.Sprintf("+9198%08d", i))
		c.Source = Source{Type: "hubspot", Integration: "hubspot", ObjectID: fmt.Sprint(i), Account: "62515"}
		c.Policy = Policy{Timezone: "Asia/Kolkata", Window: &Window{Start: "09:00", End: "18:00", CarryOver: true},
			Retry: RetryPolicy{Max: 3, Gaps: []Duration{Duration(2 * time.Hour)}, On: []string{OutcomeNoAnswer, OutcomeBusy}}}
		return c
	}
	const batch = 10_000
	b.Run("baseline-bare-put", func(b *testing.B) {
		db := openTest(b)
		i := 0
		for b.Loop() {
			err := db.bolt.Update(func(tx *bolt.Tx) error {
				bk := tx.Bucket(bucketCalls)
				for range batch {
					c := mk(i)
					c.ID = db.NewID(t0)
					raw, _ := json.Marshal(c)
					if err := bk.Put([]byte(c.ID), raw); err != nil {
						return err
					}
					i++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "calls/s")
	})
	b.Run("CreateCalls", func(b *testing.B) {
		db := openTest(b)
		i := 0
		for b.Loop() {
			nc := make([]NewCall, batch)
			for j := range nc {
				nc[j] = NewCall{Call: mk(i), Options: CreateOptions{ContactKey: fmt.Sprintf("hubspot:62515:contact:%d", i), DedupeWindow: time.Hour, Now: t0}}
				i++
			}
			if _, err := db.CreateCalls(nc); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "calls/s")
	})
}
