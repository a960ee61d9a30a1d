package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

const (
	browserAdminToken = "e2e-admin-token-0123456789"
	browserAPIKey     = "e2e-api-key"
	browserSecret     = "e2e-client-secret"
	browserDialSecret = "e2e-dialer-secret"
)

func dashSHA(s string) string { b := sha256.Sum256([]byte(s)); return hex.EncodeToString(b[:]) }

// browserConfig: one agent calls through a fake voice platform with a
// retry on no_answer; a second agent's integration holds a revoked token,
// so its events fail.
func browserConfig(hubspotURL, hubspotToken, dialURL string) string {
	return fmt.Sprintf(`
server {
  listen             = "{{.Listen}}"
  public_url         = "{{.PublicURL}}"
  data_dir           = "{{.DataDir}}"
  admin_token_sha256 = [%q]
}
api_key "e2e" {
  sha256 = %q
}
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
}
integration "hubspot-revoked" {
  type          = "hubspot"
  access_token  = "pat-na1-revoked"
  client_secret = %q
  base_url      = %q
}
dialer "voice" {
  type   = "http"
  url    = %q
  secret = %q
}
agent "sales-intro" {
  dialer       = "voice"
  integrations = ["hubspot"]
  variables    = { firstname = "title(contact.firstname) ?? 'there'" }
  retry {
    max  = 1
    gaps = ["2h"]
  }
}
agent "renewals" {
  dialer       = "voice"
  integrations = ["hubspot-revoked"]
}
`, dashSHA(browserAdminToken), dashSHA(browserAPIKey), hubspotToken, browserSecret, hubspotURL, browserSecret, hubspotURL, dialURL, browserDialSecret)
}

// postContactCreated posts a signed contact.creation webhook for id to agent.
func postContactCreated(t *testing.T, g *gateway, agent string, id int64) {
	t.Helper()
	url := g.URL + "/call/crm-webhook?type=hubspot&agent_id=" + agent + "&x_api_key=" + browserAPIKey
	body, header := hubspottest.ContactCreation(hubspottest.Webhook{Secret: browserSecret, URL: url, ObjectIDs: []int64{id}})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("webhook for %s: %d %s", agent, resp.StatusCode, b)
	}
}

// adminGet reads an admin API document.
func adminGet(t *testing.T, g *gateway, path string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+browserAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
}

type e2eCall struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	ToNumber string `json:"to_number"`
}

func waitDashboard(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

// TestBrowserDashboard runs the whole gateway binary with the fake HubSpot
// and a fake voice platform, then drives its dashboard in headless
// Chromium: sign in, see the call the webhook placed, open its detail,
// replay the failed event, add the number to DND.
func TestBrowserDashboard(t *testing.T) {
	chrome := findChromium(t)
	fake := hubspottest.New(hubspottest.Options{})
	t.Cleanup(fake.Close)
	contact, _ := strconv.ParseInt(fake.AddContact("", map[string]any{"firstname": "ada", "mobilephone": "+91 98765 43210"}), 10, 64)
	platform := dialertest.New(t, dialertest.HTTP, "")
	g := startGateway(t, browserConfig(fake.URL, fake.Token(), platform.URL))

	postContactCreated(t, g, "sales-intro", contact)
	waitDashboard(t, "the call is dialed", func() bool { return len(platform.Dials()) == 1 })
	if _, err := platform.Finish(context.Background(), http.DefaultClient, 0, "no_answer", browserDialSecret, 1); err != nil {
		t.Fatal(err)
	}
	var calls struct{ Calls []e2eCall }
	waitDashboard(t, "the call waits for its retry", func() bool {
		adminGet(t, g, "/api/v1/calls", &calls)
		return len(calls.Calls) == 1 && calls.Calls[0].Status == "retry_scheduled"
	})
	call := calls.Calls[0]

	postContactCreated(t, g, "renewals", contact)
	var events struct {
		Events []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"events"`
	}
	waitDashboard(t, "the revoked token's event fails", func() bool {
		adminGet(t, g, "/api/v1/events?status=failed", &events)
		return len(events.Events) == 1
	})
	failed := events.Events[0].ID

	ctx := startChromium(t, chrome)
	b := &browser{t: t, ctx: ctx}
	// The gateway's front door leads to the dashboard, which lands on the overview.
	b.do("open the dashboard", chromedp.Navigate(g.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.do("type the token", chromedp.SendKeys(chromedp.ID("token"), browserAdminToken))
	b.submit("sign in", "#login button")
	if got := b.text("#calls-week"); strings.TrimSpace(got) != "1" {
		t.Fatalf("the overview counts %q calls this week, want 1", got)
	}
	if got := b.text("#queue"); !strings.Contains(got, "Calls waiting to retry\t1") {
		t.Fatalf("the overview's queues show %q", got)
	}
	b.screenshot("e2e-overview.png")
	b.do("open calls", chromedp.Navigate(g.URL+"/ui/calls"), chromedp.WaitVisible(chromedp.ID("calls")))
	if got := b.text("#calls tbody"); !strings.Contains(got, "+919876543210") || !strings.Contains(got, "retry_scheduled") {
		t.Fatalf("call history shows %q", got)
	}
	b.screenshot("e2e-calls.png")

	b.submit("open the call", `a[href="/ui/calls/`+call.ID+`"]`)
	if got := b.text("main"); !strings.Contains(got, "no_answer") || !strings.Contains(got, "Next attempt at") || !strings.Contains(got, "Ada") {
		t.Fatalf("call detail shows %q", got)
	}

	b.do("open failed events", chromedp.Navigate(g.URL+"/ui/events?status=failed"), chromedp.WaitVisible(chromedp.ID("event-"+failed)))
	b.acceptConfirms()
	b.submit("replay", "#event-"+failed+" button.replay")
	if got := b.text("main .flash"); !strings.Contains(got, "queued again") {
		t.Fatalf("after replay the page says %q", got)
	}

	b.do("open agents", chromedp.Navigate(g.URL+"/ui/agents"), chromedp.WaitVisible(chromedp.ID("rules-test")))
	b.do("pick the agent", chromedp.SetValue(chromedp.CSS(`#rules-test select[name="agent_id"]`), "sales-intro"))
	b.do("paste a record", chromedp.SendKeys(chromedp.ID("record"), `{"firstname":"grace","mobilephone":"+14155550123"}`))
	b.submit("try the rules", "#rules-test button")
	if got := strings.Join(strings.Fields(b.text("#rules-result")), " "); !strings.Contains(got, "decision call") || !strings.Contains(got, `firstname "Grace"`) {
		t.Fatalf("rules test shows %q", got)
	}
	b.screenshot("e2e-agents.png")

	b.do("open plugins", chromedp.Navigate(g.URL+"/ui/plugins"), chromedp.WaitVisible(chromedp.ID("integrations")))
	if got := b.text("#plugins"); !strings.Contains(got, "hubspot") || !strings.Contains(got, "running") {
		t.Fatalf("plugins table shows %q", got)
	}
	if got := b.text("#integrations"); !strings.Contains(got, "accepted") || !strings.Contains(got, "rejected") {
		t.Fatalf("integrations table shows %q (want the good token accepted and the revoked one rejected)", got)
	}
	b.screenshot("e2e-plugins.png")

	b.do("open DND", chromedp.Navigate(g.URL+"/ui/dnd"), chromedp.WaitVisible(chromedp.ID("dnd-add")))
	b.do("type the number", chromedp.SendKeys(chromedp.CSS(`#dnd-add input[name="number"]`), "098765 43210"))
	b.submit("add to DND", "#dnd-add button")
	if got := b.text("#dnd tbody"); !strings.Contains(got, "+919876543210") {
		t.Fatalf("DND list shows %q", got)
	}
	var after e2eCall
	adminGet(t, g, "/api/v1/calls/"+call.ID, &after)
	if after.Status != "canceled" {
		t.Fatalf("the listed number's pending call is %s, want canceled", after.Status)
	}
}

// findChromium: a missing browser fails under CI=true, skips locally.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: the browser tests must run in CI (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed; apt-get install -y chromium to run the browser tests")
	return ""
}

func startChromium(t *testing.T, path string) context.Context {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// browser runs steps with a per-step timeout.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func (b *browser) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

func (b *browser) submit(name, sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// acceptConfirms answers yes to the dashboard's confirmation dialogs.
func (b *browser) acceptConfirms() {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(window.confirm = () => true, true)`)); err != nil {
		b.t.Fatal(err)
	}
}

// screenshot saves the page under test-artifacts/ at the module root.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("..", "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
