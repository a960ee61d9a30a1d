package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/server"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/sdk"
)

const cliAdminToken = "cga_test-token"

// adminServer is a real server (admin auth included) with the admin API
// and the events API over a real store.
type adminServer struct {
	url   string
	db    *bolt.Store
	inbox *bolt.Store
}

func newAdminServer(t *testing.T) *adminServer {
	t.Helper()
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inbox := db
	t.Cleanup(func() { inbox.Close() })
	// The shared test config reads HUBSPOT_ACCESS_TOKEN, which these tests
	// do not set: give every env() a placeholder, as `rules test` does.
	placeholder := func(name string) (string, bool) { return "test-" + name, true }
	cfg, err := config.LoadWithEnv("t.hcl", []byte(rulesTestConfig), placeholder)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(scheduler.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	current := func() *config.Config { return cfg }
	a, err := api.New(api.Options{Config: current, Calls: db, Canceler: sched, DND: db,
		Plugins: staticPlugins{{Name: "hubspot", Version: "0.3.0", Source: "builtin", State: "running", PID: 99,
			Manifest: &api.Manifest{EventTypes: []string{"contact.creation"}, Capabilities: []string{"fetch"},
				CredentialFields: []api.CredentialField{{Name: "access_token", Secret: true, Required: true}},
				ContentTypes:     []string{"application/json"}, PhoneFields: []string{"mobilephone", "phone"}}}},
		Manifests: manifestFunc(builtinManifest),
		Rules:     newRulesTester(current, builtinManifest, time.Now, nil),
		Backup:    db, Outbox: db, Eraser: sched})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(cliAdminToken))
	srv, err := server.New(server.Config{AdminTokenSHA256: []string{hex.EncodeToString(sum[:])}})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range a.Routes() {
		srv.HandleAdmin(rt.Method, strings.TrimPrefix(rt.Path, server.AdminPrefix), rt.Handler)
	}
	ev := &api.EventsAPI{Store: inbox, Region: func() string { return "IN" }}
	ev.Mount(func(method, path string, h http.Handler) { srv.HandleAdmin(method, path, h) })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &adminServer{url: hs.URL, db: db, inbox: inbox}
}

type staticPlugins []api.PluginStatus

func (p staticPlugins) Status() []api.PluginStatus { return p }

// manifestFunc is api.Manifests over builtinManifest, as the plugin host
// would answer for the built-in plugins.
type manifestFunc func(string) (sdk.Manifest, bool)

func (f manifestFunc) Manifest(name string) (sdk.Manifest, bool) { return f(name) }

// callgate runs the command line against s and returns stdout, stderr
// and the exit code.
func (s *adminServer) callgate(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{EnvAddr: s.url, EnvToken: cliAdminToken}
	code := run(args, &out, &errb, func(k string) string { return env[k] })
	return out.String(), errb.String(), code
}

func (s *adminServer) addCall(t *testing.T, number, status string, at time.Time) store.Call {
	t.Helper()
	next := at.Add(time.Hour)
	c := store.Call{AgentID: "sales-intro", Status: status, ToNumber: number, Dialer: "log",
		Variables: map[string]string{"firstname": "Ada"}, NextAttemptAt: &next,
		Policy: store.Policy{Timezone: "Asia/Kolkata", Retry: store.RetryPolicy{Max: 1, Gaps: []store.Duration{store.Duration(time.Hour)}, On: []string{"busy"}}}}
	got, _, err := s.db.CreateCall(context.Background(), c, store.CreateOptions{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAdminCommands(t *testing.T) {
	s := newAdminServer(t)
	now := time.Now().UTC()
	older := s.addCall(t, "+919812345601", store.CallScheduled, now.Add(-2*time.Minute))
	newer := s.addCall(t, "+919812345602", store.CallScheduled, now.Add(-time.Minute))
	failed := func(key, object string) store.Event {
		return store.Event{Key: key, AgentID: "sales-intro", Type: "hubspot",
			Integration: "hubspot", EventType: "contact.creation", Kind: "created", ObjectType: "contact", ObjectID: object,
			Status: store.EventFailed, Reason: "token rejected (401)"}
	}
	res, err := s.inbox.AppendEvents(context.Background(), []store.Event{failed("k1", "42"), failed("k2", "43"), failed("k3", "44")}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evID := res.Events[0].ID

	tests := []struct {
		name string
		args []string
		want []string // substrings of stdout
	}{
		{"calls list", []string{"calls", "list"}, []string{"ID", "STATUS", newer.ID, older.ID, "+919812345601"}},
		{"calls list filtered", []string{"calls", "list", "--phone", "098123 45602", "--agent", "sales-intro"}, []string{newer.ID}},
		{"calls show", []string{"calls", "show", older.ID}, []string{"status", "scheduled", "variable firstname", "Ada", "max=1 gaps=1h0m0s on=busy"}},
		{"calls cancel", []string{"calls", "cancel", older.ID}, []string{"call " + older.ID + " canceled (canceled by an operator)"}},
		{"events list", []string{"events", "list", "--status", "failed"}, []string{evID, "token rejected (401)", "contact 42"}},
		{"events list search", []string{"events", "list", "--q", "42", "--agent", "sales-intro", "--since", now.Add(-time.Hour).Format(time.RFC3339)}, []string{evID, "contact 42"}},
		{"calls list search", []string{"calls", "list", "--q", "ada"}, []string{"WHO", newer.ID, "Ada"}},
		{"calls list search phone", []string{"calls", "list", "--q", "098123 45601"}, []string{older.ID}},
		{"events replay", []string{"events", "replay", evID}, []string{"event " + evID + " is pending again"}},
		{"events replay dry run", []string{"events", "replay", "--status", "failed", "--agent", "sales-intro", "--dry-run"}, []string{"would replay 2 events"}},
		{"events replay bulk", []string{"events", "replay", "--status", "failed", "--agent", "sales-intro"}, []string{"replayed 2 events; 0 matched"}},
		{"dnd add", []string{"dnd", "add", "09812345602", "--note", "asked"}, []string{"+919812345602: number added to the DND list", "1 pending call(s)"}},
		{"dnd list", []string{"dnd", "list"}, []string{"+919812345602", "asked"}},
		{"dnd remove", []string{"dnd", "remove", "+919812345602"}, []string{"removed from the DND list"}},
		{"agents list", []string{"agents", "list"}, []string{"sales-intro", "callee-zone", "Asia/Kolkata", "amount,company,firstname,greeting"}},
		{"plugins list", []string{"plugins", "list"}, []string{"hubspot", "0.3.0", "running", "99"}},
		{"plugins describe", []string{"plugins", "describe", "hubspot"}, []string{"event types", "contact.creation", "credential access_token", "required, secret",
			"content types            application/json", "phone fields             mobilephone, phone"}},
		{"agents list json", []string{"agents", "list", "-o", "json"}, []string{`"phone_fields": [
        "mobilephone",
        "phone"
      ],
      "phone_fields_from": "plugin hubspot"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := s.callgate(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if out, _, _ := s.callgate(t, "events", "list", "--q", "42"); strings.Contains(out, res.Events[1].ID) {
		t.Error("--q 42 listed contact 43's event")
	}
	if out, _, _ := s.callgate(t, "calls", "list", "--q", "098123 45601"); strings.Contains(out, newer.ID) {
		t.Error("--q with a number listed another number's call")
	}
	if _, errOut, code := s.callgate(t, "events", "replay"); code == 0 || !strings.Contains(errOut, "give an event ID, or filter flags") {
		t.Errorf("events replay without ID or filter: exit %d, %s", code, errOut)
	}
	if _, errOut, code := s.callgate(t, "events", "replay", "--since", "yesterday"); code == 0 || !strings.Contains(errOut, "invalid since") {
		t.Errorf("events replay --since yesterday: exit %d, %s", code, errOut)
	}
	if out, _, _ := s.callgate(t, "calls", "list", "--phone", "+919812345602"); strings.Contains(out, older.ID) {
		t.Error("--phone let another number's call through")
	}
	if c, _ := s.db.GetCall(context.Background(), newer.ID); c.Status != store.CallCanceled {
		t.Errorf("dnd add left the number's call %s", c.Status)
	}
}

func TestAdminCommandsJSON(t *testing.T) {
	s := newAdminServer(t)
	now := time.Now().UTC()
	for i := 0; i < 3; i++ {
		s.addCall(t, fmt.Sprintf("+91981234560%d", i), store.CallScheduled, now.Add(time.Duration(i)*time.Second))
	}
	out, errOut, code := s.callgate(t, "calls", "list", "--limit", "2", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var page api.CallList
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Calls) != 2 || page.NextCursor == "" {
		t.Fatalf("json page %+v (%v):\n%s", page, err, out)
	}
	if !strings.Contains(errOut, "more calls: callgate calls list --limit 2 --cursor "+page.NextCursor) {
		t.Errorf("no next-page hint on stderr: %q", errOut)
	}
	out, _, code = s.callgate(t, "calls", "list", "--limit", "2", "--cursor", page.NextCursor, "-o", "json")
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || len(page.Calls) != 1 || page.NextCursor != "" {
		t.Fatalf("second page %+v", page)
	}
	for _, args := range [][]string{{"dnd", "list"}, {"agents", "list"}, {"plugins", "list"}, {"events", "list"}} {
		out, _, code := s.callgate(t, append(args, "-o", "json")...)
		if code != 0 || !json.Valid([]byte(out)) {
			t.Errorf("%v -o json: exit %d, %q", args, code, out)
		}
	}
}

func TestAdminCommandErrors(t *testing.T) {
	s := newAdminServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in stderr
	}{
		{"server message", nil, []string{"calls", "show", "01NOPE"}, "callgate: call 01NOPE not found (HTTP 404)"},
		{"bad input", nil, []string{"calls", "list", "--status", "ringing"}, `status: "ringing" is not a call status`},
		{"not pending", nil, []string{"dnd", "remove", "+919812345699"}, "not found (HTTP 404)"},
		{"no server", map[string]string{EnvAddr: closed}, []string{"calls", "list"}, "is callgate serve running at " + closed + "?"},
		{"no token", map[string]string{EnvToken: ""}, []string{"dnd", "list"}, "pass --token or set CALLGATE_TOKEN"},
		{"wrong token", map[string]string{EnvToken: "nope"}, []string{"agents", "list"}, "admin token not accepted (HTTP 401)"},
		{"unknown plugin", nil, []string{"plugins", "describe", "salesforce"}, `no plugin "salesforce" runs in this gateway; running: hubspot`},
		{"cancel unknown call", nil, []string{"calls", "cancel", "01NOPE"}, "callgate: call 01NOPE: not found (HTTP 404)"},
		{"unknown subcommand", nil, []string{"calls", "nosuch"}, `unknown command "nosuch" for "callgate calls"; see callgate calls --help`},
		{"unknown nested subcommand", nil, []string{"webhook", "receive"}, `unknown command "receive" for "callgate webhook"`},
		{"missing argument", nil, []string{"calls", "show"}, "callgate: missing ID (usage: callgate calls show ID [flags])"},
		{"missing number", nil, []string{"dnd", "add"}, "missing NUMBER"},
		{"too many arguments", nil, []string{"events", "replay", "a", "b"}, "too many arguments: takes ID, got 2"},
		{"addr without scheme", map[string]string{EnvAddr: "127.0.0.1:8080"}, []string{"calls", "list"}, `--addr "127.0.0.1:8080": give the gateway's URL with its scheme, e.g. http://127.0.0.1:8080`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{EnvAddr: s.url, EnvToken: cliAdminToken}
			for k, v := range tt.env {
				env[k] = v
			}
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb, func(k string) string { return env[k] })
			if code != 1 || !strings.Contains(errb.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errb.String(), tt.want)
			}
		})
	}
}

// TestOfflineHelp: commands that never reach a gateway do not offer
// --addr or --token; those that do, do.
func TestOfflineHelp(t *testing.T) {
	for _, args := range [][]string{{"config", "check", "--help"}, {"serve", "--help"}, {"keys", "new", "--help"}, {"fake", "hubspot", "--help"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb, env(nil)); code != 0 || strings.Contains(out.String(), "--addr") || strings.Contains(out.String(), "--token") {
			t.Errorf("%v: exit %d, help lists server flags:\n%s", args, code, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"calls", "list", "--help"}, &out, &errb, env(nil)); code != 0 || !strings.Contains(out.String(), "--addr") || !strings.Contains(out.String(), "--token") {
		t.Errorf("calls list --help lacks the server flags:\n%s", out.String())
	}
	out.Reset()
	// rules test --record-id asks a running gateway, so its help lists them.
	if code := run([]string{"rules", "test", "--help"}, &out, &errb, env(nil)); code != 0 || !strings.Contains(out.String(), "--addr") || !strings.Contains(out.String(), "--token") {
		t.Errorf("rules test --help lacks the server flags:\n%s", out.String())
	}
	// Hiding them for one help page leaves them visible for the next.
	out.Reset()
	run([]string{"config", "check", "--help"}, &out, &errb, env(nil))
	out.Reset()
	if run([]string{"dnd", "list", "--help"}, &out, &errb, env(nil)); !strings.Contains(out.String(), "--addr") {
		t.Errorf("dnd list --help lacks --addr after an offline help:\n%s", out.String())
	}
}

var keyLineRE = regexp.MustCompile(`(?m)^  (cg[ka]_[A-Za-z0-9_-]{43})$`)

func TestKeysNew(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"api key", []string{"keys", "new", "--name", "hubspot-prod", "--agents", "sales-intro,renewals"},
			[]string{`api_key "hubspot-prod" {`, `agents = ["sales-intro", "renewals"]`}},
		{"any agent", []string{"keys", "new", "--name", "ops"}, []string{`api_key "ops" {`}},
		{"admin token", []string{"keys", "new", "--admin"}, []string{"admin_token_sha256 = [", "export CALLGATE_TOKEN="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb, func(string) string { return "" }); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			m := keyLineRE.FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no key line in:\n%s", out.String())
			}
			sum := sha256.Sum256([]byte(m[1]))
			if !strings.Contains(out.String(), `"`+hex.EncodeToString(sum[:])+`"`) {
				t.Fatalf("the printed config does not hold the key's sha256:\n%s", out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q", w)
				}
			}
		})
	}
	// The printed api_key block is a valid config.
	var out bytes.Buffer
	run([]string{"keys", "new", "--name", "k1", "-o", "json"}, &out, &out, func(string) string { return "" })
	var k newKey
	if err := json.Unmarshal(out.Bytes(), &k); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadBytes("k.hcl", []byte(k.Config))
	if err != nil || len(cfg.APIKeys) != 1 || cfg.APIKeys[0].SHA256 != k.SHA256 {
		t.Fatalf("config %q: %v", k.Config, err)
	}
	// Two keys never repeat.
	var again bytes.Buffer
	run([]string{"keys", "new", "--name", "k1", "-o", "json"}, &again, &again, func(string) string { return "" })
	if strings.Contains(again.String(), k.Key) {
		t.Fatal("two runs printed the same key")
	}
	for _, bad := range [][]string{{"keys", "new"}, {"keys", "new", "--name", "has space"}, {"keys", "new", "--admin", "--agents", "x"}} {
		var errb bytes.Buffer
		if code := run(bad, &errb, &errb, func(string) string { return "" }); code != 1 {
			t.Errorf("%v: exit %d, want 1", bad, code)
		}
	}
}
