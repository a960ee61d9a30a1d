package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// BenchmarkAppendEvents is many concurrent webhooks of one event each on
// one replica: through the group commit (one writer, every queued request
// per transaction), against the baseline of one transaction per request,
// in the same run and on the same database server.
func BenchmarkAppendEvents(b *testing.B) {
	ctx := context.Background()
	for _, senders := range []int{1, 16, 64} {
		for _, mode := range []string{"group-commit", "commit-per-request"} {
			b.Run(fmt.Sprintf("%s/senders=%d", mode, senders), func(b *testing.B) {
				s := replicas(b, 1)[0]
				append := func(ev store.Event) error {
					_, err := s.AppendEvents(ctx, []store.Event{ev}, store.AppendOptions{})
					return err
				}
				if mode == "commit-per-request" {
					append = func(ev store.Event) error {
						_, err := s.AppendOneCommit(ctx, []store.Event{ev}, time.Now())
						return err
					}
				}
				var n atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for range senders {
					wg.Go(func() {
						for k := n.Add(1); k <= int64(b.N); k = n.Add(1) {
							if err := append(event(fmt.Sprint("k", k))); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
