package notify_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/expr-lang/expr"

	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
)

func reportedCall() (store.Call, *store.Attempt) {
	c, a := ended(store.CallCompleted)
	at := t0.Add(-2 * time.Minute)
	a.Outcome, a.DurationS = store.OutcomeCompleted, 94
	a.RecordingURL = "https://rec.example.com/01JDCALL-2.mp3"
	a.Transcript = []store.Turn{{Speaker: "agent", Text: "Namaste Ada", At: &at}, {Speaker: "user", Text: "Call me Monday"}}
	a.Summary, a.Disposition, a.FromNumber = "Wants a callback on Monday", "callback", "+918035551234"
	a.Data = map[string]any{"lead_status": "interested", "budget": 250000.0}
	c.BatchID, c.Priority, c.Language = "b-7", 40, "hi"
	return c, a
}

// TestItemsPayloadOutcomeFields: the conversation reaches receivers under
// the hosted call_ended names and under callgate's own.
func TestItemsPayloadOutcomeFields(t *testing.T) {
	e := setup(t, func(c *notify.Config) { c.ServerURLs = []string{"http://127.0.0.1:1/server"} })
	c, a := reportedCall()
	items := e.n.Items(c, a, true)
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	var got struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(items[0].Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"recordingUrl":  "https://rec.example.com/01JDCALL-2.mp3",
		"transcription": "agent: Namaste Ada\nuser: Call me Monday",
		"from":          "918035551234",
		"post_call":     map[string]any{"lead_status": "interested", "budget": 250000.0},
		"batchId":       "b-7",
		"recording_url": "https://rec.example.com/01JDCALL-2.mp3",
		"transcript": []any{map[string]any{"speaker": "agent", "text": "Namaste Ada", "at": "2026-11-27T08:58:00Z"},
			map[string]any{"speaker": "user", "text": "Call me Monday"}},
		"summary": "Wants a callback on Monday", "disposition": "callback", "from_number": "+918035551234",
		"priority": 40.0, "language": "hi", "call_duration": 94.0,
	}
	for k, v := range want {
		if g, _ := json.Marshal(got.Data[k]); string(g) != mustJSON(v) {
			t.Errorf("data.%s = %s, want %s", k, g, mustJSON(v))
		}
	}
	if _, ok := got.Data["data"]; ok {
		t.Error(`a "data" key inside data: post-call data goes in post_call only`)
	}
	// A call that never spoke sends none of them.
	c2, a2 := ended(store.CallRetryScheduled)
	var bare struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(e.n.Items(c2, a2, false)[0].Body, &bare); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"recordingUrl", "transcription", "from", "post_call", "batchId", "recording_url", "transcript", "summary", "disposition", "from_number", "priority", "language"} {
		if v, ok := bare.Data[k]; ok {
			t.Errorf("data.%s = %v on an attempt without a report", k, v)
		}
	}
}

func TestOutcomeVars(t *testing.T) {
	_, a := reportedCall()
	got := notify.OutcomeVars(*a)
	at := t0.Add(-2 * time.Minute)
	want := map[string]any{
		"status": "completed", "attempt": 2, "reason": "rang out", "duration_s": 94.0, "provider_call_id": "pc-7",
		"started_at": t0.Add(-3 * time.Minute), "ended_at": t0.Add(-time.Minute),
		"recording_url": "https://rec.example.com/01JDCALL-2.mp3",
		"transcript":    "agent: Namaste Ada\nuser: Call me Monday",
		"turns": []any{map[string]any{"speaker": "agent", "text": "Namaste Ada", "at": at},
			map[string]any{"speaker": "user", "text": "Call me Monday", "at": nil}},
		"summary": "Wants a callback on Monday", "disposition": "callback", "from_number": "+918035551234",
		"data": map[string]any{"lead_status": "interested", "budget": 250000.0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OutcomeVars =\n%#v\nwant\n%#v", got, want)
	}
	// The map is a copy: a rule cannot change the stored attempt.
	got["data"].(map[string]any)["lead_status"] = "changed"
	if a.Data["lead_status"] != "interested" {
		t.Error("OutcomeVars shares data with the attempt")
	}
	// An attempt without a report still has every key, empty.
	empty := notify.OutcomeVars(store.Attempt{N: 1})
	for k := range want {
		if _, ok := empty[k]; !ok {
			t.Errorf("key %s missing for an empty attempt", k)
		}
	}
	if d, ok := empty["data"].(map[string]any); !ok || len(d) != 0 || empty["transcript"] != "" || empty["ended_at"] != nil {
		t.Errorf("empty attempt vars = %#v", empty)
	}
}

func TestTranscriptText(t *testing.T) {
	tests := []struct {
		turns []store.Turn
		want  string
	}{
		{nil, ""},
		{[]store.Turn{{Text: "Agent: Hello\nUser: Hi"}}, "Agent: Hello\nUser: Hi"},
		{[]store.Turn{{Speaker: "agent", Text: "Hello"}, {Text: "(silence)"}, {Speaker: "user", Text: "Hi"}}, "agent: Hello\n(silence)\nuser: Hi"},
	}
	for _, tt := range tests {
		if got := notify.TranscriptText(tt.turns); got != tt.want {
			t.Errorf("TranscriptText(%v) = %q, want %q", tt.turns, got, tt.want)
		}
	}
}

// TestOutcomeVarsInExpr: the rules of docs/rules.md ("After the call")
// read the map as documented, without guards.
func TestOutcomeVarsInExpr(t *testing.T) {
	_, a := reportedCall()
	full := map[string]any{"outcome": notify.OutcomeVars(*a)}
	empty := map[string]any{"outcome": notify.OutcomeVars(store.Attempt{N: 1, Outcome: store.OutcomeNoAnswer})}
	tests := []struct {
		src         string
		full, empty any
	}{
		{"outcome.data.lead_status == 'interested'", true, false},
		{"outcome.summary != ''", true, false},
		{"outcome.status == 'completed' && outcome.duration_s > 60", true, false},
		{"len(outcome.turns)", 2, 0},
		{"outcome.turns[0].speaker", "agent", nil},
		{"outcome.transcript contains 'Monday'", true, false},
		{"outcome.ended_at != nil", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			for _, c := range []struct {
				env  map[string]any
				want any
			}{{full, tt.full}, {empty, tt.empty}} {
				if c.want == nil {
					continue // indexing an empty list is an error, as in any rule
				}
				got, err := expr.Eval(tt.src, c.env)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("= %v, want %v", got, c.want)
				}
			}
		})
	}
}
