package bolt

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// BenchmarkInboxAppend compares three ways of committing one single-event
// webhook per request from many concurrent requests, in the same run:
//   - update: one bbolt Update (one fsync) per request, the baseline;
//   - batch: bbolt's db.Batch (coalesces calls, waits up to MaxBatchDelay);
//   - writer: the inbox's writer goroutine (AppendEvents), which commits
//     whatever queued while the previous fsync ran, with no added delay.
func BenchmarkInboxAppend(b *testing.B) {
	var seq atomic.Int64
	next := func() []store.Event { return []store.Event{ev(fmt.Sprint(seq.Add(1)))} }
	run := func(b *testing.B, commit func(in *Store, evs []store.Event) error) {
		_, in := openInbox(b, b.TempDir(), time.Now)
		b.SetParallelism(16) // 16×GOMAXPROCS concurrent requests
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := commit(in, next()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	tx := func(in *Store, evs []store.Event) func(*bbolt.Tx) error {
		return func(tx *bbolt.Tx) error {
			_, err := in.appendTx(tx, &appendReq{evs: evs, now: time.Now()})
			return err
		}
	}
	b.Run("update", func(b *testing.B) {
		run(b, func(in *Store, evs []store.Event) error { return in.bolt.Update(tx(in, evs)) })
	})
	b.Run("batch", func(b *testing.B) {
		run(b, func(in *Store, evs []store.Event) error { return in.bolt.Batch(tx(in, evs)) })
	})
	b.Run("writer", func(b *testing.B) {
		run(b, func(in *Store, evs []store.Event) error {
			_, err := in.AppendEvents(context.Background(), evs, store.AppendOptions{})
			return err
		})
	})
}
