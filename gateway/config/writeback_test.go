package config

import (
	"strings"
	"testing"
	"time"
)

const wbDialer = "dialer \"log\" {\n  type = \"log\"\n}\n" // lines 1-3

func TestWritebackBlockLoads(t *testing.T) {
	src := wbDialer + `agent "a" {
  writeback {
    attempts     = "final"
    title        = "'AI call: ' + call.agent_id"
    body         = "outcome.summary + ' (' + outcome.status + ')'"
    dispositions = { completed = "guid-connected", interested = "guid-qualified" }
    follow_up "qualified" {
      when = "outcome.status == 'completed' && outcome.data.qualified == true"
      set  = { lifecyclestage = "'salesqualifiedlead'" }
      task {
        title = "'Book the demo for ' + call.to_number"
        due   = "2h"
        owner = "41629779"
      }
    }
  }
}
agent "b" {
  writeback = false
  writeback {
    attempts = "every"
  }
}
`
	cfg, err := LoadBytes("t.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Agents["a"]
	w := a.WritebackRules
	if !a.Writeback || w == nil || w.Attempts != WritebackFinal || len(w.FollowUps) != 1 {
		t.Fatalf("agent a: writeback %v, rules %+v", a.Writeback, w)
	}
	if b := cfg.Agents["b"]; b.Writeback || b.WritebackRules == nil {
		t.Errorf("writeback = false with a block: %v %+v", b.Writeback, b.WritebackRules)
	}
	env := WritebackEnv{
		Call:    WritebackCall{ID: "c1", AgentID: "a", ToNumber: "+14155550123", Final: true},
		Outcome: map[string]any{"status": "completed", "summary": "wants a demo", "data": map[string]any{"qualified": true}},
	}
	if got, err := w.Title.Render(env); err != nil || got != "AI call: a" {
		t.Errorf("title = %q, %v", got, err)
	}
	if got, _ := w.Body.Render(env); got != "wants a demo (completed)" {
		t.Errorf("body = %q", got)
	}
	f := w.FollowUps[0]
	if ok, err := f.When.Holds(env); !ok || err != nil {
		t.Errorf("when = %v, %v", ok, err)
	}
	env.Outcome["data"].(map[string]any)["qualified"] = false
	if ok, _ := f.When.Holds(env); ok {
		t.Error("when held for an unqualified lead")
	}
	if v, _ := f.Set["lifecyclestage"].Render(env); v != "salesqualifiedlead" {
		t.Errorf("set = %q", v)
	}
	if f.Task == nil || f.Task.Due != 2*time.Hour || f.Task.Owner != "41629779" {
		t.Errorf("task %+v", f.Task)
	}
	if got, _ := f.Task.Title.Render(env); got != "Book the demo for +14155550123" {
		t.Errorf("task title %q", got)
	}
	for _, tt := range []struct{ outcome, platform, want string }{
		{"completed", "", "guid-connected"},
		{"completed", "interested", "guid-qualified"},
		{"completed", "maybe", "guid-connected"},
		{"busy", "", ""},
	} {
		if got := w.Disposition(tt.outcome, tt.platform); got != tt.want {
			t.Errorf("Disposition(%q, %q) = %q, want %q", tt.outcome, tt.platform, got, tt.want)
		}
	}
	if w.Logs(false) || !w.Logs(true) || !(*Writeback)(nil).Logs(false) {
		t.Error("Logs: final-only logs only the final attempt; no block logs every one")
	}
}

func TestWritebackProblems(t *testing.T) {
	tests := []struct {
		name string
		body string // inside agent "a" { writeback { … } }, starting at line 6
		want []string
	}{
		{"bad attempts", `attempts = "last"`, []string{`6:16: writeback attempts: "last" is not one of every, final`}},
		{"unknown key", `titel = "'x'"`, []string{`6:5: Unsupported argument`}},
		{"unknown field", `title = "call.nosuch"`, []string{`6:19: agent "a": writeback title: type config.WritebackCall has no field nosuch`}},
		{"syntax", `body = "outcome.summary +"`, []string{`6:29: agent "a": writeback body: unexpected token EOF`}},
		{"when not bool", "follow_up \"q\" {\n      when = \"call.status\"\n      set = { x = \"'y'\" }\n    }", []string{`7:14: agent "a": writeback follow_up q when: expected bool`}},
		{"when missing", "follow_up \"q\" {\n      set = { x = \"'y'\" }\n    }", []string{`6:5: agent "a": follow_up "q" needs a when rule`}},
		{"does nothing", "follow_up \"q\" {\n      when = \"true\"\n    }", []string{`6:5: agent "a": follow_up "q" does nothing`}},
		{"set value", "follow_up \"q\" {\n      when = \"true\"\n      set = { x = \"call.nope\" }\n    }", []string{`8:25: agent "a": writeback follow_up q set.x: type config.WritebackCall has no field nope`}},
		{"task title missing", "follow_up \"q\" {\n      when = \"true\"\n      task {\n        due = \"1h\"\n      }\n    }", []string{`8:7: agent "a": a task needs a title`}},
		{"task due", "follow_up \"q\" {\n      when = \"true\"\n      task {\n        title = \"'t'\"\n        due = \"tomorrow\"\n      }\n    }", []string{`10:15: due: "tomorrow" is not a duration`}},
		{"two follow-ups one name", "follow_up \"q\" {\n      when = \"true\"\n      set = { x = \"'y'\" }\n    }\n    follow_up \"q\" {\n      when = \"true\"\n      set = { x = \"'y'\" }\n    }", []string{`10:5: agent "a": a second follow_up "q" (the first is at line 6)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := wbDialer + "agent \"a\" {\n  writeback {\n    " + tt.body + "\n  }\n}\n"
			_, err := LoadBytes("t.hcl", []byte(src))
			if err == nil {
				t.Fatalf("loaded:\n%s", src)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), "t.hcl:"+w) {
					t.Errorf("error lacks %q:\n%v\nsource:\n%s", w, err, src)
				}
			}
		})
	}
}
