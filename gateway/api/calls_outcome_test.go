package api_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// TestShowCallOutcomeFields: the API shows what the platform reported on
// each attempt, and the /call/outbound fields on the call.
func TestShowCallOutcomeFields(t *testing.T) {
	e := newEnv(t)
	c := e.addCall(t, "sales-intro", "+14155550123", store.CallCompleted, 0)
	at := time.Date(2026, 11, 27, 10, 1, 2, 0, time.UTC)
	if _, err := e.db.MutateCall(t.Context(), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.BatchID, c.Priority, c.Language = "b-7", -5, "hi"
		c.Attempts = []store.Attempt{{N: 1, StartedAt: at, EndedAt: &at, Outcome: store.OutcomeCompleted, DurationS: 94,
			RecordingURL: "https://rec.example.com/1.mp3",
			Transcript:   []store.Turn{{Speaker: "agent", Text: "Namaste", At: &at}, {Text: "(hangs up)"}},
			Summary:      "Interested", Disposition: "interested", FromNumber: "+918035551234",
			Data: map[string]any{"lead_status": "hot", "budget": 250000}}}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if code := e.do(t, "GET", "/api/v1/calls/"+c.ID, "", &got); code != 200 {
		t.Fatalf("status %d", code)
	}
	if got["batch_id"] != "b-7" || got["priority"] != -5.0 || got["language"] != "hi" {
		t.Errorf("call = %v, want batch_id, priority and language", got)
	}
	a := got["attempts"].([]any)[0].(map[string]any)
	want := map[string]any{
		"recording_url": "https://rec.example.com/1.mp3",
		"transcript": []any{map[string]any{"speaker": "agent", "text": "Namaste", "at": "2026-11-27T10:01:02Z"},
			map[string]any{"text": "(hangs up)"}},
		"summary": "Interested", "disposition": "interested", "from_number": "+918035551234",
		"data": map[string]any{"lead_status": "hot", "budget": 250000.0}, "duration_s": 94.0,
	}
	for k, v := range want {
		if g, w := mustJSON(t, a[k]), mustJSON(t, v); g != w {
			t.Errorf("attempt.%s = %s, want %s", k, g, w)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
