package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callgate/callgate/gateway/store"
)

// addReportedCall stores a completed call whose attempt carries what the
// platform reported, with hostile text where a platform could put it.
func (f *fixture) addReportedCall(tb testing.TB, number, recording string) store.Call {
	tb.Helper()
	c := f.addCall(tb, number, store.CallScheduled, f.now.Add(-3*time.Hour))
	got, err := f.db.MutateCall(context.Background(), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		start := f.now.Add(-3 * time.Hour)
		end, at := start.Add(2*time.Minute), start.Add(5*time.Second)
		c.Status, c.NextAttemptAt = store.CallCompleted, nil
		c.BatchID, c.Priority, c.Language = "b-7", 40, "hi"
		c.Attempts = []store.Attempt{{N: 1, StartedAt: start, EndedAt: &end, Outcome: store.OutcomeCompleted, DurationS: 94,
			RecordingURL: recording,
			Transcript: []store.Turn{{Speaker: "agent", Text: "Namaste, am I speaking with Priya?", At: &at},
				{Speaker: "user", Text: "Yes. <script>alert(1)</script>\nCall me Monday."}},
			Summary: "Wants a demo on Monday <b>now</b>", Disposition: "interested", FromNumber: "+918035551234",
			Data:     map[string]any{"lead_status": "hot", "budget": 250000.0, "slots": []any{"mon", "tue"}},
			Activity: &store.Activity{ID: "51234", TaskIDs: []string{"t-9"}, LoggedAt: end}}}
		return nil, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// TestCallPageReport renders the call page: transcript, post-call data and
// an audio player for an http(s) recording, all escaped; a recording URL
// of another scheme is never put in the page.
func TestCallPageReport(t *testing.T) {
	f := newFixture(t, "")
	ok := f.addReportedCall(t, "+919812345678", "https://rec.example.com/a.mp3?sig=1&exp=2")
	bad := f.addReportedCall(t, "+919812345679", "javascript:alert(document.cookie)")
	c := newClient(t, f.srv.URL)
	c.signIn()

	_, body := c.get("/ui/calls/" + ok.ID)
	for _, want := range []string{
		`id="attempt-1-report"`, "Talk time", "1m34s", "interested", "Wants a demo on Monday &lt;b&gt;now&lt;/b&gt;", "&#43;918035551234",
		`<audio controls preload="none" src="https://rec.example.com/a.mp3?sig=1&amp;exp=2"`,
		`aria-describedby="attempt-1-transcript"`, "Recording of attempt 1",
		`<ol class="transcript" id="attempt-1-transcript">`, `<span class="speaker">agent</span>`,
		"Namaste, am I speaking with Priya?", "Yes. &lt;script&gt;alert(1)&lt;/script&gt;",
		"Transcript (2 turns)", "Post-call data", "lead_status", "hot", "250000", `[&#34;mon&#34;,&#34;tue&#34;]`,
		"Batch", "b-7", "Priority", "40", "Language",
		"In the CRM", `call <span class="mono">51234</span>, tasks <span class="mono">t-9</span>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("call page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, "<b>now</b>") {
		t.Error("platform text reached the page unescaped")
	}

	_, body = c.get("/ui/calls/" + bad.ID)
	if strings.Contains(body, "<audio") || strings.Contains(body, "javascript:") {
		t.Error("a javascript: recording URL reached the page")
	}
	if !strings.Contains(body, "not an http(s) URL: not shown") || !strings.Contains(body, "Namaste") {
		t.Error("the page should say why the recording is missing, and still show the transcript")
	}

	// A call without a report has no report block.
	plain := f.addCall(t, "+919812345670", store.CallScheduled, f.now)
	if _, body := c.get("/ui/calls/" + plain.ID); strings.Contains(body, `class="report"`) {
		t.Error("a call without a report shows a report block")
	}
}

// TestBrowserCallReport opens the call page in Chromium: the audio
// element is there with the recording, the transcript lists each turn.
func TestBrowserCallReport(t *testing.T) {
	f := newFixture(t, "")
	c := f.addReportedCall(t, "+919812345678", "https://rec.example.com/a.mp3")
	b := openBrowser(t, f)
	b.signIn()
	b.open("/ui/calls/" + c.ID)
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	src, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#attempt-1-report audio").src`))
	if err != nil || src != "https://rec.example.com/a.mp3" {
		t.Fatalf("audio src = %q, %v", src, err)
	}
	turns, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#attempt-1-transcript li").length`))
	if err != nil || turns != 2 {
		t.Fatalf("transcript turns = %d, %v", turns, err)
	}
	if got := b.text("#attempt-1-transcript li:nth-child(2) .text"); !strings.Contains(got, "<script>alert(1)</script>") {
		t.Errorf("second turn reads %q, want the text shown literally", got)
	}
	if vs := b.axeCheck(); len(vs) > 0 {
		t.Errorf("call page with a conversation has accessibility violations: %+v", vs)
	}
}
