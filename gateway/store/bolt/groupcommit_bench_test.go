package bolt

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// BenchmarkCreateCallConcurrent creates calls from 8 and 64 concurrent
// writers (64: the pipeline's decide parallelism), fsync'd, with the same transaction
// body committed two ways in one run: bbolt's db.Batch (the baseline,
// which waits up to 10 ms for company) and the group commit CreateCall
// uses (groupcommit.go). Compare ns/op (wall per call, all writers
// together) and calls/s.
//
//	go test -run=NONE -bench=CreateCallConcurrent -count=3 ./gateway/store/bolt/
func BenchmarkCreateCallConcurrent(b *testing.B) {
	for _, tc := range []struct {
		way     string
		writers int
	}{{"db.Batch", 1}, {"group-commit", 1}, {"db.Batch", 8}, {"group-commit", 8}, {"db.Batch", 64}, {"group-commit", 64}} {
		way := tc.way
		b.Run(fmt.Sprintf("%s/writers=%d", way, tc.writers), func(b *testing.B) {
			db := openTest(b)
			var seq atomic.Int64
			create := func() error {
				n := seq.Add(1)
				nc := store.PrepareCall(store.NewCall{Call: newCall("sales", fmt.Sprintf("+9198%08d", n)),
					Options: store.CreateOptions{ContactKey: fmt.Sprint(n), Now: t0}}, db.NewID)
				fn := func(tx *bbolt.Tx) error { _, err := db.createCall(tx, nc); return err }
				if way == "db.Batch" {
					return db.bolt.Batch(fn)
				}
				return db.commits.run(db.bolt, fn)
			}
			if tc.writers == 1 {
				for b.Loop() {
					if err := create(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(tc.writers / 2) // on 2 Ps
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := create(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
