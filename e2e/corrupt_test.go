package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDamagedDataFileRefusesToStart: a data file cut short or overwritten
// stops `serve` with the damage and the recovery steps (no panic, no
// webhooks taken into it), and `store check` says the same offline.
func TestDamagedDataFileRefusesToStart(t *testing.T) {
	g := startGateway(t, minimalConfig)
	if code := g.Stop(); code != 0 {
		t.Fatalf("exit code = %d", code)
	}
	path := filepath.Join(g.DataDir, "callgate.db")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, nil, "store", "check", "--data-dir", g.DataDir); res.Code != 0 || !strings.Contains(res.Stdout, "ok: "+path+" passed the full check") {
		t.Fatalf("store check of a good file = %d %q %q", res.Code, res.Stdout, res.Stderr)
	}
	damages := []struct {
		name string
		data []byte
		want string
	}{
		{"cut short", good[:len(good)/2], "its pages reach to byte"},
		{"meta pages overwritten", append([]byte(strings.Repeat("\x00garbage", 2048)), good[16384:]...), "neither of its meta pages is valid"},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			if err := os.WriteFile(path, d.data, 0o600); err != nil {
				t.Fatal(err)
			}
			bad := launch(t, gatewayOptions{Config: minimalConfig, DataDir: g.DataDir, NoWait: true})
			if code := bad.Wait(20 * time.Second); code != 1 {
				t.Fatalf("exit code = %d, want 1\n%s", code, bad.Output())
			}
			out := bad.Output()
			for _, want := range []string{"data file " + path + " is damaged", d.want, "mv " + path + " " + path + ".damaged",
				`docs/operations.md, "Recovering from a damaged data file"`} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("the start panicked:\n%s", out)
			}
			res := runCLI(t, nil, "store", "check", "--file", path)
			if res.Code != 1 || !strings.Contains(res.Stderr, d.want) {
				t.Errorf("store check = %d %q %q, want 1 naming the damage", res.Code, res.Stdout, res.Stderr)
			}
		})
	}
}
