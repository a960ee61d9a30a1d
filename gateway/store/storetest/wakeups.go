package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var wakeupTests = []subtest{
	{"Outbox", testWakeOutbox},
	{"Inbox", testWakeInbox},
	{"Dialer", testWakeDialer},
	{"AcrossProcesses", testWakePeer},
}

// wakeTimeout bounds the wait for a wake-up: generous, since a shared
// backend's signal crosses the database.
const wakeTimeout = 5 * time.Second

// drain empties ch of a signal left by earlier commits.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// woken fails t unless ch signals within wakeTimeout, then checks that
// what the signal announces is visible.
func woken(t *testing.T, ch <-chan struct{}, what string, visible func() bool) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wakeTimeout):
		t.Fatalf("no wake-up within %v after %s", wakeTimeout, what)
	}
	if !visible() {
		t.Errorf("woken after %s, but the change is not visible yet: a wake-up must follow the commit", what)
	}
}

func checkCap(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	if ch == nil {
		t.Fatal("Changes returned a nil channel")
	}
	if cap(ch) > 1 {
		t.Errorf("a Changes channel holds %d signals, want at most one", cap(ch))
	}
}

// testWakeOutbox: items committed on their own or with a call change
// wake the deliverer.
func testWakeOutbox(t *testing.T, h Harness) {
	s := h.Open(t)
	ch := s.Changes(store.TopicOutbox)
	checkCap(t, ch)
	it := hook(s, "", t0)
	drain(ch)
	must(t, s.EnqueueOutbox(ctx(t), it))
	woken(t, ch, "EnqueueOutbox", func() bool { _, err := s.GetOutbox(ctx(t), it.ID); return err == nil })

	c := createCall(t, s, newCall("sales", "+14155550101"), store.CreateOptions{Now: t0})
	drain(ch)
	c.Status, c.Reason, c.NextAttemptAt = store.CallCanceled, "operator", nil
	it2 := hook(s, c.ID, t0)
	must(t, s.UpdateCall(ctx(t), c, []store.OutboxItem{it2}))
	woken(t, ch, "UpdateCall with an outbox item", func() bool { _, err := s.GetOutbox(ctx(t), it2.ID); return err == nil })

	drain(ch)
	it3 := hook(s, c.ID, t0)
	_, err := s.MutateCall(ctx(t), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Reason = "operator, twice"
		return []store.OutboxItem{it3}, nil
	})
	must(t, err)
	woken(t, ch, "MutateCall with an outbox item", func() bool { _, err := s.GetOutbox(ctx(t), it3.ID); return err == nil })

	drain(ch)
	it4 := hook(s, "", t0)
	_, _, err = s.CreateCall(ctx(t), newCall("sales", "+14155550102"), store.CreateOptions{Now: t0, Outbox: []store.OutboxItem{it4}})
	must(t, err)
	woken(t, ch, "CreateCall with an outbox item", func() bool { _, err := s.GetOutbox(ctx(t), it4.ID); return err == nil })
}

// testWakeInbox: events becoming due (appended, replayed, woken orphans)
// wake the pipeline.
func testWakeInbox(t *testing.T, h Harness) {
	s := h.Open(t)
	ch := s.Changes(store.TopicInbox)
	checkCap(t, ch)
	drain(ch)
	res := appendAt(t, s, t0, event("a"))
	woken(t, ch, "AppendEvents", func() bool {
		_, err := s.GetEvent(ctx(t), res.Events[0].ID)
		return err == nil
	})
	got := claim(t, s, t0, time.Minute, 1)
	got[0].Status, got[0].Reason, got[0].UpdatedAt = store.EventFailed, "token rejected (401)", t0
	must(t, s.SaveEvents(ctx(t), got))
	drain(ch)
	_, err := s.ReplayEvent(ctx(t), got[0].ID, t0.Add(time.Minute))
	must(t, err)
	woken(t, ch, "ReplayEvent", func() bool { return len(claim(t, s, t0.Add(time.Minute), time.Minute, 1)) == 1 })

	orphan := claim(t, s, t0.Add(time.Hour), time.Minute, 1)
	if len(orphan) != 1 {
		t.Fatalf("claimed %d, want the replayed event", len(orphan))
	}
	orphan[0].OrphanedAt, orphan[0].NotBefore, orphan[0].UpdatedAt = t0, t0.Add(2*time.Hour), t0.Add(time.Hour)
	must(t, s.SaveEvents(ctx(t), orphan))
	drain(ch)
	if n, err := s.WakeOrphans(ctx(t), t0.Add(time.Hour), func(string, string) bool { return true }); err != nil || n != 1 {
		t.Fatalf("WakeOrphans = %d %v", n, err)
	}
	woken(t, ch, "WakeOrphans", func() bool { return len(claim(t, s, t0.Add(time.Hour), time.Minute, 1)) == 1 })
}

// testWakeDialer: a call becoming due on a dialer wakes that dialer's lane.
func testWakeDialer(t *testing.T, h Harness) {
	s := h.Open(t)
	ch := s.Changes(store.TopicDialer("voice"))
	checkCap(t, ch)
	drain(ch)
	c := scheduleAt(t, s, "voice", "+14155550101", t0)
	woken(t, ch, "CreateCall of a due call", func() bool {
		due, _ := s.DueCalls(ctx(t), "voice", t0, 10)
		return len(due) == 1
	})
	drain(ch)
	_, err := s.CreateCalls(ctx(t), []store.NewCall{{Call: newCall("sales", "+14155550102"), Options: store.CreateOptions{Now: t0}}})
	must(t, err)
	woken(t, ch, "CreateCalls", func() bool {
		due, _ := s.DueCalls(ctx(t), "voice", t0, 10)
		return len(due) == 2
	})
	if _, err := s.ClaimDue(ctx(t), "voice", t0, 1, dial(t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	drain(ch)
	_, err = s.MutateCall(ctx(t), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		retry := t0.Add(time.Minute)
		c.Status, c.LeaseUntil, c.NextAttemptAt = store.CallRetryScheduled, nil, &retry
		return nil, nil
	})
	must(t, err)
	woken(t, ch, "MutateCall to retry_scheduled", func() bool {
		due, _ := s.DueCalls(ctx(t), "voice", t0.Add(time.Minute), 10)
		return len(due) == 2
	})
}

// testWakePeer: on a shared store, a commit by one replica wakes the
// others.
func testWakePeer(t *testing.T, h Harness) {
	s := h.Open(t)
	p := peer(t, h, s)
	for _, tc := range []struct {
		topic string
		do    func() func() bool
	}{
		{store.TopicOutbox, func() func() bool {
			it := hook(p, "", t0)
			must(t, p.EnqueueOutbox(ctx(t), it))
			return func() bool {
				got, err := s.GetOutbox(ctx(t), it.ID)
				return err == nil && bytes.Equal(got.Body, it.Body)
			}
		}},
		{store.TopicInbox, func() func() bool {
			id := appendAt(t, p, t0, event("from-peer")).Events[0].ID
			return func() bool { _, err := s.GetEvent(ctx(t), id); return err == nil }
		}},
		{store.TopicDialer("voice"), func() func() bool {
			c := scheduleAt(t, p, "voice", "+14155550101", t0)
			return func() bool { _, err := s.GetCall(ctx(t), c.ID); return err == nil }
		}},
	} {
		ch := s.Changes(tc.topic)
		drain(ch)
		visible := tc.do()
		woken(t, ch, "a commit by another process on "+tc.topic, visible)
	}
}
