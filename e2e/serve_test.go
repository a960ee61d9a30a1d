package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// minimalConfig is a gateway with an admin token and nothing else to do.
// The token is "e2e-admin-token".
const minimalConfig = `
server {
  listen             = "{{.Listen}}"
  data_dir           = "{{.DataDir}}"
  admin_token_sha256 = ["` + e2eAdminTokenSHA + `"]
}
dialer "log" {
  type = "log"
}
`

const (
	e2eAdminToken    = "e2e-admin-token"
	e2eAdminTokenSHA = "20357603bbd1490b9215bd7cfff9421bccf4d9131bd54e4ac53ce12caf5fbc32"
)

func TestServeAnswersAndStopsCleanly(t *testing.T) {
	g := startGateway(t, minimalConfig)

	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/healthz", 200, `"status":"ok"`},
		{"/readyz", 200, `"store":"ok"`},
		{"/metrics", 200, "callgate_http_requests_total"},
		{"/no-such-page", 404, `"status":"error"`},
	} {
		t.Run(tt.path, func(t *testing.T) {
			status, body := g.Do("GET", tt.path, nil, nil)
			if status != tt.status || !strings.Contains(string(body), tt.want) {
				t.Fatalf("GET %s = %d %s, want %d with %s", tt.path, status, body, tt.status, tt.want)
			}
		})
	}

	info, err := os.Stat(filepath.Join(g.DataDir, "callgate.db"))
	if err != nil {
		t.Fatalf("no data file: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("data file mode = %o, want 600", perm)
	}

	t.Run("a second gateway on the same data dir is refused", func(t *testing.T) {
		second := launch(t, gatewayOptions{Config: minimalConfig, DataDir: g.DataDir, NoWait: true})
		if code := second.Wait(20 * time.Second); code != 1 {
			t.Fatalf("exit code = %d, want 1", code)
		}
		out := second.Output()
		lockMsg := "data file " + filepath.Join(g.DataDir, "callgate.db") + " is locked by another process (is another callgate running with this data_dir?)"
		if !strings.Contains(out, lockMsg) {
			t.Fatalf("output lacks the lock message %q:\n%s", lockMsg, out)
		}
	})

	if code := g.Stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0\n%s", code, g.Output())
	}
	if out := g.Output(); !strings.Contains(out, "stopped cleanly") {
		t.Errorf("no clean stop in the log:\n%s", out)
	}
}

func TestReloadOnSIGHUP(t *testing.T) {
	g := startGateway(t, minimalConfig)
	t.Run("a broken file is refused and the old config stays", func(t *testing.T) {
		g.WriteConfig(minimalConfig + "\nagent \"x\" {\n  dialer = \"nope\"\n}\n")
		g.Signal(syscall.SIGHUP)
		g.WaitForOutput("config reload refused: the running config stays")
		if !strings.Contains(g.Output(), `callgate.hcl:12:12: agent \"x\" names dialer \"nope\"`) {
			t.Errorf("reload problem not logged with its position:\n%s", g.Output())
		}
		if status, _ := g.Do("GET", "/healthz", nil, nil); status != 200 {
			t.Fatalf("healthz after a refused reload = %d", status)
		}
	})

	t.Run("a good file is applied", func(t *testing.T) {
		g.WriteConfig(strings.Replace(minimalConfig, "}\ndialer", "  log_level = \"debug\"\n}\ndialer", 1))
		g.Signal(syscall.SIGHUP)
		g.WaitForOutput("config reloaded")
		// At debug level the probes' access log lines appear.
		if status, _ := g.Do("GET", "/healthz", nil, http.Header{"X-Request-Id": {"after-reload"}}); status != 200 {
			t.Fatalf("healthz = %d", status)
		}
		g.WaitForOutput("request_id=after-reload")
	})

	if code := g.Stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d\n%s", code, g.Output())
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.hcl")
	if err := os.WriteFile(broken, []byte(`server {
  listen = "127.0.0.1:8080"
  default_timezone = "Mars/Olympus"
}
dialer "voice" {
  type = "fax"
}
agent "a" {
  dialer = "voice"
  when   = "event.kind =="
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"quickstart passes", []string{"config", "check", "../configs/quickstart.hcl"}, 0, []string{"ok"}, nil},
		{"production example passes", []string{"config", "check", "../configs/production.hcl"}, 0, []string{"ok"}, nil},
		{"every problem with its position", []string{"config", "check", broken}, 1, nil, []string{
			broken + `:3:22: default_timezone: unknown timezone "Mars/Olympus"`,
			broken + `:6:10: dialer type: "fax" is not one of http, callkaro, log`,
			broken + `:10:25: agent "a": when: unexpected token EOF`,
			"3 problem(s)",
		}},
		{"json output", []string{"config", "check", "--output", "json", broken}, 1, []string{`"ok": false`, `"line": 3`, `"column": 22`}, nil},
		{"missing file", []string{"config", "check", filepath.Join(dir, "nope.hcl")}, 1, nil, []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, nil, tt.args...)
			if res.Code != tt.code {
				t.Fatalf("exit code = %d, want %d\nstdout: %s\nstderr: %s", res.Code, tt.code, res.Stdout, res.Stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(res.Stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.Stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(res.Stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.Stderr)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	res := runCLI(t, nil, "version")
	if res.Code != 0 || !strings.Contains(res.Stdout, "callgate ") || !strings.Contains(res.Stdout, "go1.") {
		t.Fatalf("version = %d %q %q", res.Code, res.Stdout, res.Stderr)
	}
}

func TestServeRefusesBadStarts(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   string
	}{
		{"data dir cannot be created", `
server {
  listen   = "{{.Listen}}"
  data_dir = "/dev/null/callgate"
}
`, "data dir /dev/null/callgate: cannot create it"},
		{"config with problems", `
server {
  listen   = "{{.Listen}}"
  data_dir = "{{.DataDir}}"
  max_body_bytes = 0
}
`, "callgate.hcl:5:20: max_body_bytes must be positive, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := launch(t, gatewayOptions{Config: tt.config, NoWait: true})
			if code := g.Wait(20 * time.Second); code != 1 {
				t.Fatalf("exit code = %d, want 1\n%s", code, g.Output())
			}
			if !strings.Contains(g.Output(), tt.want) {
				t.Fatalf("output lacks %q:\n%s", tt.want, g.Output())
			}
		})
	}
}
