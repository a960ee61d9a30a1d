package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
)

func openRawBolt(t *testing.T) *bbolt.DB {
	t.Helper()
	b, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return b
}

// Concurrent writes share transactions, each is committed, and one
// writer's error or panic fails that writer alone.
func TestGroupCommit(t *testing.T) {
	b := openRawBolt(t)
	var g groupCommit
	var (
		mu  sync.Mutex
		txs = map[*bbolt.Tx]bool{}
	)
	const writers = 200
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.run(b, func(tx *bbolt.Tx) error {
				mu.Lock()
				txs[tx] = true
				mu.Unlock()
				switch i {
				case 7:
					return errors.New("refused")
				case 13:
					panic("boom")
				}
				return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "k%03d", i), []byte("v"))
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch i {
		case 7:
			if err == nil || err.Error() != "refused" {
				t.Errorf("writer 7: %v, want its own error", err)
			}
		case 13:
			if err == nil || !strings.Contains(err.Error(), "panic in a call write: boom") {
				t.Errorf("writer 13: %v, want its panic as an error", err)
			}
		default:
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
	}
	var n int
	if err := b.View(func(tx *bbolt.Tx) error { n = tx.Bucket([]byte("b")).Stats().KeyN; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != writers-2 {
		t.Errorf("%d keys committed, want %d", n, writers-2)
	}
	if g.busy || len(g.queue) != 0 {
		t.Errorf("busy %v, %d queued after every writer returned", g.busy, len(g.queue))
	}
	t.Logf("%d writers in %d transactions (retries included)", writers, len(txs))
}

// A write that finds no commit running goes at once, alone: no waiting
// for company (bbolt's db.Batch waits up to 10 ms).
func TestGroupCommitIdleGoesAtOnce(t *testing.T) {
	b := openRawBolt(t)
	b.NoSync = true // time the grouping, not the disk
	var g groupCommit
	start := time.Now()
	for i := range 20 {
		if err := g.run(b, func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "k%d", i), nil)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Fatalf("20 lone writes took %v: something waited for company", d)
	}
}
