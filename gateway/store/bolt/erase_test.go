package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

const (
	erasedNumber = "+14155550123"
	keptNumber   = "+14155550999"
)

// personal are the forms of the erased person's data that must not be
// left anywhere in the file.
var personal = []string{erasedNumber, "14155550123", "4155550123", "555-0123", "Ada Lovelace", "Lovelace"}

type eraseFixture struct {
	db                 *Store
	in                 *Store
	c1, c2, c3, c4     store.Call
	creation, property string
	pending, lsq, kept string
	formatted          string
	hook, dead, other  string
}

// newEraseFixture stores one person (HubSpot contact 7, two agents, plus
// an outbound call to the same number) and one bystander (contact 8).
func newEraseFixture(t *testing.T) *eraseFixture {
	t.Helper()
	clk := newClock()
	db, in := openInbox(t, t.TempDir(), clk.Now)
	f := &eraseFixture{db: db, in: in}
	src := store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: "7", Account: "62515", ObjectType: "contact"}
	mk := func(agent, number string, s store.Source, status string, vars map[string]string, opts store.CreateOptions) store.Call {
		c := newCall(agent, number)
		c.Source, c.Status, c.Variables = s, status, vars
		c.Fields = map[string]any{"firstname": vars["firstname"], "score": 42.0}
		if store.Final(status) {
			c.NextAttemptAt = nil
		}
		if status == store.CallCompleted {
			end := t0.Add(time.Minute)
			c.Reason = "connected"
			c.Attempts = []store.Attempt{{N: 1, StartedAt: t0, EndedAt: &end, Outcome: store.OutcomeCompleted,
				Reason: `the platform said "` + number + ` answered"`, ProviderCallID: "prov-1"}}
		}
		opts.Now = t0
		got, created, err := db.CreateCall(ctx, c, opts)
		if err != nil || !created {
			t.Fatalf("create call: %v %v", err, created)
		}
		return got
	}
	ada := map[string]string{"firstname": "Ada Lovelace"}
	f.c1 = mk("sales", erasedNumber, src, store.CallCompleted, ada, store.CreateOptions{ContactKey: "hubspot:62515:contact:7"})
	f.c2 = mk("support", erasedNumber, src, store.CallCanceled, ada, store.CreateOptions{})
	f.c3 = mk("sales", erasedNumber, store.Source{Type: "api"}, store.CallScheduled, ada, store.CreateOptions{ContactKey: "api:" + erasedNumber})
	other := src
	other.ObjectID = "8"
	f.c4 = mk("sales", keptNumber, other, store.CallScheduled, map[string]string{"firstname": "Grace Hopper"}, store.CreateOptions{})

	record, _ := json.Marshal(map[string]any{"object_id": "7", "fields": map[string]any{"firstname": map[string]any{"string": "Ada Lovelace"}}})
	lsqRecord, _ := json.Marshal(map[string]any{"object_id": "lead-9", "fields": map[string]any{"Phone": map[string]any{"string": erasedNumber}}})
	evs := []store.Event{
		func() store.Event {
			e := ev("k-creation")
			e.ObjectID, e.Account, e.Record = "7", "62515", record
			return e
		}(),
		func() store.Event {
			e := ev("k-phone")
			e.ObjectID, e.Account, e.Kind, e.EventType, e.Property, e.Value = "7", "62515", "updated", "contact.propertyChange", "phone", erasedNumber
			e.Status, e.Reason = store.EventIgnored, `when rule "event.kind == 'created'" is false`
			return e
		}(),
		func() store.Event { e := ev("k-pending"); e.ObjectID, e.Account = "7", "62515"; return e }(),
		func() store.Event {
			e := ev("k-lsq")
			e.Type, e.Integration, e.ObjectType, e.ObjectID, e.Record = "leadsquared", "lsq", "lead", "lead-9", lsqRecord
			e.Status, e.Reason = store.EventSkipped, `invalid phone number "`+erasedNumber+`" in Phone (region IN)`
			return e
		}(),
		func() store.Event {
			e := ev("k-kept")
			e.ObjectID, e.Record = "8", []byte(`{"object_id":"8","fields":{"firstname":{"string":"Grace Hopper"}}}`)
			return e
		}(),
		// Another record given the person's number, written as people write it.
		func() store.Event {
			e := ev("k-formatted")
			e.ObjectID, e.Kind, e.EventType, e.Property, e.Value = "9", "updated", "contact.propertyChange", "phone", "+1 (415) 555-0123"
			e.Status, e.Reason = store.EventIgnored, "when rule is false"
			return e
		}(),
	}
	res, err := in.AppendEvents(t.Context(), evs, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.creation, f.property, f.pending, f.lsq, f.kept, f.formatted = res.Events[0].ID, res.Events[1].ID, res.Events[2].ID, res.Events[3].ID, res.Events[4].ID, res.Events[5].ID
	// The creation event became c1.
	cr := res.Events[0]
	cr.Status, cr.Reason, cr.CallID = store.EventCalled, "call "+f.c1.ID+" scheduled", f.c1.ID
	if err := in.SaveEvents(ctx, []store.Event{cr}); err != nil {
		t.Fatal(err)
	}
	body := func(c store.Call) []byte {
		b, _ := json.Marshal(map[string]any{"event": "call_ended", "data": map[string]any{
			"call_id": c.ID, "to_number": c.ToNumber, "to": c.ToNumber[1:], "call_metadata": c.Variables,
			"reason": "connected to " + c.ToNumber, "status": c.Status}})
		return b
	}
	f.hook, f.dead, f.other = "01HOOK", "01DEAD", "01OTHER"
	items := []store.OutboxItem{
		{ID: f.hook, Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: body(f.c1), CallID: f.c1.ID, NextAt: t0},
		{ID: f.dead, Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: body(f.c2), CallID: f.c2.ID, NextAt: t0, Dead: true,
			LastError: "endpoint refused " + erasedNumber},
		{ID: f.other, Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: body(f.c4), CallID: f.c4.ID, NextAt: t0},
	}
	if err := db.EnqueueOutbox(ctx, items...); err != nil {
		t.Fatal(err)
	}
	if err := db.AddDND(ctx, erasedNumber, "asked not to be called", t0); err != nil {
		t.Fatal(err)
	}
	return f
}

// fileHolds reports which personal values any live key or value of the
// file still holds, outside the DND list (kept on purpose).
func fileHolds(t *testing.T, db *Store) []string {
	t.Helper()
	var found []string
	seen := map[string]bool{}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if bytes.Equal(name, bucketDND) {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				for _, p := range personal {
					if !seen[p] && (bytes.Contains(k, []byte(p)) || bytes.Contains(v, []byte(p))) {
						seen[p] = true
						found = append(found, string(name)+": "+p)
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestEraseContact(t *testing.T) {
	f := newEraseFixture(t)
	pendingBefore := pending(t, f.in)
	rep, err := f.db.Erase(ctx, store.EraseRequest{Contact: &store.SourceFilter{Type: "hubspot", Integration: "hubspot", ObjectID: "7", ObjectType: "contact"}, Now: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := store.EraseReport{Calls: 3, Events: 5, Outbox: 1, DeadLetters: 1, SettledEvents: 1, DedupeKeys: 1}
	if rep != want {
		t.Errorf("report = %+v, want %+v", rep, want)
	}
	if left := fileHolds(t, f.db); len(left) > 0 {
		t.Errorf("the file still holds personal data: %v", left)
	}
	t.Run("calls keep ids, statuses and times", func(t *testing.T) {
		for _, was := range []store.Call{f.c1, f.c2, f.c3} {
			c, err := f.db.GetCall(ctx, was.ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.ToNumber != store.Erased || c.Variables["firstname"] != store.Erased || c.Fields["firstname"] != store.Erased || c.Fields["score"] != store.Erased {
				t.Errorf("call %s not erased: %+v", c.ID, c)
			}
			if c.ErasedAt == nil || !c.CreatedAt.Equal(was.CreatedAt) || c.AgentID != was.AgentID || c.Source != was.Source {
				t.Errorf("call %s lost its audit fields: %+v", c.ID, c)
			}
		}
		c1, _ := f.db.GetCall(ctx, f.c1.ID)
		if c1.Status != store.CallCompleted || c1.Reason != "connected" || c1.Attempts[0].ProviderCallID != "prov-1" || c1.Attempts[0].Outcome != store.OutcomeCompleted {
			t.Errorf("c1 = %+v", c1)
		}
		if c1.Attempts[0].Reason != `the platform said "[erased]"` {
			t.Errorf("attempt reason = %q", c1.Attempts[0].Reason)
		}
		c3, _ := f.db.GetCall(ctx, f.c3.ID)
		if c3.Status != store.CallCanceled || c3.NextAttemptAt != nil {
			t.Errorf("a scheduled call erased without a cancel must not stay due: %+v", c3)
		}
		if due, _ := f.db.DueCalls(ctx, "voice", t0.Add(48*time.Hour), 10); len(due) != 1 || due[0].ID != f.c4.ID {
			t.Errorf("due calls = %v, want only the bystander's", due)
		}
	})
	t.Run("number indexes are gone", func(t *testing.T) {
		if calls, _, _ := f.db.ListCalls(ctx, store.CallFilter{Phone: erasedNumber}); len(calls) != 0 {
			t.Errorf("ListCalls by the erased number = %d calls", len(calls))
		}
		if calls, _, _ := f.db.ListCalls(ctx, store.CallFilter{Phone: store.Erased}); len(calls) != 0 {
			t.Errorf("the marker is indexed as a number: %d calls", len(calls))
		}
		if act, _ := f.db.ActiveCalls(ctx, "", erasedNumber); len(act) != 0 {
			t.Errorf("active calls = %v", act)
		}
	})
	t.Run("events", func(t *testing.T) {
		for _, id := range []string{f.creation, f.property, f.pending, f.lsq, f.formatted} {
			e, err := f.in.GetEvent(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if e.ErasedAt == nil {
				t.Errorf("event %s not marked erased", id)
			}
			if len(e.Record) > 0 && string(e.Record) != `"[erased]"` {
				t.Errorf("event %s record = %s", id, e.Record)
			}
			if _, err := f.in.ReplayEvent(ctx, id, t0); !errors.Is(err, store.ErrNotReplayable) {
				t.Errorf("replay of erased event %s: %v, want ErrNotReplayable", id, err)
			}
		}
		cr, _ := f.in.GetEvent(ctx, f.creation)
		if cr.Status != store.EventCalled || cr.CallID != f.c1.ID || cr.ObjectID != "7" {
			t.Errorf("creation event lost its audit fields: %+v", cr)
		}
		pc, _ := f.in.GetEvent(ctx, f.property)
		if pc.Value != store.Erased || pc.Property != "phone" || pc.Reason != `when rule "[erased]" is false` {
			t.Errorf("property change = %+v", pc)
		}
		pe, _ := f.in.GetEvent(ctx, f.pending)
		if pe.Status != store.EventIgnored || pe.Reason == "" {
			t.Errorf("pending event = %+v, want ignored with a reason", pe)
		}
		if got := pending(t, f.in); got != pendingBefore-1 {
			t.Errorf("pending = %d, want %d", got, pendingBefore-1)
		}
		if claimed, _ := f.in.ClaimEvents(ctx, t0.Add(72*time.Hour), time.Minute, 10); len(claimed) != 1 || claimed[0].ID != f.kept {
			t.Errorf("claimed %v after erasure, want only the bystander's event", claimed)
		}
		kept, _ := f.in.GetEvent(ctx, f.kept)
		if kept.ErasedAt != nil || !bytes.Contains(kept.Record, []byte("Grace Hopper")) {
			t.Errorf("bystander's event changed: %+v", kept)
		}
	})
	t.Run("outbox and dead letters", func(t *testing.T) {
		hook, _ := f.db.GetOutbox(ctx, f.hook)
		var body struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(hook.Body, &body); err != nil {
			t.Fatalf("erased body is not JSON: %v: %s", err, hook.Body)
		}
		if body.Data["to_number"] != store.Erased || body.Data["call_id"] != f.c1.ID || body.Data["reason"] != "connected to [erased]" ||
			body.Data["call_metadata"].(map[string]any)["firstname"] != store.Erased {
			t.Errorf("erased body = %s", hook.Body)
		}
		dead, _ := f.db.GetOutbox(ctx, f.dead)
		if !dead.Dead || dead.LastError != "endpoint refused [erased]" {
			t.Errorf("dead letter = %+v", dead)
		}
		if due, _ := dueOutbox(t, f.db, t0.Add(time.Hour), 10); len(due) != 2 {
			t.Errorf("due outbox = %d items, want the erased one and the bystander's", len(due))
		}
		other, _ := f.db.GetOutbox(ctx, f.other)
		if !bytes.Contains(other.Body, []byte(keptNumber)) {
			t.Errorf("bystander's notification changed: %s", other.Body)
		}
	})
	t.Run("bystander and DND untouched", func(t *testing.T) {
		c4, _ := f.db.GetCall(ctx, f.c4.ID)
		if c4.ToNumber != keptNumber || c4.Variables["firstname"] != "Grace Hopper" || c4.Status != store.CallScheduled || c4.ErasedAt != nil {
			t.Errorf("c4 = %+v", c4)
		}
		if on, _ := f.db.IsDND(ctx, erasedNumber); !on {
			t.Error("erasure removed the DND entry: a do-not-call request must outlive the data")
		}
	})
	t.Run("again is a no-op", func(t *testing.T) {
		rep, err := f.db.Erase(ctx, store.EraseRequest{Contact: &store.SourceFilter{Type: "hubspot", ObjectID: "7"}})
		if err != nil || rep.SettledEvents != 0 || rep.DedupeKeys != 0 {
			t.Errorf("second erase: %+v %v", rep, err)
		}
		if left := fileHolds(t, f.db); len(left) > 0 {
			t.Errorf("the file holds personal data: %v", left)
		}
	})
	t.Run("the number can be called again", func(t *testing.T) {
		// A new consent later: no stale dedupe entry holds the number back.
		if _, created, err := f.db.CreateCall(ctx, newCall("sales", erasedNumber), store.CreateOptions{ContactKey: "api:" + erasedNumber, DedupeWindow: 24 * time.Hour, Now: t0.Add(2 * time.Hour)}); err != nil || !created {
			t.Errorf("new call to the number after erasure: created=%v err=%v", created, err)
		}
	})
}

func TestEraseNumber(t *testing.T) {
	f := newEraseFixture(t)
	rep, err := f.db.Erase(ctx, store.EraseRequest{Numbers: []string{erasedNumber}})
	if err != nil {
		t.Fatal(err)
	}
	// Found by number: the three calls to it, the events that became or
	// carry it, their notifications. The pending event of contact 7 does
	// not carry the number and is not one of the calls: it stays.
	if rep.Calls != 3 || rep.Outbox != 1 || rep.DeadLetters != 1 || rep.DedupeKeys != 1 || rep.Events != 4 {
		t.Errorf("report = %+v", rep)
	}
	pe, _ := f.in.GetEvent(ctx, f.pending)
	if pe.Status != store.EventPending || pe.ErasedAt != nil {
		t.Errorf("pending event of the contact = %+v", pe)
	}
	for _, p := range []string{erasedNumber, "4155550123", "555-0123"} {
		for _, left := range fileHolds(t, f.db) {
			if bytes.HasSuffix([]byte(left), []byte(p)) {
				t.Errorf("the file still holds %s", left)
			}
		}
	}
}

func TestEraseNeedsAPerson(t *testing.T) {
	db := openTest(t)
	for _, req := range []store.EraseRequest{{}, {Contact: &store.SourceFilter{Type: "hubspot"}}, {Contact: &store.SourceFilter{ObjectID: "7"}}} {
		if _, err := db.Erase(ctx, req); err == nil {
			t.Errorf("Erase(%+v) succeeded", req)
		}
	}
}

func TestSourceCalls(t *testing.T) {
	f := newEraseFixture(t)
	tests := []struct {
		name string
		f    store.SourceFilter
		want []string
	}{
		{"every agent", store.SourceFilter{Type: "hubspot", ObjectID: "7"}, []string{f.c1.ID, f.c2.ID}},
		{"account and type match", store.SourceFilter{Type: "hubspot", ObjectID: "7", Account: "62515", ObjectType: "contact", Integration: "hubspot"}, []string{f.c1.ID, f.c2.ID}},
		{"other account", store.SourceFilter{Type: "hubspot", ObjectID: "7", Account: "999"}, nil},
		{"other object type", store.SourceFilter{Type: "hubspot", ObjectID: "7", ObjectType: "deal"}, nil},
		{"other integration", store.SourceFilter{Type: "hubspot", ObjectID: "7", Integration: "hubspot-eu"}, nil},
		{"other plugin", store.SourceFilter{Type: "leadsquared", ObjectID: "7"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, err := f.db.SourceCalls(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range calls {
				got = append(got, c.ID)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[1] != tt.want[1])) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSourceIndexMigration opens a schema 1 file (no calls_by_source) and
// finds its calls by source after the migration.
func TestSourceIndexMigration(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := newCall("sales", erasedNumber)
	c.Source = store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: "7"}
	got, _, err := db.CreateCall(ctx, c, store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketCallsBySource); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, 1))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersionOnDisk(); v != SchemaVersion {
		t.Errorf("schema version = %d, want %d", v, SchemaVersion)
	}
	calls, err := db.SourceCalls(ctx, store.SourceFilter{Type: "hubspot", ObjectID: "7"})
	if err != nil || len(calls) != 1 || calls[0].ID != got.ID {
		t.Fatalf("after migration: %v %v", calls, err)
	}
}

// TestBackupHoldsNoErasedData: a backup taken after an erasure is a
// compacted copy, so the erased bytes that freed pages of the live file
// may keep are not in it; and it opens as a store.
func TestBackupHoldsNoErasedData(t *testing.T) {
	f := newEraseFixture(t)
	if _, err := f.db.Erase(ctx, store.EraseRequest{Contact: &store.SourceFilter{Type: "hubspot", ObjectID: "7"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.RemoveDND(ctx, erasedNumber); err != nil { // the one place the number stays on purpose
		t.Fatal(err)
	}
	live, err := os.ReadFile(f.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("live file still holds the number in freed pages: %v", bytes.Contains(live, []byte(erasedNumber)))
	var buf bytes.Buffer
	var size int64
	n, err := f.db.WriteBackup(ctx, &buf, func(s int64) { size = s })
	if err != nil {
		t.Fatal(err)
	}
	if n != size || int64(buf.Len()) != n {
		t.Errorf("wrote %d bytes, announced %d, buffer %d", n, size, buf.Len())
	}
	for _, p := range []string{erasedNumber, "4155550123", "Ada Lovelace"} {
		if bytes.Contains(buf.Bytes(), []byte(p)) {
			t.Errorf("the backup holds %q", p)
		}
	}
	if !bytes.Contains(buf.Bytes(), []byte("Grace Hopper")) {
		t.Error("the backup lost the bystander's data")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("backup does not open: %v", err)
	}
	defer restored.Close()
	if c, err := restored.GetCall(ctx, f.c4.ID); err != nil || c.ToNumber != keptNumber {
		t.Errorf("restored bystander call: %+v %v", c, err)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(f.db.Path()), ".backup-*")); len(matches) != 0 {
		t.Errorf("temporary copies left behind: %v", matches)
	}
}
