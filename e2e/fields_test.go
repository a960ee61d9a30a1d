package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fieldsGatewayConfig reads contact.first_name (HubSpot calls it
// firstname) from the fake HubSpot at fake; the token comes from the
// environment, as a real one would.
func fieldsGatewayConfig(fake, firstField string) string {
	return `
server {
  listen             = "{{.Listen}}"
  data_dir           = "{{.DataDir}}"
  log_format         = "text"
  admin_token_sha256 = ["91c16f0d6cc1bec3c3603972182a07c66ff4fa71618a975e963d6dbe42b6dd37"] # demo-admin-token
}
integration "hubspot" {
  access_token = env("FIELDS_HUBSPOT_TOKEN")
  base_url     = "http://` + fake + `"
}
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  dialer       = "log"
  integrations = ["hubspot"]
  variables = {
    name    = "contact.` + firstField + ` ?? 'there'"
    company = "contact.company ?? ''"
  }
}
`
}

type agentWarnings struct {
	Agents []struct {
		ID       string   `json:"id"`
		Warnings []string `json:"warnings"`
	} `json:"agents"`
}

// TestFieldWarnings: a rule reading contact.first_name is a warning with a
// did-you-mean in `config check --online`, in the gateway's log after it
// starts and in GET /api/v1/agents, and goes away when a reload fixes
// it; rules test --record-id reads the record through the real plugin;
// a reload that breaks the token makes the credential check say rejected.
func TestFieldWarnings(t *testing.T) {
	fake := freeAddr(t)
	startFake(t, "hubspot", "--listen", fake)
	const warning = "agent sales-intro: contact.first_name: no such property in hubspot; did you mean firstname?"
	tokenEnv := []string{"FIELDS_HUBSPOT_TOKEN=demo-access-token"}

	file := filepath.Join(t.TempDir(), "callgate.hcl")
	static := strings.NewReplacer("{{.Listen}}", "127.0.0.1:8080", "{{.DataDir}}", "./data").Replace(fieldsGatewayConfig(fake, "first_name"))
	if err := os.WriteFile(file, []byte(static), 0o600); err != nil {
		t.Fatal(err)
	}
	// Offline, without the secret: ok, and the variable serve needs is named.
	off := runCLI(t, []string{"FIELDS_HUBSPOT_TOKEN="}, "config", "check", file)
	if off.Code != 0 || off.Stdout != "ok\n" || !strings.Contains(off.Stderr, `env("FIELDS_HUBSPOT_TOKEN") is not set`) || strings.Contains(off.Stderr, "warning") {
		t.Fatalf("config check offline: exit %d\n%s%s", off.Code, off.Stdout, off.Stderr)
	}
	on := runCLI(t, tokenEnv, "config", "check", "--online", file)
	if on.Code != 0 || on.Stdout != "ok\n" || !strings.Contains(on.Stderr, "warning: "+warning) || strings.Contains(on.Stderr, "company") {
		t.Fatalf("config check --online: exit %d\n%s%s", on.Code, on.Stdout, on.Stderr)
	}

	g := launch(t, gatewayOptions{Config: fieldsGatewayConfig(fake, "first_name"), Env: tokenEnv})
	g.WaitForOutput(warning)
	admin := http.Header{"Authorization": {"Bearer demo-admin-token"}}
	agents := func() []string {
		t.Helper()
		code, body := g.Do(http.MethodGet, "/api/v1/agents", nil, admin)
		var list agentWarnings
		if code != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list.Agents) != 1 {
			t.Fatalf("GET /api/v1/agents: %d %s", code, body)
		}
		return list.Agents[0].Warnings
	}
	if got := agents(); len(got) != 1 || got[0] != "contact.first_name: no such property in hubspot; did you mean firstname?" {
		t.Fatalf("agent warnings %q", got)
	}

	if list := runCLI(t, nil, "agents", "list", "--addr", g.URL, "--token", "demo-admin-token"); list.Code != 0 || !strings.Contains(list.Stderr, "warning: "+warning) {
		t.Fatalf("agents list: exit %d\n%s%s", list.Code, list.Stdout, list.Stderr)
	}

	// Try the rules on contact 1001 (Ada), read through the plugin.
	try := runCLI(t, nil, "rules", "test", "--addr", g.URL, "--token", "demo-admin-token", "--agent", "sales-intro", "--record-id", "1001")
	out := strings.Join(strings.Fields(try.Stdout), " ")
	for _, want := range []string{"record 1001 (read from integration hubspot)", "to_number +919876543210 (from mobilephone)", "missing fields first_name"} {
		if try.Code != 0 || !strings.Contains(out, want) {
			t.Fatalf("rules test --record-id lacks %q: exit %d\n%s%s", want, try.Code, try.Stdout, try.Stderr)
		}
	}
	if miss := runCLI(t, nil, "rules", "test", "--addr", g.URL, "--token", "demo-admin-token", "--agent", "sales-intro", "--record-id", "999999"); miss.Code == 0 || !strings.Contains(miss.Stderr, "HTTP 404") {
		t.Fatalf("a missing record: exit %d\n%s", miss.Code, miss.Stderr)
	}

	// Check now, then a reload that fixes the rule: the warning goes.
	code, body := g.Do(http.MethodPost, "/api/v1/integrations/hubspot/check", nil, admin)
	if code != http.StatusOK || !strings.Contains(string(body), `"state":"accepted"`) {
		t.Fatalf("check now: %d %s", code, body)
	}
	g.WriteConfig(fieldsGatewayConfig(fake, "firstname"))
	g.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the warning to clear after the reload", func() bool { return len(agents()) == 0 })

	// A reload with a token the CRM refuses: checked again at once, rejected.
	broken := strings.Replace(fieldsGatewayConfig(fake, "firstname"), `env("FIELDS_HUBSPOT_TOKEN")`, `"pat-na1-revoked"`, 1)
	g.WriteConfig(broken)
	g.Signal(syscall.SIGHUP)
	g.WaitForOutput("integration credentials checked again after the reload: credentials rejected by the CRM")
	code, body = g.Do(http.MethodGet, "/api/v1/plugins", nil, admin)
	if code != http.StatusOK || !strings.Contains(string(body), `"state":"rejected"`) {
		t.Fatalf("plugins after the token changed: %d %s", code, body)
	}
}
