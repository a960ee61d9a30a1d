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

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
)

// TestAppReconcilesWithThePluginHost: the gateway runs reconciliation
// through the real plugin host. A CRM it cannot reach fails the pass, and
// the audit says why nothing was listed (e2e TestReconciliationFindsMissedLeads
// covers a CRM that answers).
func TestAppReconcilesWithThePluginHost(t *testing.T) {
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
	var rep api.AuditReport
	eventually(t, "a failed pass in the audit", func() bool {
		rep = audit()
		return len(rep.Reconciliation) == 1 && rep.Reconciliation[0].LastPass != nil && rep.Reconciliation[0].Error != ""
	})
	if !rep.Reconciliation[0].Enabled || rep.Unaccounted != 0 {
		t.Errorf("audit reconciliation = %+v, unaccounted %d", rep.Reconciliation, rep.Unaccounted)
	}
	if !strings.Contains(logs.String(), "reconcil") {
		t.Errorf("the log does not mention the failed pass:\n%s", logs.String())
	}
}
