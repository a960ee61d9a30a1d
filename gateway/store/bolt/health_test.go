//go:build linux

package bolt

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPingFailsWhileCommitsFail limits the size files may grow to (as a
// full disk stops them), which makes every commit fail: Ping says so, and
// recovers once the limit is lifted. The limit is the whole process's, so
// the store runs in a child process (pingChild).
func TestPingFailsWhileCommitsFail(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestPingChild$", "-test.v")
	cmd.Env = append(os.Environ(), "CALLGATE_PING_CHILD="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "SKIP") {
		t.Skipf("child: %s", out)
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, want := range []string{
		"healthy: <nil>",
		"limited: the data file cannot commit (",
		"check the disk space and permissions of",
		"cached: true",
		"commit under the limit fails: true",
		"recovered: <nil>",
		"commit after: <nil>",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
}

// TestPingChild is TestPingFailsWhileCommitsFail's child process.
func TestPingChild(t *testing.T) {
	dir := os.Getenv("CALLGATE_PING_CHILD")
	if dir == "" {
		t.Skip("run by TestPingFailsWhileCommitsFail")
	}
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fmt.Println("healthy:", db.Ping(ctx))
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	// Only the two meta pages may be written: every commit writes a data
	// page past them first and fails, as on a full disk. (Go ignores the
	// SIGXFSZ this raises; the write returns EFBIG.)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 2 * 4096, Max: old.Max}); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	time.Sleep(PingEvery)
	limited := db.Ping(ctx)
	fmt.Println("limited:", limited)
	fmt.Println("cached:", db.Ping(ctx) == limited)
	fmt.Println("commit under the limit fails:", db.AddDND(ctx, "+14155550123", "", t0) != nil)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	time.Sleep(PingEvery)
	fmt.Println("recovered:", db.Ping(ctx))
	fmt.Println("commit after:", db.AddDND(ctx, "+14155550123", "", t0))
}
