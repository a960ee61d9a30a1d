package postgres

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Callers asking while a count is read share it; a failed read is not
// remembered; a deep queue's count is reused for a moment.
func TestPendingCountShared(t *testing.T) {
	var p pendingCount
	var reads atomic.Int32
	release := make(chan struct{})
	slow := func() (int, error) { reads.Add(1); <-release; return 7, nil }
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], _ = p.get(slow) }()
	}
	for reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the others queue behind the read
	close(release)
	wg.Wait()
	for i, n := range got {
		if n != 7 {
			t.Fatalf("caller %d got %d", i, n)
		}
	}
	if n := reads.Load(); n >= 8 {
		t.Fatalf("%d reads for 8 concurrent callers: not shared", n)
	}
	if _, err := p.get(func() (int, error) { return 0, errors.New("down") }); err == nil {
		t.Fatal("a failed read answered no error")
	}
	if n, _ := p.get(func() (int, error) { return 3, nil }); n != 3 {
		t.Fatalf("a short queue is counted again each time: got %d", n)
	}
	p.get(func() (int, error) { return deepQueue, nil })
	if n, _ := p.get(func() (int, error) { return 1, nil }); n != deepQueue {
		t.Fatalf("a deep queue's fresh count was not reused: got %d", n)
	}
}
