package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/notify"
)

const outcomeConfig = `
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  dialer = "log"
  writeback {
    title        = "'AI call with ' + (variables.firstname ?? 'a lead') + ': ' + outcome.status"
    dispositions = { interested = "b668f5fe-107f-48cc-890c-cb44eef9056e" }
    follow_up "qualified" {
      when = "outcome.status == 'completed' && outcome.data.qualified == true"
      set  = { lifecyclestage = "'salesqualifiedlead'" }
      task {
        title = "'Book the demo for ' + variables.firstname"
        due   = "24h"
        owner = "41629779"
      }
    }
    follow_up "retry_later" {
      when = "outcome.status in ['no_answer', 'busy']"
      task { title = "'Call ' + call.to_number + ' yourself'" }
    }
  }
}
`

func TestRulesTestOutcome(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"callgate.hcl": outcomeConfig,
		"qualified.json": `{"status":"completed","duration_s":95,"recording_url":"https://rec.example.com/a.mp3",
			"transcript":[{"speaker":"agent","text":"Hello Ada"},{"speaker":"user","text":"Book me a demo"}],
			"summary":"Wants a demo on Tuesday.","disposition":"interested","data":{"qualified":true},
			"variables":{"firstname":"Ada"},"to_number":"+14155550123"}`,
		"busy.json":    `{"status":"busy","to_number":"+14155550123"}`,
		"bad.json":     `{"status":"hung_up"}`,
		"notjson.json": `{"status":`,
	})
	cfg := filepath.Join(dir, "callgate.hcl")
	file := func(n string) string { return filepath.Join(dir, n) }
	now := "--now=2026-11-27T10:00:00Z"
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
		stderr   string
	}{
		{"qualified", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--outcome", file("qualified.json"), now}, 0, []string{
			"title: AI call with Ada: completed",
			"disposition: b668f5fe-107f-48cc-890c-cb44eef9056e",
			"Wants a demo on Tuesday.", "agent: Hello Ada",
			`follow_up "qualified": yes`, `set lifecyclestage = "salesqualifiedlead"`,
			`task "Book the demo for Ada" due 2026-11-28T10:00:00Z owner 41629779`,
			`follow_up "retry_later": no`,
		}, ""},
		{"busy", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--outcome", file("busy.json"), now}, 0, []string{
			"title: AI call with a lead: busy", "disposition: (the plugin's default for the outcome)",
			`follow_up "qualified": no`, `follow_up "retry_later": yes`, `task "Call +14155550123 yourself" due 2026-11-28T10:00:00Z`,
		}, ""},
		{"unknown status", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--outcome", file("bad.json")}, 1, nil, `unknown status "hung_up"`},
		{"not json", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--outcome", file("notjson.json")}, 1, nil, "not an outcome JSON object"},
		{"with a record", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--outcome", file("busy.json"), "--record", file("busy.json")}, 1, nil, "on its own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, func(string) string { return "" })
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
			}
			squeeze := func(s string) string { return strings.Join(strings.Fields(s), " ") }
			for _, w := range tt.want {
				if !strings.Contains(squeeze(stdout.String()), squeeze(w)) {
					t.Errorf("stdout lacks %q:\n%s", w, &stdout)
				}
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, &stderr)
			}
		})
	}

	var stdout, stderr bytes.Buffer
	if code := run([]string{"rules", "test", "-o", "json", "-c", cfg, "--agent", "sales-intro", "--outcome", file("qualified.json"), now},
		&stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("json: exit %d: %s", code, &stderr)
	}
	var p notify.WritebackPreview
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if !p.Logged || len(p.Tasks) != 1 || !p.Tasks[0].Due.Equal(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)) || p.Properties["lifecyclestage"] != "salesqualifiedlead" {
		t.Errorf("preview %+v", p)
	}
}
