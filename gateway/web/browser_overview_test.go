package web_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/store"
)

// browser is a signed-out Chromium tab on a fixture, with the helpers a
// test step needs.
type browser struct {
	t   *testing.T
	ctx context.Context
	f   *fixture
}

func openBrowser(t *testing.T, f *fixture) *browser {
	return &browser{t: t, ctx: newBrowser(t), f: f}
}

func (b *browser) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", name, err)
	}
}

// open loads a dashboard path and waits for the page's main content.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.f.srv.URL+path), chromedp.WaitReady(chromedp.CSS("main")))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// count is how many elements match sel.
func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func (b *browser) signIn() {
	b.t.Helper()
	b.do("open sign-in", chromedp.Navigate(b.f.srv.URL+"/ui/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.do("type token", chromedp.SendKeys(chromedp.ID("token"), adminToken))
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#login button"))); err != nil {
		b.t.Fatalf("sign in: %v", err)
	}
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(artifactsDir(b.t), name)
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", shot)
}

// refreshes is the page's reload interval in seconds, body data-refresh
// ("" when it does not reload).
func (b *browser) refreshes() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.getAttribute("data-refresh") || ""`))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// addEndedCall stores a call whose one attempt ended with outcome after
// durationS seconds.
func (f *fixture) addEndedCall(tb testing.TB, number, status, outcome string, durationS float64, at time.Time) store.Call {
	tb.Helper()
	c := f.addCall(tb, number, store.CallScheduled, at)
	got, err := f.db.MutateCall(context.Background(), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		end := at.Add(time.Minute)
		c.Status, c.NextAttemptAt = status, nil
		c.Attempts = []store.Attempt{{N: 1, StartedAt: at, EndedAt: &end, Outcome: outcome, DurationS: durationS}}
		return nil, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// TestBrowserOverview: a first-time user lands on the overview after
// signing in and is told where to point HubSpot; with calls, the overview
// counts them, draws the week and reloads itself only while a call is
// dialing, as the calls list does.
func TestBrowserOverview(t *testing.T) {
	f := newFixture(t, "")
	b := openBrowser(t, f)
	b.signIn()

	const hook = "http://127.0.0.1:8080/call/crm-webhook?agent_id=sales-intro&type=hubspot&x_api_key=YOUR_KEY"
	if got := b.text("#get-started"); !strings.Contains(got, hook) || !strings.Contains(got, "Send a test webhook") || !strings.Contains(got, "callgate webhook send") {
		t.Fatalf("the empty overview says %q", got)
	}
	if got := b.text("#get-started"); !strings.Contains(got, "agent_id=lsq-intro&type=leadsquared") {
		t.Fatalf("the empty overview lacks the LeadSquared agent's URL: %q", got)
	}
	if got := b.refreshes(); got != "" {
		t.Fatalf("the empty overview refreshes every %q seconds", got)
	}
	b.screenshot("dashboard-overview-empty.png")
	b.open("/ui/calls")
	if got := b.text("#get-started"); !strings.Contains(got, hook) {
		t.Fatalf("the empty calls page says %q", got)
	}
	b.open("/ui/calls?status=failed")
	if n := b.count("#get-started"); n != 0 {
		t.Fatal("a filtered calls page with no match shows the first-time help")
	}

	f.addEndedCall(t, "+919812345601", store.CallCompleted, store.OutcomeCompleted, 90, f.now.Add(-time.Minute))
	f.addEndedCall(t, "+919812345602", store.CallCompleted, store.OutcomeCompleted, 30, f.now.Add(-2*time.Minute))
	f.addEndedCall(t, "+919812345603", store.CallFailed, store.OutcomeBusy, 0, f.now.Add(-3*time.Minute))
	f.addEndedCall(t, "+919812345604", store.CallCompleted, store.OutcomeCompleted, 60, f.now.Add(-72*time.Hour))
	f.addCall(t, "+919812345605", store.CallRetryScheduled, f.now.Add(-4*time.Minute))
	dialing := f.addCall(t, "+919812345606", store.CallDialing, f.now.Add(-5*time.Second))
	f.refusals.Add(refused.Refusal{At: f.now, Route: "/call/crm-webhook", Agent: "sales-intro", Type: "hubspot",
		Status: 403, Class: "api_key", Reason: "x_api_key: not a configured key", Remote: "203.0.113.9"})

	b.open("/ui/")
	if n := b.count("#get-started"); n != 0 {
		t.Fatal("the overview still shows the first-time help with calls stored")
	}
	for sel, want := range map[string]string{
		"#calls-today":  "5", // the one 3 days ago is not today
		"#calls-week":   "6",
		"#connect-rate": "60%", // 3 completed of 5 with an ended attempt (the retry's no_answer counts)
		"#avg-duration": "1m0s",
		"#dialing-now":  "1",
	} {
		if got := strings.TrimSpace(b.text(sel)); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	if n := b.count("#chart .bar"); n != 7 {
		t.Errorf("the chart has %d bars, want 7", n)
	}
	if n := b.count("#chart rect.seg-ok"); n != 2 {
		t.Errorf("the chart has %d completed segments, want 2 (today and 3 days ago)", n)
	}
	if got := b.text("#status-counts"); !strings.Contains(got, "completed\t2\t3") {
		t.Errorf("status counts show %q", got)
	}
	if got := b.text("#queue"); !strings.Contains(got, "Calls waiting to retry\t1") || !strings.Contains(got, "Calls dialing\t1") {
		t.Errorf("queues show %q", got)
	}
	if got := b.text("#health-dialers"); !strings.Contains(got, "log\tlog\t1 of 20\tlsq-intro, sales-intro") {
		t.Errorf("dialers show %q", got)
	}
	if got := b.text("#health-plugins"); !strings.Contains(got, "running hubspot") {
		t.Errorf("plugins show %q", got)
	}
	if got := b.text("#overview-refused"); !strings.Contains(got, "x_api_key: not a configured key") {
		t.Errorf("refusals show %q", got)
	}
	if got := b.refreshes(); got != "10" {
		t.Fatalf("with a call dialing the overview refreshes %q, want every 10 seconds", got)
	}
	if got := b.text("#auto-refresh"); !strings.Contains(got, "reloads every 10 seconds") {
		t.Fatalf("the refresh note says %q", got)
	}
	b.screenshot("dashboard-overview.png")
	b.open("/ui/calls")
	if got := b.refreshes(); got != "10" {
		t.Fatalf("with a call dialing the calls page refreshes %q, want every 10 seconds", got)
	}
	b.open("/ui/events")
	if got := b.refreshes(); got != "" {
		t.Fatalf("the events page refreshes every %q seconds", got)
	}

	if _, err := f.db.MutateCall(context.Background(), dialing.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Status = store.CallCompleted
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/ui/", "/ui/calls"} {
		b.open(path)
		if got := b.refreshes(); got != "" {
			t.Fatalf("%s refreshes every %q seconds with nothing dialing", path, got)
		}
	}
}

//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one failed axe-core rule with the elements that fail it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeCheck runs axe-core on the page and returns its serious and
// critical violations.
func (b *browser) axeCheck() []axeViolation {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";\ntrue")); err != nil {
		b.t.Fatalf("load axe-core: %v", err)
	}
	const run = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations
	  .filter(v => v.impact === "serious" || v.impact === "critical")
	  .map(v => ({id: v.id, impact: v.impact, help: v.help,
	    nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary.replace(/\s+/g, " "))}))))`
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("run axe-core: %v", err)
	}
	var out []axeViolation
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		b.t.Fatalf("axe-core's answer %q: %v", raw, err)
	}
	return out
}

// TestBrowserAccessibility runs axe-core (testdata/axe) over every page
// of the dashboard, with data on it, and fails on any violation of impact
// serious or critical: contrast, names of buttons, inputs and links,
// landmarks, the structure of tables and lists.
func TestBrowserAccessibility(t *testing.T) {
	f := newFixture(t, "https://calls.example.com")
	call := f.addCall(t, "+919812345678", store.CallRetryScheduled, f.now.Add(-time.Hour))
	f.addEndedCall(t, "+919812345679", store.CallCompleted, store.OutcomeCompleted, 42, f.now.Add(-2*time.Hour))
	f.addCall(t, "+919812345670", store.CallDialing, f.now.Add(-time.Minute))
	reported := f.addReportedCall(t, "+919812345671", "https://rec.example.com/a.mp3")
	f.addFailedEvent(t, "777")
	f.refusals.Add(refused.Refusal{At: f.now, Route: "/call/crm-webhook", Agent: "sales-intro", Type: "hubspot",
		Status: 401, Class: "signature", Reason: "X-HubSpot-Signature-v3: does not match", Remote: "203.0.113.9"})
	if err := f.db.AddDND(context.Background(), "+919812345600", "asked not to be called", f.now); err != nil {
		t.Fatal(err)
	}
	b := openBrowser(t, f)

	pages := []struct{ name, path string }{
		{"login", "/ui/login"},
		{"overview", "/ui/"},
		{"calls", "/ui/calls"},
		{"call", "/ui/calls/" + call.ID},
		{"call with a conversation", "/ui/calls/" + reported.ID},
		{"events", "/ui/events"},
		{"agents", "/ui/agents"},
		{"plugins", "/ui/plugins"},
		{"fields", "/ui/integrations/hubspot/fields"},
		{"dnd", "/ui/dnd"},
	}
	for i, p := range pages {
		if i == 1 {
			b.signIn()
		}
		t.Run(p.name, func(t *testing.T) {
			b.t = t
			b.open(p.path)
			if vs := b.axeCheck(); len(vs) > 0 {
				var msg strings.Builder
				for _, v := range vs {
					fmt.Fprintf(&msg, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
					for _, n := range v.Nodes {
						fmt.Fprintf(&msg, "\n    %s", n)
					}
				}
				t.Errorf("%s has %d serious or critical accessibility violations:%s", p.path, len(vs), msg.String())
			}
		})
	}
	b.t = t
}
