//go:build linux

package store

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPingFailsWhileCommitsFail limits the size a file may grow to (as a
// full disk would stop it), which makes every commit fail: Ping says so,
// and recovers once the limit is lifted.
func TestPingFailsWhileCommitsFail(t *testing.T) {
	db := openTest(t)
	if err := db.Ping(); err != nil {
		t.Fatalf("Ping on a healthy store = %v", err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	// Only the two meta pages may be written: every commit writes a data
	// page past them first and fails, as on a full disk. (Go ignores the
	// SIGXFSZ this raises; the write returns EFBIG.)
	limited := syscall.Rlimit{Cur: 2 * 4096, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Fatalf("restore the file size limit: %v", err)
			}
		}
	}
	defer restore()

	time.Sleep(PingEvery)
	err := db.Ping()
	if err == nil || !strings.Contains(err.Error(), "the data file cannot commit") || !strings.Contains(err.Error(), db.Path()) {
		t.Fatalf("Ping while commits fail = %v, want the reason", err)
	}
	if again := db.Ping(); again != err {
		t.Errorf("a second Ping within PingEvery was not the cached result: %v", again)
	}
	if cerr := db.AddDND("+14155550123", "", t0); cerr == nil {
		t.Fatal("a commit succeeded under the limit: the test does not make commits fail")
	}
	restore()
	time.Sleep(PingEvery)
	if err := db.Ping(); err != nil {
		t.Fatalf("Ping after the disk recovered = %v", err)
	}
	if err := db.AddDND("+14155550123", "", t0); err != nil {
		t.Fatalf("a commit after the disk recovered: %v", err)
	}
}
