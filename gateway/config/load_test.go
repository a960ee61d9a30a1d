package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// noEnv is an environment where only the given variables are set.
func noEnv(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestExampleConfigsLoad(t *testing.T) {
	for _, name := range []string{"quickstart.hcl", "production.hcl"} {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("..", "..", "configs", name))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := LoadWithEnv(name, src, noEnv(nil)); err != nil {
				t.Fatalf("%s needs no environment but failed:\n%v", name, err)
			}
		})
	}
}

func TestLoadFillsDefaults(t *testing.T) {
	cfg, err := LoadWithEnv("min.hcl", []byte(`
integration "hubspot" {
  access_token = env("HS_TOKEN")
}
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  variables = {
    firstname = "contact.firstname ?? 'there'"
  }
}
`), noEnv(map[string]string{"HS_TOKEN": "pat-123"}))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Server
	if s.Listen != DefaultListen || s.DataDir != "./data" || s.DefaultTimezone != "Asia/Kolkata" ||
		s.DefaultRegion != "IN" || s.MaxBodyBytes != 1048576 || s.LogFormat != "text" || s.LogLevel != "info" {
		t.Errorf("server defaults = %+v", s)
	}
	in := cfg.Integrations["hubspot"]
	if in.Type != "hubspot" || in.Credentials["access_token"] != "pat-123" {
		t.Errorf("integration = %+v", in)
	}
	d := cfg.Dialers["log"]
	if d.Timeout != 10*time.Second || d.OutcomeTimeout != 30*time.Minute || d.Concurrency != 20 {
		t.Errorf("dialer defaults = %+v", d)
	}
	a := cfg.Agents["sales-intro"]
	want := &Agent{
		Name:         "sales-intro",
		Dialer:       "log", // the only dialer
		Timezone:     "Asia/Kolkata",
		Region:       "IN",
		When:         Expr{Source: "event.kind == 'created'"},
		Retry:        Retry{Max: 0, Gaps: []time.Duration{time.Hour}, On: []string{"no_answer", "busy", "failed", "voicemail"}},
		DedupeWindow: 24 * time.Hour,
	}
	got := *a
	got.Variables = nil
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("agent defaults:\n got %+v\nwant %+v", got, *want)
	}
	if v := a.Variables["firstname"]; v.Source != "contact.firstname ?? 'there'" || v.Range.Start.Line != 10 {
		t.Errorf("variable = %+v", v)
	}
}

func TestLoadReadsEveryKey(t *testing.T) {
	cfg, err := LoadWithEnv("full.hcl", []byte(`
server {
  listen = "0.0.0.0:9090"
  public_url = "https://calls.example.com/"
  data_dir = "/var/lib/callgate"
  default_timezone = "America/New_York"
  default_region = "us"
  max_body_bytes = 2048
  admin_token_sha256 = ["AB8A0E5C6E73F6CE0A1E5EB0E4E2C4A3D64E4F0E2F1A1B0C9D8E7F6A5B4C3D2E"]
  log_format = "json"
  log_level = "DEBUG"
  notify = ["https://n.example.com/hook"]
  notify_secret = env("NS", "fallback")
  dedupe_ttl = "48h"
  inbox_high_water = 500
}
api_key "k" {
  sha256 = "ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22"
  agents = ["a"]
}
dialer "v" {
  type = "http"
  url = "http://127.0.0.1:9000/calls"
  headers = {
    Authorization = "Bearer x"
  }
  secret = "s"
  timeout = "3s"
  outcome_timeout = "5m"
  concurrency = 4
  rate = "300/m"
}
dialer "ck" {
  type = "callkaro"
  api_key = "ck-key"
}
integration "crm" {
  type = "hubspot"
  base_url = "http://127.0.0.1:1234/"
}
agent "a" {
  dialer = "v"
  integrations = ["crm"]
  timezone = "callee"
  region = "gb"
  phone_fields = ["phone"]
  when = "event.kind in ['created', 'updated']"
  variables = {
    name = "contact.firstname ?? 'there'"
  }
  required_variables = ["name"]
  window {
    start = "22:00"
    end = "6:30"
    carry_over = true
    days = ["MON", "sat"]
  }
  retry {
    max = 10
    gaps = ["30m", "1h"]
    on = ["busy"]
  }
  dedupe_window = "1h"
  writeback = true
  notify = ["http://127.0.0.1:7000/n"]
}
plugin "pd" {
  path = "./plugins.d/callgate-pipedrive"
  sha256 = "ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22"
}
`), noEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Server
	if s.Listen != "0.0.0.0:9090" || s.PublicURL != "https://calls.example.com" || s.DefaultRegion != "US" ||
		s.MaxBodyBytes != 2048 || s.AdminTokenSHA256[0] != "ab8a0e5c6e73f6ce0a1e5eb0e4e2c4a3d64e4f0e2f1a1b0c9d8e7f6a5b4c3d2e" ||
		s.LogFormat != "json" || s.LogLevel != "debug" || s.NotifySecret != "fallback" || s.DedupeTTL != 48*time.Hour ||
		s.InboxHighWater != 500 || s.Notify[0] != "https://n.example.com/hook" {
		t.Errorf("server = %+v", s)
	}
	v := cfg.Dialers["v"]
	if v.Rate != 5 || v.RateBurst != 5 || v.Concurrency != 4 || v.Timeout != 3*time.Second || v.Headers["Authorization"] != "Bearer x" {
		t.Errorf("dialer = %+v", v)
	}
	if ck := cfg.Dialers["ck"]; ck.URL != DefaultCallkaroURL || ck.APIKey != "ck-key" {
		t.Errorf("callkaro dialer = %+v", ck)
	}
	if in := cfg.Integrations["crm"]; in.Type != "hubspot" || in.Credentials["base_url"] != "http://127.0.0.1:1234" {
		t.Errorf("integration = %+v", in)
	}
	a := cfg.Agents["a"]
	if a.Timezone != "callee" || a.Region != "GB" || a.Window.End != "6:30" || !a.Window.CarryOver ||
		!reflect.DeepEqual(a.Window.Days, []string{"mon", "sat"}) || a.Retry.Max != 10 ||
		!reflect.DeepEqual(a.Retry.Gaps, []time.Duration{30 * time.Minute, time.Hour}) || !a.Writeback {
		t.Errorf("agent = %+v window %+v", a, a.Window)
	}
	if p := cfg.Plugins["pd"]; p.Path != "./plugins.d/callgate-pipedrive" {
		t.Errorf("plugin = %+v", p)
	}
}

// TestLoadProblems checks the message and position of each problem.
func TestLoadProblems(t *testing.T) {
	const dialer = "dialer \"log\" {\n  type = \"log\"\n}\n" // lines 1-3
	tests := []struct {
		name string
		src  string
		want []string // "line:col: message fragment", in order
	}{
		{"syntax error", "server {\n  listen = \n}\n", []string{"2:12: Invalid expression"}},
		{"unknown block", "servr {\n}\n", []string{`1:1: Unsupported block type: Blocks of type "servr" are not expected here.`}},
		{"unknown key", "server {\n  lisen = \"x\"\n}\n", []string{`2:3: Unsupported argument: An argument named "lisen" is not expected here.`}},
		{"wrong type", "server {\n  max_body_bytes = \"big\"\n}\n", []string{"2:20: max_body_bytes must be a whole number"}},
		{"bad listen", "server {\n  listen = \"8080\"\n}\n", []string{`2:12: listen: "8080" is not host:port`}},
		{"bad duration", dialer + "agent \"a\" {\n  dedupe_window = \"1 day\"\n}\n", []string{`5:19: dedupe_window: "1 day" is not a duration`}},
		{"negative duration", "server {\n  dedupe_ttl = \"-1h\"\n}\n", []string{`2:16: dedupe_ttl: "-1h" must not be negative`}},
		{"clock out of range", dialer + "agent \"a\" {\n  window {\n    start = \"24:00\"\n    end = \"9:60\"\n  }\n}\n", []string{
			`6:13: start: "24:00" is not a time of day HH:MM`, `7:11: end: "9:60" is not a time of day HH:MM`}},
		{"window needs both ends", dialer + "agent \"a\" {\n  window {\n    start = \"09:00\"\n  }\n}\n", []string{"5:3: window needs both start and end"}},
		{"bad days", dialer + "agent \"a\" {\n  window {\n    start = \"09:00\"\n    end = \"10:00\"\n    days = [\"monday\", \"mon\", \"mon\"]\n  }\n}\n", []string{
			`8:12: days: "monday" is not a day`, `8:12: days: "mon" is listed twice`}},
		{"unknown timezone", "server {\n  default_timezone = \"India/Delhi\"\n}\n", []string{`2:22: default_timezone: unknown timezone "India/Delhi"`}},
		{"callee only for agents", "server {\n  default_timezone = \"callee\"\n}\n", []string{`2:22: default_timezone: unknown timezone "callee"`}},
		{"agent timezone", dialer + "agent \"a\" {\n  timezone = \"Asia/Bombay2\"\n}\n", []string{`5:14: timezone: unknown timezone "Asia/Bombay2"`, `"callee" (the timezone of the number called) or "contact"`}},
		{"unknown region", "server {\n  default_region = \"XX\"\n}\n", []string{`2:20: default_region: unknown region "XX"`}},
		{"retries over 10", dialer + "agent \"a\" {\n  retry {\n    max = 11\n  }\n}\n", []string{"6:11: retry max must be between 0 and 10, got 11"}},
		{"retries below 0", dialer + "agent \"a\" {\n  retry {\n    max = -1\n  }\n}\n", []string{"6:11: retry max must be between 0 and 10, got -1"}},
		{"bad retry outcome", dialer + "agent \"a\" {\n  retry {\n    on = [\"hangup\"]\n  }\n}\n", []string{`6:10: retry on: "hangup" is not one of no_answer, busy, failed, voicemail`}},
		{"bad sha256", "api_key \"k\" {\n  sha256 = \"abc123\"\n}\n", []string{`2:12: sha256: "abc123" is not a sha256 in hex`}},
		{"sha256 missing", "api_key \"k\" {\n}\n", []string{`1:1: api_key "k" needs sha256`}},
		{"long non-hex sha256 is not echoed", "api_key \"k\" {\n  sha256 = \"my-actual-secret-key-value\"\n}\n", []string{`2:12: sha256: "my-act…" is not a sha256`}},
		{"bad admin token digest", "server {\n  admin_token_sha256 = [\"zz\"]\n}\n", []string{`2:24: admin_token_sha256: "zz" is not a sha256`}},
		{"bad dialer type", "dialer \"d\" {\n  type = \"sip\"\n}\n", []string{`2:10: dialer type: "sip" is not one of http, callkaro, log`}},
		{"dialer type missing", "dialer \"d\" {\n}\n", []string{`1:1: dialer "d" needs type`}},
		{"http dialer needs url", "dialer \"d\" {\n  type = \"http\"\n}\n", []string{`1:1: dialer "d" of type http needs url`}},
		{"callkaro dialer needs api_key", "dialer \"d\" {\n  type = \"callkaro\"\n}\n", []string{`1:1: dialer "d" of type callkaro needs api_key`}},
		{"bad rate", "dialer \"d\" {\n  type = \"log\"\n  rate = \"5 per second\"\n}\n", []string{`3:10: rate: "5 per second" is not a rate`}},
		{"bad rate unit", "dialer \"d\" {\n  type = \"log\"\n  rate = \"5/d\"\n}\n", []string{`3:10: rate: "5/d" is not a rate: the unit must be s, m or h`}},
		{"bad log format", "server {\n  log_format = \"xml\"\n}\n", []string{`2:16: log_format: "xml" is not one of text, json`}},
		{"bad notify url", "server {\n  notify = [\"not a url\"]\n}\n", []string{`2:12: notify: "not a url" is not an http(s) URL`}},
		{"duplicate agent", dialer + "agent \"a\" {\n}\nagent \"a\" {\n}\n", []string{`6:1: duplicate agent "a": it is already defined at line 4`}},
		{"duplicate server", "server {\n}\nserver {\n}\n", []string{"3:1: duplicate server block: it is already defined at line 1"}},
		{"unknown dialer", dialer + "agent \"a\" {\n  dialer = \"voice\"\n}\n", []string{`5:12: agent "a" names dialer "voice", which is not defined (defined: log)`}},
		{"no dialer to default to", "agent \"a\" {\n}\n", []string{`1:1: agent "a" needs dialer = "…" naming one of the dialer blocks (defined: none)`}},
		{"unknown integration", dialer + "agent \"a\" {\n  integrations = [\"hubspot\"]\n}\n", []string{`5:18: agent "a" names integration "hubspot", which is not defined (defined: none)`}},
		{"api key names unknown agent", "api_key \"k\" {\n  sha256 = \"ca6f2e39b2ff141859b18bb5283aadd5093c8ede2869f3656231a054e54bfc22\"\n  agents = [\"nobody\"]\n}\n", []string{`3:12: api_key "k" names agent "nobody", which is not defined`}},
		{"required variable not defined", dialer + "agent \"a\" {\n  required_variables = [\"firstname\"]\n}\n", []string{`4:1: agent "a": required variable "firstname" is not defined in variables`}},
		{"missing env var", "integration \"h\" {\n  access_token = env(\"HS_TOKEN_FOR_TEST\")\n}\n", []string{`2:18: Error in function call: Call to function "env" failed: environment variable HS_TOKEN_FOR_TEST is not set: set it, or give a default`}},
		{"when does not compile", dialer + "agent \"a\" {\n  when = \"event.kind = 'created'\"\n}\n", []string{`5:22: agent "a": when: unexpected token`}},
		{"when is not bool", dialer + "agent \"a\" {\n  when = \"1 + 2\"\n}\n", []string{`agent "a": when: expected bool`}},
		{"variable does not compile, placed inside the string", dialer + "agent \"a\" {\n  variables = {\n    n = \"contact.x + \"\n  }\n}\n", []string{`6:21: agent "a": variables.n:`}},
		{"heredoc rule, placed on its line", dialer + "agent \"a\" {\n  variables = {\n    n = <<EOT\ncontact.x ??\n  nosuch.y\nEOT\n  }\n}\n", []string{`8:3: agent "a": variables.n: unknown name nosuch`}},
		{"escaped line break in a quoted rule, placed on the file's line", dialer + "agent \"a\" {\n  variables = {\n    n = \"1 +\\n 'a' * 2\"\n  }\n}\n", []string{`6:20: agent "a": variables.n:`}},
		{"duplicate variable", dialer + "agent \"a\" {\n  variables = {\n    n = \"'a'\"\n    n = \"'b'\"\n  }\n}\n", []string{`7:5: variables: "n" is given twice`}},
		{"several problems, all reported in file order", "server {\n  listen = \"nope\"\n  default_region = \"QQ\"\n}\ndialer \"d\" {\n  type = \"fax\"\n}\nagent \"a\" {\n  dialer = \"x\"\n  retry {\n    max = 99\n  }\n}\n", []string{
			`2:12: listen`, `3:20: default_region`, `6:10: dialer type`, `9:12: agent "a" names dialer "x"`, `11:11: retry max`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadWithEnv("t.hcl", []byte(tt.src), noEnv(nil))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("err = %v, want *Error", err)
			}
			problems := cerr.Problems()
			lines := strings.Split(err.Error(), "\n")
			if len(problems) != len(lines) {
				t.Fatalf("%d problems but %d lines", len(problems), len(lines))
			}
			// Every wanted fragment is found, in file order.
			i := 0
			for _, want := range tt.want {
				for i < len(lines) && !strings.Contains(lines[i], "t.hcl:"+want) && !strings.Contains(lines[i], want) {
					i++
				}
				if i == len(lines) {
					t.Fatalf("no problem %q (in order) among:\n%s", want, err)
				}
			}
			for _, p := range problems {
				if p.File != "t.hcl" || p.Line == 0 || p.Column == 0 {
					t.Errorf("problem without position: %+v", p)
				}
			}
		})
	}
}

func TestSeveralProblemsAllReported(t *testing.T) {
	_, err := LoadWithEnv("t.hcl", []byte(`server {
  listen = "nope"
  bogus = 1
}
dialer "d" {
  type = "fax"
}
`), noEnv(nil))
	cerr, ok := AsError(err)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	got := cerr.Problems()
	want := []Problem{
		{File: "t.hcl", Line: 2, Column: 12, Message: `listen: "nope" is not host:port (for example "127.0.0.1:8080" or ":8080")`},
		{File: "t.hcl", Line: 3, Column: 3, Message: `Unsupported argument: An argument named "bogus" is not expected here.`},
		{File: "t.hcl", Line: 6, Column: 10, Message: `dialer type: "fax" is not one of http, callkaro, log`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"5/s", 5, true}, {"300/m", 5, true}, {"3600/h", 1, true}, {"0.5/s", 0.5, true},
		{"5", 0, false}, {"0/s", 0, false}, {"-1/s", 0, false}, {"5/d", 0, false}, {"x/s", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseRate(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	cfg := Default()
	if cfg.Server.Listen != DefaultListen || cfg.Dialers["log"] == nil || cfg.Dialers["log"].Type != "log" || len(cfg.Agents) != 0 {
		t.Errorf("Default() = %+v", cfg)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.hcl"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := AsError(err); ok {
		t.Error("a missing file is not a list of config problems")
	}
}

// FuzzLoad feeds arbitrary files to the loader: it must never panic, and
// every failure is a list of positioned problems.
func FuzzLoad(f *testing.F) {
	// Seeds are small on purpose (more in testdata/fuzz/FuzzLoad): the
	// fuzzer minimises every interesting input, which is slow for whole
	// example configs, and those are loaded by TestExampleConfigsLoad.
	f.Add([]byte("agent \"a\" {\n  when = \"event.kind ==\"\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := LoadWithEnv("f.hcl", src, noEnv(nil))
		if err == nil {
			return
		}
		cerr, ok := AsError(err)
		if !ok {
			t.Fatalf("error is not *Error: %v", err)
		}
		if len(cerr.Problems()) == 0 {
			t.Fatalf("error without problems")
		}
	})
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ public, listen, want string }{
		{"https://calls.example.com", "127.0.0.1:8080", "https://calls.example.com"},
		{"", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"", ":9000", "http://127.0.0.1:9000"},
		{"", "0.0.0.0:9000", "http://127.0.0.1:9000"},
		{"", "[::1]:9000", "http://[::1]:9000"},
	}
	for _, tt := range tests {
		t.Run(tt.listen+tt.public, func(t *testing.T) {
			if got := (Server{PublicURL: tt.public, Listen: tt.listen}).BaseURL(); got != tt.want {
				t.Errorf("BaseURL() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoadResolvesDefaults: every default is decided once, by the loader,
// so no other package falls back on its own: integration type, agent
// timezone and region (agent, then server, then built-in), retry gaps and
// outcomes; timezones come out as current IANA names.
func TestLoadResolvesDefaults(t *testing.T) {
	cfg, err := LoadWithEnv("t.hcl", []byte(`
server {
  default_timezone = "Asia/Calcutta"
  default_region   = "us"
}
integration "crm-eu" {
  type = "hubspot"
}
integration "leadsquared" {}
dialer "log" {
  type = "log"
}
agent "plain" {}
agent "own" {
  timezone = "europe/kiev"
  region   = "GB"
  retry {
    max = 2
    on  = []
  }
}
agent "by-number" {
  timezone = "callee"
}
agent "by-record" {
  timezone = "contact"
}
`), noEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.DefaultTimezone != "Asia/Kolkata" || cfg.Server.DefaultRegion != "US" {
		t.Errorf("server %s %s, want Asia/Kolkata US", cfg.Server.DefaultTimezone, cfg.Server.DefaultRegion)
	}
	if got := cfg.Integrations["crm-eu"].Type; got != "hubspot" {
		t.Errorf("crm-eu type %q", got)
	}
	if got := cfg.Integrations["leadsquared"].Type; got != "leadsquared" {
		t.Errorf("leadsquared type %q, want its name", got)
	}
	tests := []struct{ agent, tz, region, rulesZone string }{
		{"plain", "Asia/Kolkata", "US", "Asia/Kolkata"},
		{"own", "Europe/Kyiv", "GB", "Europe/Kyiv"},
		{"by-number", "callee", "US", "Asia/Kolkata"},
		{"by-record", "contact", "US", "Asia/Kolkata"},
	}
	for _, tt := range tests {
		ag := cfg.Agents[tt.agent]
		if ag.Timezone != tt.tz || ag.Region != tt.region {
			t.Errorf("agent %s: timezone %q region %q, want %q %q", tt.agent, ag.Timezone, ag.Region, tt.tz, tt.region)
		}
		if len(ag.Retry.Gaps) != 1 || ag.Retry.Gaps[0] != DefaultRetryGap || !reflect.DeepEqual(ag.Retry.On, DefaultRetryOn()) {
			t.Errorf("agent %s: retry %+v, want the defaults", tt.agent, ag.Retry)
		}
		spec := ag.RulesSpec(cfg.Server)
		if spec.Location.String() != tt.rulesZone || spec.Region != tt.region {
			t.Errorf("agent %s: rules compile in %s region %s, want %s %s", tt.agent, spec.Location, spec.Region, tt.rulesZone, tt.region)
		}
	}
	if cfg.Agents["own"].Retry.Max != 2 {
		t.Errorf("own retry max %d", cfg.Agents["own"].Retry.Max)
	}
}

func TestLoadBuiltinDefaults(t *testing.T) {
	cfg, err := LoadWithEnv("t.hcl", []byte("dialer \"log\" {\n  type = \"log\"\n}\nagent \"a\" {}\n"), noEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if ag := cfg.Agents["a"]; ag.Timezone != DefaultTimezone || ag.Region != DefaultRegion {
		t.Errorf("agent %s %s, want %s %s", ag.Timezone, ag.Region, DefaultTimezone, DefaultRegion)
	}
}
