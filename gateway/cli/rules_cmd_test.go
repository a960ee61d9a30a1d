package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
)

const rulesTestConfig = `
server {
  default_timezone = "Asia/Kolkata"
}
integration "hubspot" {
  access_token = env("HUBSPOT_ACCESS_TOKEN") # not set in these tests: rules test needs no secrets
}
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  dialer = "log"
  when   = "event.kind == 'created' && contact.hs_lead_status in ['NEW', 'OPEN']"
  variables = {
    firstname = "title(contact.firstname) ?? 'there'"
    company   = "contact.company"
    amount    = "words(round_to(contact.amount, 1000)) + ' rupees'"
    greeting  = "now.Hour() < 12 ? 'Good morning' : 'Good evening'"
  }
  required_variables = ["firstname", "company"]
}
agent "callee-zone" {
  dialer   = "log"
  timezone = "callee"
  when     = "true"
  variables = { local = "format_date(now, '15:04 MST')" }
}
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRulesTestCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"callgate.hcl": rulesTestConfig,
		"lead.json": `{"id":"512","properties":{"firstname":"priya","company":"Sharma Textiles",
			"amount":124990,"hs_lead_status":"NEW","mobilephone":"98765 43210"}}`,
		"unqualified.json": `{"firstname":"ravi","hs_lead_status":"UNQUALIFIED","phone":"+1 415 555 0123"}`,
		"nophone.json":     `{"firstname":"ravi","company":"X","hs_lead_status":"NEW","amount":1}`,
		"change.json":      `{"subscriptionType":"contact.propertyChange","propertyName":"hs_lead_status","propertyValue":"OPEN","objectId":512}`,
		"bad.json":         `{"firstname":`,
		"broken.hcl":       `agent "a" { when = "event.kind ==" }`,
	})
	cfg := filepath.Join(dir, "callgate.hcl")
	file := func(n string) string { return filepath.Join(dir, n) }
	now := "--now=2026-11-27T04:00:00Z"
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantStderr string
	}{
		{"call", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--record", file("lead.json"), now}, 0, []string{
			"decision call when",
			"when              event.kind == 'created' && contact.hs_lead_status in ['NEW', 'OPEN']  →  true",
			"to_number         +919876543210 (from mobilephone)",
			`amount     "one lakh twenty-five thousand rupees"`,
			`firstname  "Priya"`,
			`greeting   "Good morning"`,
			"missing fields    (none)",
		}, ""},
		{"lead status rules it out", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--record", file("unqualified.json"), now}, 0, []string{
			`decision          skip: when rule "event.kind == 'created' && contact.hs_lead_status in ['NEW', 'OPEN']" was false`,
			"amount error: invalid operation: <nil> + string",
			"missing fields    amount, company",
			"missing required  company",
		}, ""},
		{"property change", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--record", file("lead.json"), "--event", file("change.json"), now}, 0, []string{
			"skip: when rule",
			`event             updated (contact.propertyChange) hs_lead_status="OPEN"`,
		}, ""},
		{"no phone", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--record", file("nophone.json"), now}, 0, []string{
			"decision          skip: no valid phone number in mobilephone, phone (region IN)",
			"to_number         (none)",
		}, ""},
		{"callee timezone", []string{"rules", "test", "-c", cfg, "--agent", "callee-zone", "--record", file("unqualified.json"), now}, 0, []string{
			"timezone   America/Los_Angeles",
			`local     "20:00 PST"`,
		}, ""},
		{"unknown agent", []string{"rules", "test", "-c", cfg, "--agent", "nope", "--record", file("lead.json")}, 1, nil,
			`no agent "nope"`},
		{"bad record", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--record", file("bad.json")}, 1, nil,
			"record: want a JSON object"},
		{"missing record", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--record", file("none.json")}, 1, nil,
			"read the record"},
		{"bad now", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--record", file("lead.json"), "--now", "9am"}, 1, nil,
			"--now: want an RFC 3339 time"},
		{"broken config", []string{"rules", "test", "-c", file("broken.hcl"), "--agent", "a", "--record", file("lead.json")}, 1, nil,
			"has problems"},
		{"flags required", []string{"rules", "test", "-c", cfg}, 1, nil, `required flag(s) "agent" not set`},
		{"record required", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro"}, 1, nil, `--record FILE.json (or --record-id ID`},
		{"record and record id", []string{"rules", "test", "-c", cfg, "--agent", "sales-intro", "--record", file("lead.json"), "--record-id", "1"}, 1, nil, `not both`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, func(string) string { return "" })
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &stdout, &stderr)
			}
			squeeze := func(s string) string { return strings.Join(strings.Fields(s), " ") }
			for _, w := range tt.wantOut {
				if !strings.Contains(squeeze(stdout.String()), squeeze(w)) {
					t.Errorf("stdout lacks %q:\n%s", w, &stdout)
				}
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, &stderr)
			}
		})
	}
}

func TestRulesTestJSON(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"callgate.hcl": rulesTestConfig,
		"lead.json":    `{"firstname":"priya","company":"Sharma Textiles","amount":2459,"hs_lead_status":"OPEN","mobilephone":"9876543210"}`,
	})
	var stdout, stderr bytes.Buffer
	code := run([]string{"rules", "test", "-o", "json", "-c", filepath.Join(dir, "callgate.hcl"),
		"--agent", "sales-intro", "--record", filepath.Join(dir, "lead.json"), "--now", "2026-11-27T14:00:00Z"},
		&stdout, &stderr, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
	var got struct {
		Agent         string            `json:"agent"`
		Call          bool              `json:"call"`
		Variables     map[string]string `json:"variables"`
		MissingFields []string          `json:"missing_fields"`
		Fields        []string          `json:"fields"`
		ToNumber      string            `json:"to_number"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("%v in %s", err, &stdout)
	}
	if got.Agent != "sales-intro" || !got.Call || got.ToNumber != "+919876543210" ||
		got.Variables["amount"] != "two thousand rupees" || got.Variables["greeting"] != "Good evening" ||
		len(got.MissingFields) != 0 || strings.Join(got.Fields, ",") != "amount,company,firstname,hs_lead_status" {
		t.Errorf("report %+v", got)
	}
}

func TestRulesTesterForTheAPI(t *testing.T) {
	cfg, err := config.LoadWithEnv("callgate.hcl", []byte(rulesTestConfig), func(string) (string, bool) { return "token", true })
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	rt := newRulesTester(func() *config.Config { return cfg }, builtinManifest, func() time.Time { return now }, nil)
	tests := []struct {
		name    string
		req     api.RulesTest
		check   func(api.RulesReport) bool
		wantErr string
	}{
		{"callgate record shape", api.RulesTest{AgentID: "sales-intro",
			Record: json.RawMessage(`{"object_id":"7","fields":{"firstname":"ada","company":"AE","amount":1500,"hs_lead_status":"NEW","phone":"+14155550123"}}`),
			Event:  json.RawMessage(`null`)},
			func(o api.RulesReport) bool {
				return o.Call && o.ObjectID == "7" && o.Variables["amount"] == "two thousand rupees" &&
					o.Variables["greeting"] == "Good evening" && o.ToNumber == "+14155550123"
			}, ""},
		{"update event", api.RulesTest{AgentID: "sales-intro",
			Record: json.RawMessage(`{"firstname":"ada","hs_lead_status":"NEW","mobilephone":"9876543210"}`),
			Event:  json.RawMessage(`{"kind":"updated"}`)},
			func(o api.RulesReport) bool { return !o.Call && strings.Contains(o.Reason, "was false") }, ""},
		{"unknown agent", api.RulesTest{AgentID: "x", Record: json.RawMessage(`{}`)}, nil, `no agent "x"`},
		{"bad record", api.RulesTest{AgentID: "sales-intro", Record: json.RawMessage(`[]`)}, nil, "record: want a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := rt.TestRules(context.Background(), tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o := out; !tt.check(o) {
				t.Errorf("output %+v", o)
			}
		})
	}
}

func TestRulesTestReadsStdin(t *testing.T) {
	dir := writeFiles(t, map[string]string{"callgate.hcl": rulesTestConfig})
	var stdout, stderr bytes.Buffer
	o := &rootOptions{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	root := newRootCmd(o)
	root.SetIn(strings.NewReader(`{"firstname":"ravi","company":"X","amount":1,"hs_lead_status":"OPEN","phone":"9876543210"}`))
	root.SetArgs([]string{"rules", "test", "-c", filepath.Join(dir, "callgate.hcl"), "--agent", "sales-intro", "--record", "-"})
	if err := root.Execute(); err != nil {
		t.Fatalf("%v: %s", err, &stderr)
	}
	if out := stdout.String(); !strings.Contains(out, `firstname  "Ravi"`) || !strings.Contains(strings.Join(strings.Fields(out), " "), "decision call") {
		t.Errorf("stdout:\n%s", out)
	}
}

const phoneFieldsConfig = `
integration "lsq" {
  type       = "leadsquared"
  access_key = "k"
  secret_key = "s"
}
integration "hubspot" {
  access_token = "t"
}
integration "forms" {
  type = "leadform"
}
plugin "leadform" {
  path   = "/opt/callgate/leadform"
  sha256 = "ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22"
}
dialer "log" {
  type = "log"
}
agent "lsq-default" {
  integrations = ["lsq"]
  when         = "true"
}
agent "lsq-own" {
  integrations = ["lsq"]
  phone_fields = ["mx_Alt"]
  when         = "true"
}
agent "hubspot-default" {
  integrations = ["hubspot"]
  when         = "true"
}
agent "external" {
  integrations = ["forms"]
  when         = "true"
}
`

// An agent without phone_fields tries its plugin's, from the built-in
// plugin's manifest; an external plugin's are not known without a
// gateway, so HubSpot's default stands in and the output says so.
func TestRulesTestPhoneFields(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"callgate.hcl": phoneFieldsConfig,
		"lead.json":    `{"FirstName":"Priya","Mobile":"98765 43210","mobilephone":"+14155550123","mx_Alt":"+919812345601"}`,
	})
	cfg, err := config.LoadWithEnv("callgate.hcl", []byte(phoneFieldsConfig), func(string) (string, bool) { return "x", true })
	if err != nil {
		t.Fatal(err)
	}
	rt := newRulesTester(func() *config.Config { return cfg }, builtinManifest, time.Now, nil)
	tests := []struct {
		agent      string
		wantFields string
		wantFrom   string
		wantNumber string
		wantLine   string
	}{
		{"lsq-default", "Mobile,Phone", "plugin leadsquared", "+919876543210",
			"phone fields Mobile, Phone (from plugin leadsquared)"},
		{"lsq-own", "mx_Alt", "agent", "+919812345601", "phone fields mx_Alt (from agent)"},
		{"hubspot-default", "mobilephone,phone", "plugin hubspot", "+14155550123",
			"phone fields mobilephone, phone (from plugin hubspot)"},
		{"external", "mobilephone,phone", "the default, HubSpot's: no manifest for plugin leadform", "+14155550123",
			"phone fields mobilephone, phone (from the default, HubSpot's: no manifest for plugin leadform)"},
	}
	for _, tt := range tests {
		t.Run(tt.agent, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"rules", "test", "-c", filepath.Join(dir, "callgate.hcl"), "--agent", tt.agent, "--record", filepath.Join(dir, "lead.json")}
			if code := run(args, &stdout, &stderr, func(string) string { return "" }); code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
			}
			if got := strings.Join(strings.Fields(stdout.String()), " "); !strings.Contains(got, tt.wantLine) {
				t.Errorf("stdout lacks %q:\n%s", tt.wantLine, &stdout)
			}
			res, err := rt.TestRules(context.Background(), api.RulesTest{AgentID: tt.agent, Record: json.RawMessage(`{"Mobile":"98765 43210","mobilephone":"+14155550123","mx_Alt":"+919812345601"}`)})
			if err != nil {
				t.Fatal(err)
			}
			o := res
			if strings.Join(o.PhoneFields, ",") != tt.wantFields || o.PhoneFieldsFrom != tt.wantFrom || o.ToNumber != tt.wantNumber {
				t.Errorf("API: phone fields %v from %q, to %q; want %s from %q, to %s",
					o.PhoneFields, o.PhoneFieldsFrom, o.ToNumber, tt.wantFields, tt.wantFrom, tt.wantNumber)
			}
		})
	}
}
