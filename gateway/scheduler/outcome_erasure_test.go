package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

// TestErasureCoversOutcomeFields states what personal-data erasure does
// to the outcome fields (issue 16 §1): the conversation goes, the audit
// facts stay.
func TestErasureCoversOutcomeFields(t *testing.T) {
	e := newEnv(t, monday8.Add(2*time.Hour), withLimits(schedLimits(1)))
	e.run()
	c := e.submit("+919876543210", policy(nil, 0))
	e.dialed()
	e.eventually("attempt placed", func() bool { c := e.call(c.ID); return len(c.Attempts) == 1 && c.Attempts[0].PlacedAt != nil })
	if err := e.s.HandleOutcome(context.Background(), "voice", scheduler.Outcome{CallID: c.ID, Attempt: 1,
		Status: store.OutcomeCompleted, DurationS: 94, Report: report()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Erase(context.Background(), scheduler.Erasure{Number: "+919876543210"}); err != nil {
		t.Fatal(err)
	}
	a := e.call(c.ID).Attempts[0]
	for name, v := range map[string]string{"recording_url": a.RecordingURL, "summary": a.Summary,
		"disposition": a.Disposition, "from_number": a.FromNumber} {
		if v != store.Erased {
			t.Errorf("%s = %q after erasure, want %q", name, v, store.Erased)
		}
	}
	for i, turn := range a.Transcript {
		if turn.Text != store.Erased {
			t.Errorf("transcript[%d].text = %q after erasure", i, turn.Text)
		}
	}
	for k, v := range a.Data {
		if v != store.Erased {
			t.Errorf("data.%s = %v after erasure", k, v)
		}
	}
	if a.DurationS != 94 || a.Outcome != store.OutcomeCompleted {
		t.Errorf("erasure must keep the audit facts: %+v", a)
	}
}
