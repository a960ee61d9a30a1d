package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestQuickstartFirstCall follows the README's offline trial: the fake
// HubSpot `make run` starts, the quick-start config, and one
// `callgate webhook send` — then the call is in that gateway's API.
func TestQuickstartFirstCall(t *testing.T) {
	g, fakeAddr := startQuickstart(t)
	send := runCLI(t, nil, "webhook", "send", "--addr", g.URL, "--agent", "sales-intro", "--key", "demo-api-key", "--contact", "1001")
	if send.Code != 0 || !strings.Contains(send.Stdout, "\n200 ") {
		t.Fatalf("webhook send: exit %d\n%s%s", send.Code, send.Stdout, send.Stderr)
	}
	if strings.Contains(send.Stdout, "demo-api-key") {
		t.Errorf("webhook send printed the API key:\n%s", send.Stdout)
	}
	call := waitForCall(t, g, "Ada")
	if call.ToNumber != "+919876543210" || call.Status != "completed" {
		t.Errorf("call = %+v, want a completed call to +919876543210", call)
	}

	// A contact added as HubSpot's API adds one, then called the same way.
	req, _ := http.NewRequest(http.MethodPost, "http://"+fakeAddr+"/crm/v3/objects/contacts",
		strings.NewReader(`{"properties":{"firstname":"Grace","mobilephone":"+91 98765 43211"}}`))
	req.Header.Set("Authorization", "Bearer demo-access-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var created struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &created) != nil || created.ID == "" {
		t.Fatalf("create contact: %d %s", resp.StatusCode, body)
	}
	send = runCLI(t, nil, "webhook", "send", "--addr", g.URL, "--agent", "sales-intro", "--key", "demo-api-key", "--contact", created.ID)
	if send.Code != 0 {
		t.Fatalf("webhook send: exit %d\n%s%s", send.Code, send.Stdout, send.Stderr)
	}
	if c := waitForCall(t, g, "Grace"); c.ToNumber != "+919876543211" {
		t.Errorf("second call = %+v", c)
	}

	// The account's fields, as rules name them, through the real plugin.
	admin := []string{"--addr", g.URL, "--token", "demo-admin-token"}
	fields := runCLI(t, nil, append(admin, "fields", "hubspot")...)
	for _, want := range []string{"NAME", "firstname", "First Name", "lifecyclestage", "subscriber, lead, marketingqualifiedlead", "createdate", "time"} {
		if fields.Code != 0 || !strings.Contains(fields.Stdout, want) {
			t.Errorf("fields hubspot lacks %q (exit %d):\n%s%s", want, fields.Code, fields.Stdout, fields.Stderr)
		}
	}
	if nope := runCLI(t, nil, append(admin, "fields", "nope")...); nope.Code == 0 || !strings.Contains(nope.Stderr, `unknown integration "nope": use one of hubspot`) {
		t.Errorf("fields nope: exit %d\n%s", nope.Code, nope.Stderr)
	}

	// The dashboard's "Send a test webhook": the same path, signed, no key.
	auth := http.Header{"Authorization": {"Bearer demo-admin-token"}, "Content-Type": {"application/json"}}
	code, answer := g.Do(http.MethodPost, "/api/v1/agents/sales-intro/test-webhook", strings.NewReader(`{"contact_id":"`+created.ID+`"}`), auth)
	if code != http.StatusOK || !strings.Contains(string(answer), `"accepted":1`) {
		t.Fatalf("test webhook: %d %s", code, answer)
	}
	for _, bad := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/api/v1/agents/sales-intro/test-webhook", `{"contact_id":"ada"}`, 400, `contact_id: \"ada\" is not a HubSpot record id`},
		{"/api/v1/agents/ghost/test-webhook", `{"contact_id":"1001"}`, 404, `agent \"ghost\" is not in the config`},
	} {
		if code, answer := g.Do(http.MethodPost, bad.path, strings.NewReader(bad.body), auth); code != bad.code || !strings.Contains(string(answer), bad.msg) {
			t.Errorf("%s %s: %d %s", bad.path, bad.body, code, answer)
		}
	}
	if code, _ := g.Do(http.MethodPost, "/api/v1/agents/sales-intro/test-webhook", strings.NewReader(`{"contact_id":"1001"}`), nil); code != http.StatusUnauthorized {
		t.Errorf("a test webhook without the admin token: %d", code)
	}

	// A wrong key is refused, and the command says so with its exit code.
	bad := runCLI(t, nil, "webhook", "send", "--addr", g.URL, "--agent", "sales-intro", "--key", "wrong", "--contact", "1001")
	if bad.Code != 1 || !strings.Contains(bad.Stdout, "\n403 ") {
		t.Errorf("wrong key: exit %d\n%s%s", bad.Code, bad.Stdout, bad.Stderr)
	}
}

// startQuickstart serves configs/quickstart.hcl on a free port with the
// fake HubSpot `make run` starts beside it, and returns the gateway and
// the fake's address.
func startQuickstart(t *testing.T) (*gateway, string) {
	t.Helper()
	fakeAddr := freeAddr(t)
	fake := startFake(t, "hubspot", "--listen", fakeAddr)
	if !strings.Contains(fake, "1001   Ada Lovelace  +91 98765 43210") {
		t.Fatalf("the fake did not list its sample contact:\n%s", fake)
	}
	raw, err := os.ReadFile("../configs/quickstart.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(raw), `listen           = "127.0.0.1:8080"`, `listen           = "{{.Listen}}"`, 1)
	cfg = strings.Replace(cfg, `data_dir         = "./data"`, `data_dir         = "{{.DataDir}}"`, 1)
	if cfg == string(raw) {
		t.Fatal("configs/quickstart.hcl no longer has the listen/data_dir lines this test rewrites")
	}
	// The quick start reads HUBSPOT_BASE_URL, defaulting to the fake on
	// 127.0.0.1:8090; the test's fake is on a free port.
	return launch(t, gatewayOptions{Config: cfg, Env: []string{"HUBSPOT_BASE_URL=http://" + fakeAddr}}), fakeAddr
}

// quickCall is the part of a call record the quick-start test reads.
type quickCall struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	ToNumber  string            `json:"to_number"`
	Variables map[string]string `json:"variables"`
}

// waitForCall polls the admin API until a final call for firstname exists.
func waitForCall(t *testing.T, g *gateway, firstname string) quickCall {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		code, body := g.Do(http.MethodGet, "/api/v1/calls?agent_id=sales-intro", nil, http.Header{"Authorization": {"Bearer demo-admin-token"}})
		var list struct{ Calls []quickCall }
		if code == http.StatusOK && json.Unmarshal(body, &list) == nil {
			for _, c := range list.Calls {
				if c.Variables["firstname"] == firstname && c.Status == "completed" {
					return c
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no completed call for %s within 15s; gateway log:\n%s", firstname, g.Output())
	return quickCall{}
}

// startFake runs `callgate fake NAME args…` until the test ends and
// returns its banner once it serves.
func startFake(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"fake", name}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var banner strings.Builder
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		banner.WriteString(lines.Text() + "\n")
		if lines.Text() == "Serving until Ctrl-C." {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return banner.String()
		}
	}
	t.Fatalf("callgate fake %s exited before serving:\n%s", name, banner.String())
	return ""
}
