package cli

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
)

// TestAppReconcilesOnlyWhatCanList: the gateway runs reconciliation with
// the real plugin host. The built-in HubSpot plugin does not declare the
// reconcile capability yet, so an integration with a reconcile block is
// warned about once (not at every pass), and the audit says why its
// reconciliation did nothing.
func TestAppReconcilesOnlyWhatCanList(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	path := writeFile(t, dir, "callgate.hcl", appConfigText(dataDir, "token-a")+`
integration "hubspot" {
  access_token = "pat-x"
  base_url     = "http://127.0.0.1:1"
  reconcile {
    every = "1s"
  }
}
agent "sales" {}
`)
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
	signals := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- a.run(context.Background(), signals) }()
	defer func() {
		signals <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Errorf("run = %v", err)
		}
	}()
	const warning = "integration has a reconcile block but its plugin cannot list records"
	eventually(t, "the warning", func() bool { return strings.Contains(logs.String(), warning) })

	audit := func() api.AuditReport {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/audit", nil)
		req.Header.Set("Authorization", "Bearer token-a")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var rep api.AuditReport
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&rep) != nil {
			t.Fatalf("audit: %d", resp.StatusCode)
		}
		return rep
	}
	// Two more passes at every = 1s: still one warning.
	time.Sleep(2500 * time.Millisecond)
	if n := strings.Count(logs.String(), warning); n != 1 {
		t.Errorf("the warning was logged %d times, want once", n)
	}
	rep := audit()
	if len(rep.Reconciliation) != 1 || !rep.Reconciliation[0].Enabled || rep.Reconciliation[0].LastPass == nil ||
		!strings.Contains(rep.Reconciliation[0].Error, "no reconcile capability") || rep.Unaccounted != 0 {
		t.Errorf("audit reconciliation = %+v", rep.Reconciliation)
	}
}
