package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
)

// reloadConfigText is a gateway with one agent, one API key and an admin
// token, and the given max_body_bytes.
func reloadConfigText(dataDir string, maxBody string) string {
	return `server {
  data_dir           = "` + dataDir + `"
  admin_token_sha256 = ["` + digest("token-a") + `"]
  max_body_bytes     = ` + maxBody + `
}
api_key "crm" {
  sha256 = "` + digest("webhook-key") + `"
}
integration "hubspot" {
  access_token = "pat"
}
dialer "log" {
  type = "log"
}
agent "sales" {}
`
}

// TestReloadRefusesAWipeAndAppliesBodyLimit: SIGHUP with an empty file is
// refused (agents, keys and tokens stay), and max_body_bytes applies to the
// server's own routes at once.
func TestReloadRefusesAWipeAndAppliesBodyLimit(t *testing.T) {
	dir := t.TempDir()
	dataDir := dir + "/data"
	path := writeFile(t, dir, "callgate.hcl", reloadConfigText(dataDir, "64"))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(appConfig{Config: cfg, Path: path, Logger: newLogger(logs, "text", "debug"), Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	a.http.Handle(http.MethodPost, "/echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		}
	}))
	signals := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- a.run(context.Background(), signals) }()
	t.Cleanup(func() {
		signals <- syscall.SIGTERM
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("run did not return after SIGTERM")
		}
	})
	url := "http://" + ln.Addr().String()
	post := func(n int) int {
		resp, err := http.Post(url+"/echo", "text/plain", strings.NewReader(strings.Repeat("x", n)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	admin := func() int {
		req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/agents", nil)
		req.Header.Set("Authorization", "Bearer token-a")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(100); got != http.StatusRequestEntityTooLarge {
		t.Fatalf("100 bytes under max_body_bytes 64 = %d, want 413", got)
	}

	t.Run("an empty file is refused", func(t *testing.T) {
		writeFile(t, dir, "callgate.hcl", "")
		signals <- syscall.SIGHUP
		eventually(t, "refusal logged", func() bool {
			return strings.Contains(logs.String(), "config reload refused: the running config stays")
		})
		out := logs.String()
		for _, want := range []string{
			"[ERROR] callgate: config reload refused: reason=\"" + path + " has no agent blocks, but the running config has 1 (sales)",
			"has no api_key blocks, but the running config has 1 (crm)",
			"has no server.admin_token_sha256, but the running config has 1 admin token(s)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if got := a.cfg.Load(); len(got.Agents) != 1 || len(got.APIKeys) != 1 {
			t.Errorf("running config after the refusal: %d agents, %d keys", len(got.Agents), len(got.APIKeys))
		}
		if got := admin(); got != http.StatusOK {
			t.Errorf("admin API after the refusal = %d, want 200", got)
		}
	})

	t.Run("max_body_bytes applies everywhere at once", func(t *testing.T) {
		writeFile(t, dir, "callgate.hcl", reloadConfigText(dataDir, "1024"))
		signals <- syscall.SIGHUP
		eventually(t, "reload applied", func() bool { return a.cfg.Load().Server.MaxBodyBytes == 1024 })
		if got := post(100); got != http.StatusOK {
			t.Errorf("100 bytes under max_body_bytes 1024 = %d, want 200", got)
		}
		if got := post(2000); got != http.StatusRequestEntityTooLarge {
			t.Errorf("2000 bytes under max_body_bytes 1024 = %d, want 413", got)
		}
		if strings.Contains(logs.String(), "server.max_body_bytes") {
			t.Errorf("the log claims max_body_bytes needs a restart:\n%s", logs.String())
		}
	})
}
