//go:build linux

package e2e

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReadyzFollowsTheStore: while the gateway's data file cannot grow (as
// on a full disk) every commit fails, and /readyz says so with the reason;
// once writes work again it is ready again.
func TestReadyzFollowsTheStore(t *testing.T) {
	g := startGateway(t, minimalConfig)
	if status, body := g.Do("GET", "/readyz", nil, nil); status != 200 {
		t.Fatalf("/readyz = %d %s", status, body)
	}
	pid := g.cmd.Process.Pid
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &old); err != nil {
		t.Skipf("prlimit: %v", err)
	}
	// Only the two meta pages may be written: every commit fails.
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 2 * 4096, Max: old.Max}, nil); err != nil {
		t.Skipf("prlimit: %v", err)
	}
	var body []byte
	waitFor(t, 10*time.Second, "/readyz 503", func() bool {
		var status int
		status, body = g.Do("GET", "/readyz", nil, nil)
		return status == 503
	})
	for _, want := range []string{`"status":"error"`, "not ready: store: the data file cannot commit", "check the disk space and permissions of"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/readyz body lacks %q: %s", want, body)
		}
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &old, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "/readyz 200 again", func() bool {
		status, _ := g.Do("GET", "/readyz", nil, nil)
		return status == 200
	})
	if code := g.Stop(); code != 0 {
		t.Fatalf("exit code = %d\n%s", code, g.Output())
	}
}
