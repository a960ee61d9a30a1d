package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var backupTests = []subtest{
	{"WritesACopy", testBackup},
}

// testBackup: a store that implements store.Backuper writes a non-empty
// copy, announcing its size first.
func testBackup(t *testing.T, h Harness) {
	s := h.Open(t)
	b, ok := s.(store.Backuper)
	if !ok {
		t.Skipf("%s backs up with the database's own tools (no store.Backuper)", s.Info().Backend)
	}
	appendAt(t, s, t0, event("a"))
	createCall(t, s, newCall("sales", "+14155550101"), store.CreateOptions{Now: t0})
	var buf bytes.Buffer
	announced := int64(-1)
	n, err := b.WriteBackup(ctx(t), &buf, func(size int64) { announced = size })
	must(t, err)
	if n <= 0 || n != int64(buf.Len()) {
		t.Errorf("WriteBackup wrote %d bytes, returned %d", buf.Len(), n)
	}
	if announced != n {
		t.Errorf("size announced %d, written %d", announced, n)
	}
	// Writers carry on meanwhile, and a second copy holds the new data.
	appendAt(t, s, t0.Add(time.Minute), event("b"))
	var again bytes.Buffer
	if _, err := b.WriteBackup(ctx(t), &again, nil); err != nil || again.Len() == 0 {
		t.Errorf("a second backup without a size func: %d bytes, %v", again.Len(), err)
	}
}
