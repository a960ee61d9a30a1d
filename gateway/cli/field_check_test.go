package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

// fieldsConfig is a gateway whose HubSpot is the fake at baseURL; its
// rules read contact.first_name, which HubSpot calls firstname.
func fieldsConfig(baseURL, token string) string {
	return fmt.Sprintf(`
integration "hubspot" {
  access_token = %q
  base_url     = %q
}
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  integrations = ["hubspot"]
  when         = "contact.lifecyclestage == 'lead'"
  variables = {
    name    = "contact.first_name ?? 'there'"
    company = "contact.company ?? ''"
  }
}
`, token, baseURL)
}

// directPlugins reaches the built-in plugins in process, with the
// config's credentials: what integrationPlugins does through the host.
type directPlugins struct{ cfg *config.Config }

func (d directPlugins) crm(integration string) (sdk.CRM, sdk.Credentials) {
	in := d.cfg.Integrations[integration]
	return builtinPlugins()[in.Type](), sdk.Credentials(in.Credentials)
}

func (d directPlugins) ListFields(ctx context.Context, integration, objectType string) ([]sdk.Field, error) {
	crm, creds := d.crm(integration)
	return crm.ListFields(ctx, creds, objectType)
}

func (d directPlugins) FetchRecords(ctx context.Context, integration string, req sdk.FetchRequest) (sdk.FetchResult, error) {
	crm, creds := d.crm(integration)
	req.Credentials = creds
	return crm.FetchRecords(ctx, req)
}

func TestFieldCheckerWarnsFromTheAccount(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	cfg, err := config.LoadBytes("callgate.hcl", []byte(fieldsConfig(hs.URL, hs.Token())))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	fc := newFieldChecker(hclog.New(&hclog.LoggerOptions{Output: &logs}), func() *config.Config { return cfg }, directPlugins{cfg})
	fc.once(context.Background())
	want := "contact.first_name: no such property in hubspot; did you mean firstname?"
	if got := fc.AgentWarnings()["sales-intro"]; len(got) != 1 || got[0] != want {
		t.Fatalf("warnings %q, want [%q]", got, want)
	}
	if !strings.Contains(logs.String(), "[WARN]  agent sales-intro: "+want) {
		t.Fatalf("log:\n%s", &logs)
	}
}

func TestRulesTesterReadsARecordByID(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	id := hs.AddContact("", map[string]any{"firstname": "Grace", "lifecyclestage": "lead", "company": "Hopper & Co",
		"mobilephone": "+14155550123", "email": "grace@example.com"})
	cfg, err := config.LoadBytes("callgate.hcl", []byte(fieldsConfig(hs.URL, hs.Token())))
	if err != nil {
		t.Fatal(err)
	}
	rt := newRulesTester(func() *config.Config { return cfg }, builtinManifest, time.Now, directPlugins{cfg})
	rep, err := rt.TestRules(context.Background(), api.RulesTest{AgentID: "sales-intro", RecordID: id})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Call || rep.ObjectID != id || rep.ToNumber != "+14155550123" || rep.Variables["company"] != "Hopper & Co" ||
		rep.ReadFrom != "integration hubspot" || rep.RecordFields["lifecyclestage"] != "lead" {
		t.Fatalf("report %+v", rep)
	}
	// The record was read with the fields the pipeline asks for: the
	// rules' and the phone fields, not the whole record.
	for _, f := range []string{"email", "firstname"} {
		if _, ok := rep.RecordFields[f]; ok {
			t.Errorf("%s was read, but no rule reads it (they read first_name): %v", f, rep.RecordFields)
		}
	}
	if !slices.Equal(rep.MissingFields, []string{"first_name"}) {
		t.Errorf("missing fields %v, want [first_name]", rep.MissingFields)
	}
	text := strings.Join(strings.Fields(rep.Text()), " ")
	for _, want := range []string{"record " + id + " (read from integration hubspot)", `company "Hopper & Co"`, "FIELD READ VALUE", `lifecyclestage "lead"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}

	tests := []struct {
		name string
		req  api.RulesTest
		want string
	}{
		{"missing record", api.RulesTest{AgentID: "sales-intro", RecordID: "999999"}, "not_found"},
		{"not its integration", api.RulesTest{AgentID: "sales-intro", RecordID: id, Integration: "lsq"}, `integration: agent "sales-intro" does not take events from "lsq"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := rt.TestRules(context.Background(), tt.req); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := newRulesTester(func() *config.Config { return cfg }, builtinManifest, time.Now, nil).TestRules(context.Background(),
		api.RulesTest{AgentID: "sales-intro", RecordID: id}); err == nil || !strings.Contains(err.Error(), "not wired") {
		t.Fatalf("without a record reader: %v", err)
	}
}

func runConfigCheck(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	o := &rootOptions{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	root := newRootCmd(o)
	root.SetArgs(append([]string{"config", "check"}, args...))
	code = 0
	if err := root.Execute(); err != nil {
		code = 1
		if ee, ok := err.(exitError); ok {
			code = ee.code
		}
	}
	return code, out.String(), errb.String()
}

func TestConfigCheckOfflineNeedsNoSecrets(t *testing.T) {
	dir := writeFiles(t, map[string]string{"callgate.hcl": rulesTestConfig})
	file := filepath.Join(dir, "callgate.hcl")
	code, stdout, stderr := runConfigCheck(t, nil, file)
	if code != 0 || stdout != "ok\n" || !strings.Contains(stderr, `note: env("HUBSPOT_ACCESS_TOKEN") is not set in this shell; serve needs it`) {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", code, stdout, stderr)
	}
	code, _, stderr = runConfigCheck(t, map[string]string{"HUBSPOT_ACCESS_TOKEN": "pat-x"}, file)
	if code != 0 || strings.Contains(stderr, "note:") {
		t.Fatalf("with the variable set: exit %d, stderr %s", code, stderr)
	}
	// --online reads the environment as serve does: an unset secret is a problem.
	code, _, stderr = runConfigCheck(t, nil, file, "--online")
	if code != 1 || !strings.Contains(stderr, "HUBSPOT_ACCESS_TOKEN") {
		t.Fatalf("--online without the secret: exit %d, stderr %s", code, stderr)
	}
}

func TestConfigCheckOnline(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	dir := writeFiles(t, map[string]string{"good.hcl": fieldsConfig(hs.URL, hs.Token())})
	code, stdout, stderr := runConfigCheck(t, nil, filepath.Join(dir, "good.hcl"), "--online")
	want := "warning: agent sales-intro: contact.first_name: no such property in hubspot; did you mean firstname?"
	if code != 0 || stdout != "ok\n" || !strings.Contains(stderr, want) || strings.Contains(stderr, "company") {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", code, stdout, stderr)
	}

	// A CRM that cannot be reached is a warning, not a failure.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	dir = writeFiles(t, map[string]string{"down.hcl": fieldsConfig(down, "pat-x")})
	var res checkResult
	code, stdout, stderr = runConfigCheck(t, nil, filepath.Join(dir, "down.hcl"), "--online", "--output", "json")
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("exit %d: %v in %q (stderr %s)", code, err, stdout, stderr)
	}
	if code != 0 || !res.OK || res.Online == nil || len(res.Online.Unchecked) != 1 || res.Online.Unchecked[0].Integration != "hubspot" || len(res.Online.Warnings) != 0 {
		t.Fatalf("unreachable CRM: exit %d, %+v", code, res)
	}
}
