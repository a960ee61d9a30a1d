package bolt

import (
	"encoding/json"

	"fmt"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
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
			f    store.CallFilter
		}{
			{"newest", store.CallFilter{}},
			{"agent", store.CallFilter{AgentID: "support"}},
			{"status", store.CallFilter{Status: store.CallFailed}},
			{"agent+status", store.CallFilter{AgentID: "sales", Status: store.CallCompleted}},
			{"phone", store.CallFilter{Phone: fmt.Sprintf("+9198%08d", n/2)}},
			{"since", store.CallFilter{Since: t0.Add(time.Duration(n/2) * time.Minute)}},
		}
		for _, tt := range filters {
			b.Run(fmt.Sprintf("calls=%d/%s", n, tt.name), func(b *testing.B) {
				f := tt.f
				f.Limit = 50
				for b.Loop() {
					if _, _, err := db.ListCalls(ctx, f); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("calls=%d/page-20-deep", n), func(b *testing.B) {
			_, next, _ := db.ListCalls(ctx, store.CallFilter{Limit: 50})
			for range 19 {
				_, next, _ = db.ListCalls(ctx, store.CallFilter{Limit: 50, Cursor: next})
			}
			for b.Loop() {
				if _, _, err := db.ListCalls(ctx, store.CallFilter{Limit: 50, Cursor: next}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func seedBench(b *testing.B, db *Store, n int) {
	agents := []string{"sales", "support", "renewals"}
	statuses := []string{store.CallScheduled, store.CallCompleted, store.CallFailed, store.CallCanceled, store.CallRetryScheduled}
	for done := 0; done < n; done += 10_000 {
		var batch []store.NewCall
		for i := done; i < min(n, done+10_000); i++ {
			c := newCall(agents[i%3], fmt.Sprintf("+9198%08d", i))
			c.Status = statuses[i%5]
			batch = append(batch, store.NewCall{Call: c, Options: store.CreateOptions{Now: t0.Add(time.Duration(i) * time.Minute)}})
		}
		if _, err := db.CreateCalls(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateCalls measures the bulk insert path (10,000 calls per
// transaction, with dedupe checks and every index) against the baseline of
// writing the same call JSON to one bucket with no index or check.
func BenchmarkCreateCalls(b *testing.B) {
	mk := func(i int) store.Call {
		c := newCall([]string{"sales", "support"}[i%2], fmt.Sprintf("+9198%08d", i))
		c.Source = store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: fmt.Sprint(i), Account: "62515"}
		c.Policy = store.Policy{Timezone: "Asia/Kolkata", Window: &store.Window{Start: "09:00", End: "18:00", CarryOver: true},
			Retry: store.RetryPolicy{Max: 3, Gaps: []store.Duration{store.Duration(2 * time.Hour)}, On: []string{store.OutcomeNoAnswer, store.OutcomeBusy}}}
		return c
	}
	const batch = 10_000
	b.Run("baseline-bare-put", func(b *testing.B) {
		db := openTest(b)
		i := 0
		for b.Loop() {
			err := db.bolt.Update(func(tx *bbolt.Tx) error {
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
			nc := make([]store.NewCall, batch)
			for j := range nc {
				nc[j] = store.NewCall{Call: mk(i), Options: store.CreateOptions{ContactKey: fmt.Sprintf("hubspot:62515:contact:%d", i), DedupeWindow: time.Hour, Now: t0}}
				i++
			}
			if _, err := db.CreateCalls(ctx, nc); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "calls/s")
	})
}
