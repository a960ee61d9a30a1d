package bolt

import (
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// signalled reports whether ch holds a signal, and drains it.
func signalled(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestChanges: each commit that makes work signals its topic once it
// committed; a commit that makes none signals nothing.
func TestChanges(t *testing.T) {
	db := openTest(t)
	inbox, outbox, voice := db.Changes(store.TopicInbox), db.Changes(store.TopicOutbox), db.Changes(store.TopicDialer("voice"))
	if db.Changes(store.TopicInbox) != inbox {
		t.Fatal("Changes returned a second channel for one topic")
	}

	c, _, err := db.CreateCall(ctx, newCall("sales", "+14155550123"), store.CreateOptions{Now: t0,
		Outbox: []store.OutboxItem{obHook("", t0)}})
	if err != nil {
		t.Fatal(err)
	}
	if !signalled(voice) || !signalled(outbox) || signalled(inbox) {
		t.Fatal("creating a due call with a notification signals its dialer and the outbox, not the inbox")
	}
	if _, err := db.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		later := t0.Add(time.Hour)
		c.NextAttemptAt = &later
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if signalled(voice) {
		t.Error("moving a call later woke its lane")
	}
	if _, err := db.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.NextAttemptAt = &t0
		return nil, nil
	}); err != nil || !signalled(voice) {
		t.Errorf("moving a call earlier did not wake its lane (%v)", err)
	}

	res, err := db.AppendEvents(ctx, []store.Event{ev("a")}, store.AppendOptions{Now: t0})
	if err != nil || !signalled(inbox) {
		t.Fatalf("an append did not signal the inbox (%v)", err)
	}
	if _, err := db.AppendEvents(ctx, []store.Event{ev("a")}, store.AppendOptions{Now: t0}); err != nil || signalled(inbox) {
		t.Errorf("a duplicate signalled the inbox (%v)", err)
	}
	claimed, err := db.ClaimEvents(ctx, t0, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != res.Events[0].ID {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	retry := claimed[0]
	retry.NotBefore = db.now().Add(time.Hour)
	if err := db.SaveEvents(ctx, []store.Event{retry}); err != nil || signalled(inbox) {
		t.Errorf("an event pending again later signalled the inbox (%v)", err)
	}
	retry.NotBefore = time.Time{}
	if err := db.SaveEvents(ctx, []store.Event{retry}); err != nil || !signalled(inbox) {
		t.Errorf("an event due again did not signal the inbox (%v)", err)
	}
}

// TestOrphanedDialing: a call left dialing by the last process is an
// orphan once the file is opened again, until it leaves dialing.
func TestOrphanedDialing(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := db.CreateCall(ctx, newCall("sales", "+14155550123"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	lease := t0.Add(time.Hour)
	claimed, err := db.ClaimDue(ctx, "voice", t0, 10, func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
		c.Status, c.NextAttemptAt, c.LeaseUntil = store.CallDialing, nil, &lease
		return true, nil, nil
	})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	if o, _ := db.OrphanedDialing(ctx, t0); len(o) != 0 {
		t.Fatalf("a call this process dials is an orphan: %v", o)
	}
	db.Close()

	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o, err := db.OrphanedDialing(ctx, t0)
	if err != nil || len(o) != 1 || o[0].ID != c.ID {
		t.Fatalf("after reopening: OrphanedDialing = %v, %v; want the call", o, err)
	}
	if n, _ := db.InFlight(ctx, "voice"); n != 1 {
		t.Errorf("InFlight = %d, want 1", n)
	}
	if _, err := db.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Status, c.LeaseUntil = store.CallFailed, nil
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if o, _ := db.OrphanedDialing(ctx, t0); len(o) != 0 {
		t.Errorf("a call that left dialing is still an orphan: %v", o)
	}
	if n, _ := db.InFlight(ctx, "voice"); n != 0 {
		t.Errorf("InFlight = %d after the call ended", n)
	}
}
