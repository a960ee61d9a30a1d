package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callgate/callgate/gateway/store"
)

// chromium finds the browser; under CI=true a missing browser fails the
// test, locally it skips with a hint.
func chromium(t *testing.T) string {
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

// newBrowser starts headless Chromium with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// artifactsDir is test-artifacts/ at the module root (gitignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test-artifacts")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBrowser drives the dashboard in headless Chromium as an operator
// would: sign in, find a call, open it, replay a failed event, add a DND
// number. It saves a screenshot of the call history page.
func TestBrowser(t *testing.T) {
	ctx := newBrowser(t)
	f := newFixture(t, "")
	call := f.addCall(t, "+919812345678", store.CallRetryScheduled, f.now.Add(-time.Hour))
	f.addCall(t, "+919812345670", store.CallCompleted, f.now.Add(-2*time.Hour))
	ev := f.addFailedEvent(t, "777")

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	// submit clicks a button and waits for the page the form leads to.
	submit := func(name, sel string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// The dashboard asks before destructive actions; the operator says yes.
	acceptConfirms := chromedp.Evaluate[bool](`(window.confirm = () => true, true)`)

	step("open sign-in", chromedp.Navigate(f.srv.URL+"/ui/calls"), chromedp.WaitVisible(chromedp.ID("token")))
	step("type token", chromedp.SendKeys(chromedp.ID("token"), adminToken))
	submit("sign in", "#login button")
	step("open calls", chromedp.Navigate(f.srv.URL+"/ui/calls"), chromedp.WaitVisible(chromedp.ID("calls")))
	if got := text("#calls tbody"); !strings.Contains(got, "+919812345678") || !strings.Contains(got, "retry_scheduled") {
		t.Fatalf("call history shows %q", got)
	}

	screenshot := func(name string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		shot := filepath.Join(artifactsDir(t), name)
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", shot)
	}
	screenshot("dashboard-calls.png")

	submit("open call", `a[href="/ui/calls/`+call.ID+`"]`)
	if got := text("#attempts"); !strings.Contains(got, "Attempt 1") || !strings.Contains(got, "no_answer") || !strings.Contains(got, "Next attempt at") {
		t.Fatalf("attempts timeline shows %q", got)
	}
	screenshot("dashboard-call.png")

	step("open failed events", chromedp.Navigate(f.srv.URL+"/ui/events?status=failed"), chromedp.WaitVisible(chromedp.ID("event-"+ev.ID)))
	if _, err := chromedp.Run(ctx, acceptConfirms); err != nil {
		t.Fatal(err)
	}
	submit("replay", "#event-"+ev.ID+" button.replay")
	if got := text("main .flash"); !strings.Contains(got, "queued again") {
		t.Fatalf("after replay the page says %q", got)
	}
	if got, _ := f.inbox.GetEvent(ctx, ev.ID); got.Status != store.EventPending {
		t.Fatalf("replayed event is %s, want pending", got.Status)
	}

	step("open DND", chromedp.Navigate(f.srv.URL+"/ui/dnd"), chromedp.WaitVisible(chromedp.ID("dnd-add")))
	step("type number", chromedp.SendKeys(chromedp.CSS(`#dnd-add input[name="number"]`), "98123 45678"),
		chromedp.SendKeys(chromedp.CSS(`#dnd-add input[name="note"]`), "asked not to be called"))
	submit("add DND", "#dnd-add button")
	if got := text("#dnd tbody"); !strings.Contains(got, "+919812345678") {
		t.Fatalf("DND list shows %q", got)
	}
	if got := text("main .flash"); !strings.Contains(got, "1 pending call(s) canceled") {
		t.Fatalf("after adding the number the page says %q", got)
	}
	if got, _ := f.db.GetCall(ctx, call.ID); got.Status != store.CallCanceled {
		t.Fatalf("the number's pending call is %s, want canceled", got.Status)
	}

	step("open plugins", chromedp.Navigate(f.srv.URL+"/ui/plugins"), chromedp.WaitVisible(chromedp.ID("integrations")))
	submit("list fields", `a[href="/ui/integrations/hubspot/fields"]`)
	if got := text("#fields tbody"); !strings.Contains(got, "lifecyclestage") || !strings.Contains(got, "customer (Customer)") {
		t.Fatalf("fields table shows %q", got)
	}
	screenshot("dashboard-fields.png")

	step("open agents", chromedp.Navigate(f.srv.URL+"/ui/agents"), chromedp.WaitVisible(chromedp.ID("agent-sales-intro")))
	step("type contact id", chromedp.SendKeys(chromedp.CSS(`#agent-sales-intro .test-webhook input[name="contact_id"]`), "1001"))
	submit("send test webhook", "#agent-sales-intro .test-webhook button")
	if got := text("main .flash"); !strings.Contains(got, "Test webhook for contact 1001 sent to sales-intro: 1 event received") {
		t.Fatalf("after the test webhook the page says %q", got)
	}
	screenshot("dashboard-test-webhook.png")

	// Field warnings, and Try the rules on a record read by id.
	if got := text("#warnings-sales-intro"); !strings.Contains(got, "contact.first_name: no such property in hubspot; did you mean firstname?") {
		t.Fatalf("sales-intro's warnings show %q", got)
	}
	step("pick the agent", chromedp.SetValue(chromedp.CSS(`#rules-test select[name="agent_id"]`), "sales-intro"))
	step("type a record id", chromedp.SendKeys(chromedp.ID("record_id"), "1001"))
	submit("try the rules", "#rules-test button")
	if got := text("#rules-result"); !strings.Contains(got, "read from integration hubspot") || !strings.Contains(got, `"grace"`) ||
		!strings.Contains(got, "missing fields    first_name") {
		t.Fatalf("rules test by record id shows %q", got)
	}
	screenshot("dashboard-rules-record-id.png")

	// Check now on the plugins page: HubSpot accepts, LeadSquared cannot be reached.
	step("open plugins again", chromedp.Navigate(f.srv.URL+"/ui/plugins"), chromedp.WaitVisible(chromedp.ID("integrations")))
	checks := f.checks.count("lsq")
	submit("check lsq now", `form[action="/ui/integrations/lsq/check"] button`)
	if got := text("main .flash"); !strings.Contains(got, "the CRM could not be reached") {
		t.Fatalf("after check now the page says %q", got)
	}
	if got := text("#integrations"); !strings.Contains(got, "accepted") || !strings.Contains(got, "unreachable") || strings.Contains(got, "rejected") {
		t.Fatalf("integrations table shows %q", got)
	}
	if f.checks.count("lsq") != checks+1 {
		t.Fatalf("check now made %d checks, want 1", f.checks.count("lsq")-checks)
	}
	screenshot("dashboard-check-now.png")
}
