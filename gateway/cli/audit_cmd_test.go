package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reconcile"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/server"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
)

type lastPasses []reconcile.Status

func (l lastPasses) Last() []reconcile.Status { return l }

// TestAuditCommand: the audit of a real store through the admin API, as
// a table and as JSON: a record with a webhook event, one recovered by
// reconciliation and one with no event at all.
func TestAuditCommand(t *testing.T) {
	db, err := bolt.Open(bolt.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inbox := db
	t.Cleanup(func() { inbox.Close() })
	cfg, err := config.LoadBytes("t.hcl", []byte(`
integration "hubspot" {
  access_token = "x"
  reconcile {
    every = "15m"
  }
}
integration "leadsquared" {
  access_key = "k"
}
dialer "log" { type = "log" }
agent "sales" {}
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var listed []store.ListedRecord
	for _, id := range []string{"1", "2", "3"} {
		listed = append(listed, store.ListedRecord{Integration: "hubspot", ObjectType: "contact", ObjectID: id, CreatedAt: now.Add(-time.Hour)})
	}
	if err := db.RecordListing(context.Background(), "hubspot", "created:contact", now, listed, now.Add(-store.ListedRetention)); err != nil {
		t.Fatal(err)
	}
	_, err = inbox.AppendEvents(context.Background(), []store.Event{
		{Key: "w1", AgentID: "sales", Type: "hubspot", Integration: "hubspot", Kind: "created", ObjectType: "contact", ObjectID: "1", Status: store.EventSkipped, Reason: "no valid phone: phone \"12345\""},
		{Key: "r2", AgentID: "sales", Type: "hubspot", Integration: "hubspot", Kind: "created", ObjectType: "contact", ObjectID: "2", Reconciled: true},
	}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(scheduler.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.New(api.Options{Config: func() *config.Config { return cfg }, Calls: db, Canceler: sched, DND: db,
		Auditor: db, Reconciliations: lastPasses{{Integration: "hubspot", At: now.Add(-time.Minute), Listed: 3, Recovered: 1}}})
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
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	s := &adminServer{url: hs.URL, db: db, inbox: inbox}

	out, errOut, code := s.callgate(t, "audit", "--since", "2h")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"every agent", "Leads not accounted for   1", "CRM records created       3", "Events by webhook         1",
		"Events by reconciliation  1", "pending 1, skipped 1", `skipped  1       no valid phone: phone "…"`,
		"hubspot      contact  3", "hubspot      15m0s", "leadsquared  off (no reconcile block)"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = s.callgate(t, "audit", "--agent", "sales", "-o", "json")
	var rep api.AuditReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Unaccounted != 1 || rep.AgentID != "sales" || len(rep.UnaccountedRecords) != 1 || rep.UnaccountedRecords[0].ObjectID != "3" {
		t.Errorf("audit -o json: exit %d\n%s", code, out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--since", "yesterday"}, "since:"},
		{[]string{"audit", "--agent", "nobody"}, `agent_id: "nobody" is not an agent`},
		{[]string{"audit", "--since", "1h", "--until", "2h"}, "until: must be after since"},
	} {
		_, errOut, code := s.callgate(t, tt.args...)
		if code == 0 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, %s; want an error with %q", tt.args, code, errOut, tt.want)
		}
	}
}
