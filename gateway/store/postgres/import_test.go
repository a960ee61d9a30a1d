package postgres_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

// copied is what the bbolt fixture holds, by name.
type copied struct {
	events map[string]store.Event // pending, leased, called, ignored, failed, later, skipped, blocked
	calls  map[string]store.Call  // scheduled, dialing, completed, retry
}

// fillBolt stores, through the Store interface, one of every kind of
// record a gateway leaves in its file.
func fillBolt(t *testing.T, s store.Store) copied {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	out := copied{events: map[string]store.Event{}, calls: map[string]store.Call{}}

	// Events: appended pending (one ignored at once), all claimed, then
	// each moved on; "leased" keeps its claim.
	names := []string{"pending", "leased", "called", "ignored", "failed", "later", "skipped", "blocked"}
	var evs []store.Event
	for i, n := range names {
		ev := event("key-" + n)
		ev.ObjectID, ev.Account, ev.OccurredAt = n, "portal-7", t0.Add(-time.Duration(i)*time.Second)
		if n == "ignored" {
			ev.Status, ev.Reason = store.EventIgnored, "rules: event kind not handled"
		}
		evs = append(evs, ev)
	}
	res, err := s.AppendEvents(ctx, evs, store.AppendOptions{Now: t0})
	must(err)
	for i, n := range names {
		out.events[n] = res.Events[i]
	}
	claimed, err := s.ClaimEvents(ctx, t0, time.Minute, 100)
	must(err)
	if len(claimed) != len(names)-1 {
		t.Fatalf("claimed %d events, want %d", len(claimed), len(names)-1)
	}
	later := t0.Add(time.Hour)
	moves := map[string]func(ev *store.Event){
		"pending": func(ev *store.Event) { ev.Attempts = 1 },
		"called":  func(ev *store.Event) { ev.Status, ev.Reason, ev.CallID = store.EventCalled, "call created", "C1" },
		"failed": func(ev *store.Event) {
			ev.Status, ev.Reason, ev.Attempts = store.EventFailed, "hubspot: fetch contact failed: token rejected (401)", 3
			ev.History = []string{t0.Format(time.RFC3339) + " skipped: no phone"}
		},
		"later":   func(ev *store.Event) { ev.NotBefore, ev.Attempts, ev.Reason = later, 2, "CRM answered 503; retrying" },
		"skipped": func(ev *store.Event) { ev.Status, ev.Reason = store.EventSkipped, "no valid phone number" },
		"blocked": func(ev *store.Event) { ev.Status, ev.Reason = store.EventBlocked, "number on the DND list" },
	}
	var saved []store.Event
	for n, move := range moves {
		ev := out.events[n]
		move(&ev)
		ev.UpdatedAt = t0.Add(time.Second)
		saved, out.events[n] = append(saved, ev), ev
	}
	must(s.SaveEvents(ctx, saved))

	// Calls: waiting, being dialed, done with an outcome, waiting to retry.
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	newCall := func(number, dialer string, next *time.Time) store.Call {
		return store.Call{AgentID: "sales", ToNumber: number, Status: store.CallScheduled, Dialer: dialer, NextAttemptAt: next,
			Variables: map[string]string{"firstname": "Ada"}, Policy: store.Policy{Timezone: "Europe/Berlin"},
			Source: store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: number[len(number)-1:], ObjectType: "contact"}}
	}
	create := func(name string, c store.Call, o store.CreateOptions) {
		t.Helper()
		o.Now = t0.Add(time.Duration(len(out.calls)) * time.Millisecond)
		got, created, err := s.CreateCall(ctx, c, o)
		if err != nil || !created {
			t.Fatalf("create call %s: created=%v, %v", name, created, err)
		}
		out.calls[name] = got
	}
	create("scheduled", newCall("+4930000001", "d1", at(0)), store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: time.Hour,
		Outbox: []store.OutboxItem{{Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: []byte(`{"event":"call_created"}`), Event: "call_created", NextAt: t0}}})
	create("dialing", newCall("+4930000002", "d2", at(0)), store.CreateOptions{ContactKey: "hubspot::contact:2", DedupeWindow: time.Hour})
	create("completed", newCall("+4930000003", "d1", at(0)), store.CreateOptions{})
	create("retry", newCall("+4930000004", "d1", at(0)), store.CreateOptions{})

	dialing, err := s.ClaimDue(ctx, "d2", t0, 10, func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
		c.Status, c.NextAttemptAt, c.LeaseUntil, c.UpdatedAt = store.CallDialing, nil, at(30*time.Minute), t0
		c.Attempts = append(c.Attempts, store.Attempt{N: 1, StartedAt: t0})
		return true, nil, nil
	})
	must(err)
	if len(dialing) != 1 {
		t.Fatalf("claimed %d calls on d2, want 1", len(dialing))
	}
	out.calls["dialing"] = dialing[0]

	done := out.calls["completed"]
	done.Status, done.Reason, done.NextAttemptAt, done.UpdatedAt = store.CallCompleted, "reached", nil, t0.Add(5*time.Minute)
	done.Attempts = []store.Attempt{{N: 1, StartedAt: t0, PlacedAt: at(time.Second), EndedAt: at(4 * time.Minute),
		Outcome: store.OutcomeCompleted, ProviderCallID: "prov-3", DurationS: 231.5, RecordingURL: "https://rec.example/3.mp3"}}
	ended := store.OutboxItem{Kind: store.OutboxWriteback, Integration: "hubspot", CallID: done.ID, AgentID: "sales",
		Body: []byte(`{"outcome":"completed"}`), Event: "call_ended", NextAt: t0.Add(5 * time.Minute)}
	must(s.UpdateCall(ctx, done, []store.OutboxItem{ended}))
	out.calls["completed"] = done

	retry := out.calls["retry"]
	retry.Status, retry.Reason, retry.NextAttemptAt, retry.UpdatedAt = store.CallRetryScheduled, "no answer; retry 1 of 2", at(2*time.Hour), t0.Add(time.Minute)
	retry.Attempts = []store.Attempt{{N: 1, StartedAt: t0, PlacedAt: at(time.Second), EndedAt: at(time.Minute), Outcome: store.OutcomeNoAnswer}}
	must(s.UpdateCall(ctx, retry, nil))
	out.calls["retry"] = retry

	// The outbox: one dead letter besides the items the calls wrote.
	dead := store.OutboxItem{ID: s.NewID(t0), Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/gone", Body: []byte(`{}`),
		CallID: done.ID, Event: "call_ended", NextAt: t0}
	must(s.EnqueueOutbox(ctx, dead))
	dead.Attempts, dead.Dead, dead.LastError, dead.UpdatedAt = 8, true, "410 Gone", t0.Add(time.Hour)
	must(s.UpdateOutbox(ctx, dead))

	must(s.AddDND(ctx, "+4930000009", "asked not to be called", t0))
	must(s.AddDND(ctx, "+4930000008", "", t0.Add(time.Second)))
	recs := []store.ListedRecord{
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "pending", CreatedAt: t0.Add(-time.Hour)},
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "never-came", CreatedAt: t0.Add(-30 * time.Minute)},
	}
	must(s.RecordListing(ctx, "hubspot", "created", t0.Add(-time.Minute), recs, t0.Add(-24*time.Hour)))
	must(s.RecordListing(ctx, "hubspot", "modified", t0.Add(-2*time.Minute), nil, t0.Add(-24*time.Hour)))
	return out
}

// snapshot is everything a store answers about its records, as JSON.
func snapshot(t *testing.T, s store.Store) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	put := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(name + ": " + string(raw) + "\n")
	}
	evs, _, err := s.ListEvents(ctx, store.EventFilter{Limit: 1000})
	put("events", evs, err)
	for _, ev := range evs {
		got, err := s.GetEvent(ctx, ev.ID)
		put("event "+ev.ID, got, err)
	}
	n, err := s.PendingEvents(ctx)
	put("pending", n, err)
	calls, _, err := s.ListCalls(ctx, store.CallFilter{Limit: 1000})
	put("calls", calls, err)
	for _, c := range calls {
		got, err := s.GetCall(ctx, c.ID)
		put("call "+c.ID, got, err)
	}
	for _, st := range []string{store.CallScheduled, store.CallDialing, store.CallRetryScheduled, store.CallCompleted} {
		n, err := s.CountCalls(ctx, store.CallFilter{Status: st})
		put("count "+st, n, err)
	}
	due, err := s.DueCalls(ctx, "d1", t0.Add(3*time.Hour), 100)
	put("due d1", due, err)
	dialers, err := s.DueDialers(ctx)
	put("due dialers", dialers, err)
	next, ok, err := s.NextLease(ctx)
	put("next lease", []any{next, ok}, err)
	active, err := s.ActiveCalls(ctx, "", "+4930000002")
	put("active", active, err)
	items, _, err := s.ListOutbox(ctx, store.OutboxFilter{Limit: 1000})
	put("outbox", items, err)
	pending, deadN, err := s.OutboxDepth(ctx)
	put("outbox depth", []int{pending, deadN}, err)
	dnd, err := s.ListDND(ctx)
	put("dnd", dnd, err)
	for _, l := range []string{"created", "modified"} {
		at, err := s.Checkpoint(ctx, "hubspot", l)
		put("checkpoint "+l, at, err)
	}
	listed, err := s.ListedRecords(ctx, "", time.Time{}, t0.Add(time.Hour))
	put("listed", listed, err)
	ids, err := s.EventsForObject(ctx, "hubspot", "contact", "pending")
	put("events for object", ids, err)
	return b.String()
}

func TestCopyBoltToPostgres(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := bolt.Open(bolt.Options{Dir: dir, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	fixture := fillBolt(t, src)
	want := snapshot(t, src)
	wantCounts := store.CopyCounts{Events: 8, Keys: 8, Calls: 4, Contacts: 2, Outbox: 3, DND: 2, Checkpoints: 2, Listed: 2}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}

	file, err := bolt.OpenFile(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	dst := open(t, pgtest.URL(t), "replica-a")
	for run := 1; run <= 2; run++ {
		var progress []int
		counts, err := store.Copy(ctx, file, dst, 5, func(c store.CopyCounts) { progress = append(progress, c.Total()) })
		if err != nil {
			t.Fatalf("copy %d: %v", run, err)
		}
		if counts != wantCounts {
			t.Fatalf("copy %d moved %+v, want %+v", run, counts, wantCounts)
		}
		if want := []int{5, 10, 15, 20, 25, 30, 31}; !slices.Equal(progress, want) {
			t.Errorf("copy %d reported progress %v, want %v", run, progress, want)
		}
		if got := snapshot(t, dst); got != want {
			t.Fatalf("copy %d: PostgreSQL answers differently from the bbolt file:\n%s", run, diffLines(want, got))
		}
	}

	t.Run("a copied key is still a duplicate", func(t *testing.T) {
		again := event("key-called")
		res, err := dst.AppendEvents(ctx, []store.Event{again}, store.AppendOptions{Now: t0.Add(time.Minute)})
		if err != nil || !res.Duplicate[0] || res.Events[0].ID != fixture.events["called"].ID {
			t.Fatalf("append of a copied key: %+v, %v", res, err)
		}
	})
	t.Run("the contact's dedupe window holds", func(t *testing.T) {
		c := fixture.calls["scheduled"]
		c.ID, c.ToNumber = "", "+4930000099"
		got, created, err := dst.CreateCall(ctx, c, store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: time.Hour, Now: t0.Add(10 * time.Minute)})
		if err != nil || created || got.ID != fixture.calls["scheduled"].ID {
			t.Fatalf("a call for a copied contact within the window: created=%v id=%s, %v", created, got.ID, err)
		}
	})
	t.Run("one active call per number holds", func(t *testing.T) {
		c := fixture.calls["retry"]
		c.ID = ""
		got, created, err := dst.CreateCall(ctx, c, store.CreateOptions{Now: t0.Add(10 * time.Minute)})
		if err != nil || created || got.ID != fixture.calls["retry"].ID {
			t.Fatalf("a second call to a copied active number: created=%v id=%s, %v", created, got.ID, err)
		}
	})
	t.Run("pending and leased events are claimable", func(t *testing.T) {
		got, err := dst.ClaimEvents(ctx, t0.Add(time.Second), time.Minute, 100)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{fixture.events["pending"].ID, fixture.events["leased"].ID}
		slices.Sort(want)
		if ids := idsOf(got); !slices.Equal(ids, want) {
			t.Fatalf("claimed %v, want the pending and the leased event %v", ids, want)
		}
	})
	t.Run("the scheduled call is claimable", func(t *testing.T) {
		got, err := dst.ClaimDue(ctx, "d1", t0.Add(time.Second), 10, func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
			c.Status, c.NextAttemptAt, c.LeaseUntil = store.CallDialing, nil, &t0
			return true, nil, nil
		})
		if err != nil || len(got) != 1 || got[0].ID != fixture.calls["scheduled"].ID {
			t.Fatalf("ClaimDue on d1: %v, %v", got, err)
		}
	})
	t.Run("the dialing call is recovered as after a restart", func(t *testing.T) {
		id := fixture.calls["dialing"].ID
		lease := *fixture.calls["dialing"].LeaseUntil
		// Its owner, "copied", is no replica that beats: orphaned at once.
		got, err := dst.OrphanedDialing(ctx, lease.Add(-time.Second))
		if err != nil || !slices.Contains(callIDs(got), id) {
			t.Fatalf("OrphanedDialing before the lease's end: %v, %v; want %s", callIDs(got), err, id)
		}
		expired, err := dst.ExpiredLeases(ctx, lease, 10)
		if err != nil || !slices.Contains(expired, id) {
			t.Fatalf("ExpiredLeases at the lease's end: %v, %v; want %s", expired, err, id)
		}
		conn, err := pgx.Connect(ctx, postgres.URLOf(dst))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var owner string
		if err := conn.QueryRow(ctx, "SELECT lease_owner FROM calls WHERE id = $1", id).Scan(&owner); err != nil || owner != postgres.CopiedOwner {
			t.Fatalf("lease owner %q, %v; want %q", owner, err, postgres.CopiedOwner)
		}
	})
}

func idsOf(evs []store.Event) []string {
	var ids []string
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	slices.Sort(ids)
	return ids
}

func callIDs(calls []store.Call) []string {
	var ids []string
	for _, c := range calls {
		ids = append(ids, c.ID)
	}
	return ids
}

// diffLines shows the first lines where want and got differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 20; i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			out = append(out, "- "+a, "+ "+b)
		}
	}
	return strings.Join(out, "\n")
}
