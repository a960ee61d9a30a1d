package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// TestCallsShowReport: calls show prints what each attempt's conversation
// produced, with a transcript excerpt that no escape sequence survives.
func TestCallsShowReport(t *testing.T) {
	s := newAdminServer(t)
	now := time.Now().UTC().Truncate(time.Second)
	c := s.addCall(t, "+919812345601", store.CallScheduled, now.Add(-time.Minute))
	var turns []store.Turn
	for i := range 9 {
		turns = append(turns, store.Turn{Speaker: []string{"agent", "user"}[i%2], Text: "line " + string(rune('1'+i))})
	}
	turns[1].Text = "Call me \x1b[31mMonday\x1b[0m " + strings.Repeat("please ", 30)
	if _, err := s.db.MutateCall(t.Context(), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Status, c.NextAttemptAt = store.CallCompleted, nil
		c.BatchID, c.Priority, c.Language = "b-7", 40, "hi"
		c.Attempts = []store.Attempt{
			{N: 1, StartedAt: now, EndedAt: &now, Outcome: store.OutcomeNoAnswer},
			{N: 2, StartedAt: now, EndedAt: &now, Outcome: store.OutcomeCompleted, DurationS: 94,
				RecordingURL: "https://rec.example.com/2.mp3", Transcript: turns,
				Summary: "Wants a demo on Monday", Disposition: "interested", FromNumber: "+918035551234",
				Data:     map[string]any{"lead_status": "hot", "budget": 250000.0},
				Activity: &store.Activity{ID: "51234", TaskIDs: []string{"t-9"}, Updated: []string{"lifecyclestage"}, LoggedAt: now}}}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := s.callgate(t, "calls", "show", c.ID)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"batch", "b-7", "priority", "40", "language", "hi",
		"DURATION", "1m34s",
		"attempt 2", "disposition", "interested", "summary", "Wants a demo on Monday",
		"recording", "https://rec.example.com/2.mp3", "from", "+918035551234",
		"data", "budget=250000 lead_status=hot", "9 turns",
		"in the CRM", "call 51234, tasks t-9, set lifecyclestage",
		"    agent: line 1\n", "    user: Call me [31mMonday[0m please", "…\n",
		"    … 3 more lines (calls show -o json has the whole transcript)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("calls show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("an escape sequence from the transcript reached the terminal")
	}
	if strings.Contains(out, "attempt 1\n") {
		t.Error("an attempt without a report got a report block")
	}
	if strings.Contains(out, "line 7") {
		t.Error("the excerpt printed more than its lines")
	}
}
