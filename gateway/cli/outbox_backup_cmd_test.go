package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

func TestEventsShow(t *testing.T) {
	s := newAdminServer(t)
	res, err := s.inbox.AppendEvents(context.Background(), []store.Event{{Key: "k1", AgentID: "sales-intro", Type: "hubspot",
		Integration: "hubspot", EventType: "contact.creation", Kind: "created", ObjectType: "contact", ObjectID: "42",
		Account: "62515", Status: store.EventFailed, Reason: "token rejected (401)", CallID: "01CALL"}}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Events[0].ID
	if _, errOut, code := s.callgate(t, "events", "replay", id); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	out, errOut, code := s.callgate(t, "events", "show", id)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{"id", id, "status", "pending", "call", "01CALL", "contact.creation (created)", "contact 42",
		"hubspot integration hubspot account 62515", "HISTORY", "failed: token rejected (401)"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	out, _, code = s.callgate(t, "events", "show", id, "-o", "json")
	var ev store.Event
	if err := json.Unmarshal([]byte(out), &ev); code != 0 || err != nil || ev.ID != id || ev.CallID != "01CALL" || len(ev.History) != 1 {
		t.Fatalf("json: exit %d, %v, %+v", code, err, ev)
	}
	if _, errOut, code := s.callgate(t, "events", "show", "01NOPE"); code != 1 || !strings.Contains(errOut, `no event "01NOPE" (HTTP 404)`) {
		t.Fatalf("missing event: exit %d, %q", code, errOut)
	}
}

var backupSizeRE = regexp.MustCompile(`\((\d+) bytes\)`)

func TestBackup(t *testing.T) {
	s := newAdminServer(t)
	c := s.addCall(t, "+919812345601", store.CallScheduled, time.Now().UTC())
	dir := t.TempDir()
	file := filepath.Join(dir, bolt.FileName)

	out, errOut, code := s.callgate(t, "backup", "--out", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m := backupSizeRE.FindStringSubmatch(out)
	fi, err := os.Stat(file)
	if m == nil || err != nil || m[1] != strconv.FormatInt(fi.Size(), 10) || !strings.Contains(out, "backup written to "+file) {
		t.Fatalf("output %q, file %v (%v)", out, fi, err)
	}
	if _, err := os.Stat(file + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode().Perm())
	}

	// An existing file is kept without --force.
	if err := os.WriteFile(file+".keep", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := s.callgate(t, "backup", "--out", file+".keep"); code != 1 || !strings.Contains(errOut, "exists; pass --force") {
		t.Fatalf("existing file: exit %d, %q", code, errOut)
	}
	if b, _ := os.ReadFile(file + ".keep"); string(b) != "x" {
		t.Fatal("backup without --force replaced an existing file")
	}
	out, errOut, code = s.callgate(t, "backup", "--out", file+".keep", "--force", "-o", "json")
	var res backupResult
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.File != file+".keep" || res.Bytes != fi.Size() {
		t.Fatalf("--force -o json: exit %d (%s), %v, %+v", code, errOut, err, res)
	}

	// --out - writes the copy to stdout and the summary to stderr.
	out, errOut, code = s.callgate(t, "backup", "--out", "-")
	if code != 0 || int64(len(out)) != fi.Size() || !strings.Contains(errOut, "bytes written to stdout") {
		t.Fatalf("stdout: exit %d, %d bytes, stderr %q", code, len(out), errOut)
	}
	if _, errOut, code := s.callgate(t, "backup"); code != 1 || !strings.Contains(errOut, "--out is required") {
		t.Fatalf("no --out: exit %d, %q", code, errOut)
	}

	// The copy is a store holding the call.
	db, err := bolt.Open(bolt.Options{Dir: dir})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer db.Close()
	if got, err := db.GetCall(context.Background(), c.ID); err != nil || got.ToNumber != c.ToNumber {
		t.Fatalf("the backup lacks call %s: %+v, %v", c.ID, got, err)
	}
}

func TestOutboxCommands(t *testing.T) {
	s := newAdminServer(t)
	now := time.Now().UTC()
	items := []store.OutboxItem{
		{Kind: store.OutboxWebhook, URL: "https://hooks.example.com/cg?token=tok-secret", Body: []byte("body-secret"),
			Headers: map[string]string{"X-Callgate-Signature": "sig-secret"}, CallID: "call-1", Event: "call_ended", NextAt: now.Add(time.Hour)},
		{Kind: store.OutboxWriteback, Integration: "hubspot", Body: []byte(`{}`), CallID: "call-2", Event: "call_ended", NextAt: now},
	}
	if err := s.db.EnqueueOutbox(context.Background(), items...); err != nil {
		t.Fatal(err)
	}
	items[1].Dead, items[1].Attempts, items[1].LastError = true, 8, "hubspot contact 42: token rejected"
	if err := s.db.UpdateOutbox(context.Background(), items[1]); err != nil {
		t.Fatal(err)
	}
	pending, dead := items[0], items[1]

	tests := []struct {
		name   string
		args   []string
		want   []string
		absent []string
	}{
		{"list", []string{"outbox", "list"}, []string{"ID", "LAST ERROR", pending.ID, dead.ID, "https://hooks.example.com/cg ", "integration hubspot", "token rejected"}, []string{"tok-secret"}},
		{"dead", []string{"outbox", "list", "--dead"}, []string{dead.ID, "dead", "8"}, []string{pending.ID}},
		{"pending", []string{"outbox", "list", "--pending", "--kind", "webhook"}, []string{pending.ID}, []string{dead.ID}},
		{"by call", []string{"outbox", "list", "--call", "call-2"}, []string{dead.ID}, []string{pending.ID}},
		{"json", []string{"outbox", "list", "-o", "json"}, []string{`"items"`, `"url": "https://hooks.example.com/cg"`}, []string{"secret", `"headers"`, `"body"`}},
		{"retry", []string{"outbox", "retry", dead.ID}, []string{"outbox item " + dead.ID + " (writeback) is due again", "--call call-2"}, nil},
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
			for _, a := range tt.absent {
				if strings.Contains(out, a) {
					t.Errorf("output shows %q:\n%s", a, out)
				}
			}
		})
	}
	if it, err := s.db.GetOutbox(context.Background(), dead.ID); err != nil || it.Dead || it.Attempts != 0 {
		t.Fatalf("after retry: %+v, %v", it, err)
	}
	out, _, code := s.callgate(t, "outbox", "list", "--dead", "-o", "json")
	var list api.OutboxList
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list.Items) != 0 {
		t.Fatalf("dead letters after retry: exit %d, %v, %s", code, err, out)
	}

	errs := []struct {
		name string
		args []string
		want string
	}{
		{"bad kind", []string{"outbox", "list", "--kind", "sms"}, `kind: "sms" is not an outbox kind`},
		{"both states", []string{"outbox", "list", "--dead", "--pending"}, "--dead and --pending exclude each other"},
		{"retry pending", []string{"outbox", "retry", pending.ID}, "is not a dead letter: it is pending"},
		{"retry missing", []string{"outbox", "retry", "01NOPE"}, "outbox item 01NOPE not found (HTTP 404)"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := s.callgate(t, tt.args...)
			if code != 1 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
		})
	}
}
