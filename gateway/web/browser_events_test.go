package web_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callgate/callgate/gateway/store"
)

// TestBrowserEvents walks "why wasn't this person called?" in Chromium:
// search the calls by number, open the event detail from the events list,
// and bulk-replay the failed events after a confirmation naming the count.
// It saves screenshots of each page.
func TestBrowserEvents(t *testing.T) {
	ctx := newBrowser(t)
	f := newFixture(t, "")
	call := f.addCall(t, "+919812345678", store.CallCompleted, f.now.Add(-time.Hour))
	ev := f.addCalledEvent(t, call, json.RawMessage(`{"ObjectID":"123","Fields":{"email":{"String":"ada@example.com"}}}`))
	f.addFailedEvent(t, "701")
	f.addFailedEvent(t, "702")

	run := func(name string, actions ...chromedp.Action[chromedp.Void]) {
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
	submit := func(name, sel string) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
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

	run("open sign-in", chromedp.Navigate(f.srv.URL+"/ui/calls"), chromedp.WaitVisible(chromedp.ID("token")))
	run("type token", chromedp.SendKeys(chromedp.ID("token"), adminToken))
	submit("sign in", "#login button") // lands on the overview

	run("open calls", chromedp.Navigate(f.srv.URL+"/ui/calls"), chromedp.WaitVisible(chromedp.ID("call-filters")))
	run("search calls", chromedp.SendKeys(chromedp.CSS(`#call-filters input[name="q"]`), "098123 45678"))
	submit("filter", "#call-filters button[type=submit]")
	if got := text("#calls tbody"); !strings.Contains(got, "Ada") || !strings.Contains(got, "+919812345678") || !strings.Contains(got, "IST") {
		t.Fatalf("search by number shows %q", got)
	}
	screenshot("dashboard-calls-search.png")

	run("open events", chromedp.Navigate(f.srv.URL+"/ui/events"), chromedp.WaitVisible(chromedp.ID("event-"+ev.ID)))
	submit("open event", "#event-"+ev.ID+" a.event-link")
	if got := text("#event-status"); got != "completed" {
		t.Fatalf("the event of a completed call reads %q", got)
	}
	if got := text("#event-record"); !strings.Contains(got, "ada@example.com") {
		t.Fatalf("inline record shows %q", got)
	}
	screenshot("dashboard-event.png")

	run("open failed events", chromedp.Navigate(f.srv.URL+"/ui/events?status=failed&agent_id=sales-intro"), chromedp.WaitVisible(chromedp.ID("bulk-replay")))
	// Say yes to the confirmation, keeping its question where the next
	// page can read it (sessionStorage outlives the navigation).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(window.confirm = (q) => { sessionStorage.setItem("asked", q); return true; }, true)`)); err != nil {
		t.Fatal(err)
	}
	screenshot("dashboard-events-bulk-replay.png")
	submit("bulk replay", "#bulk-replay button")
	asked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("asked") || ""`))
	if err != nil {
		t.Fatal(err)
	}
	if asked != "Replay 2 failed events of sales-intro?" {
		t.Fatalf("the confirmation asked %q", asked)
	}
	if got := text("main .flash"); !strings.Contains(got, "2 events queued again") {
		t.Fatalf("after bulk replay the page says %q", got)
	}
	evs, _, _ := f.inbox.ListEvents(ctx, store.EventFilter{Status: store.EventFailed})
	if len(evs) != 0 {
		t.Fatalf("%d events still failed after the bulk replay", len(evs))
	}
}
