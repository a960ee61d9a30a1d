package bolt

import (
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

func TestDueIndexClaimAndLease(t *testing.T) {
	db := openTest(t)
	var ids []string
	for i, d := range []time.Duration{30 * time.Minute, 10 * time.Minute, 20 * time.Minute} {
		c := newCall("sales", "+1415555010"+string(rune('0'+i)))
		due := t0.Add(d)
		c.NextAttemptAt = &due
		c, _, err := db.CreateCall(ctx, c, store.CreateOptions{Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	other := newCall("sales", "+14155550200")
	other.Dialer = "backup"
	if _, _, err := db.CreateCall(ctx, other, store.CreateOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	next, ok, err := db.NextDue(ctx, "voice")
	if err != nil || !ok || !next.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("NextDue = %v %v %v, want t0+10m", next, ok, err)
	}
	dialers, _ := db.DueDialers(ctx)
	if len(dialers) != 2 || dialers[0] != "backup" || dialers[1] != "voice" {
		t.Fatalf("DueDialers = %v", dialers)
	}
	due, _ := db.DueCalls(ctx, "voice", t0.Add(25*time.Minute), 10)
	if len(due) != 2 || due[0].ID != ids[1] || due[1].ID != ids[2] {
		t.Fatalf("DueCalls: %d calls, want ids[1], ids[2] in due order", len(due))
	}
	lease := t0.Add(time.Hour)
	claimed, err := db.ClaimDue(ctx, "voice", t0.Add(25*time.Minute), 1, func(c *store.Call, _ bool) (bool, []store.OutboxItem, error) {
		c.Status, c.NextAttemptAt, c.LeaseUntil = store.CallDialing, nil, &lease
		c.Attempts = append(c.Attempts, store.Attempt{N: 1, StartedAt: t0})
		return true, nil, nil
	})
	if err != nil || len(claimed) != 1 || claimed[0].ID != ids[1] {
		t.Fatalf("ClaimDue = %v, %v", claimed, err)
	}
	next, _, _ = db.NextDue(ctx, "voice")
	if !next.Equal(t0.Add(20 * time.Minute)) {
		t.Fatalf("after claim NextDue = %v, want t0+20m", next)
	}
	if l, ok, _ := db.NextLease(ctx); !ok || !l.Equal(lease) {
		t.Fatalf("NextLease = %v %v", l, ok)
	}
	if exp, _ := db.ExpiredLeases(ctx, lease.Add(-time.Second), 10); len(exp) != 0 {
		t.Fatalf("lease expired early: %v", exp)
	}
	if exp, _ := db.ExpiredLeases(ctx, lease, 10); len(exp) != 1 || exp[0] != ids[1] {
		t.Fatalf("ExpiredLeases = %v", exp)
	}
	if n, err := db.InFlight(ctx, "voice"); n != 1 || err != nil {
		t.Fatalf("InFlight = %d, %v; want 1", n, err)
	}
	if orphans, err := db.OrphanedDialing(ctx, lease); len(orphans) != 0 || err != nil {
		t.Fatalf("OrphanedDialing = %v, %v: the call was dialed by this process", orphans, err)
	}
	t.Run("active calls", func(t *testing.T) {
		for _, tt := range []struct {
			agent, number string
			want          int
		}{{"sales", "+14155550101", 1}, {"", "+14155550101", 1}, {"support", "+14155550101", 0}, {"", "+19999999999", 0}} {
			got, err := db.ActiveCalls(ctx, tt.agent, tt.number)
			if err != nil || len(got) != tt.want {
				t.Errorf("ActiveCalls(%q, %q) = %d, %v; want %d", tt.agent, tt.number, len(got), err, tt.want)
			}
		}
	})
}

// TestClaimDueReadsDND: ClaimDue tells its func, for each due call, whether
// the call's number is on the DND list as of the claim's transaction, and
// commits the func's outbox items with its change.
func TestClaimDueReadsDND(t *testing.T) {
	db := openTest(t)
	listed, clear := newCall("sales", "+14155550101"), newCall("sales", "+14155550102")
	for _, c := range []*store.Call{&listed, &clear} {
		due := t0
		c.NextAttemptAt = &due
		got, _, err := db.CreateCall(ctx, *c, store.CreateOptions{Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		*c = got
	}
	if err := db.AddDND(ctx, "+14155550101", "", t0); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	claimed, err := db.ClaimDue(ctx, "voice", t0, 10, func(c *store.Call, dnd bool) (bool, []store.OutboxItem, error) {
		seen[c.ID] = dnd
		if dnd {
			c.Status, c.Reason, c.NextAttemptAt = store.CallBlocked, "on the list", nil
			return false, []store.OutboxItem{{Kind: store.OutboxWebhook, URL: "https://crm-sync.example.com/", CallID: c.ID, Event: "call_ended", NextAt: t0}}, nil
		}
		return false, nil, store.ErrNoChange
	})
	if err != nil || len(claimed) != 0 {
		t.Fatalf("ClaimDue = %d claimed, %v", len(claimed), err)
	}
	if len(seen) != 2 || !seen[listed.ID] || seen[clear.ID] {
		t.Fatalf("dnd flags = %v, want true for %s only", seen, listed.ID)
	}
	if c, _ := db.GetCall(ctx, listed.ID); c.Status != store.CallBlocked {
		t.Fatalf("listed call = %s", c.Status)
	}
	if items, _, _ := db.ListOutbox(ctx, store.OutboxFilter{CallID: listed.ID}); len(items) != 1 {
		t.Fatalf("outbox = %d items, want the final notification", len(items))
	}
	if next, ok, _ := db.NextDue(ctx, "voice"); !ok || !next.Equal(t0) {
		t.Fatalf("the unlisted call left the due index: %v %v", next, ok)
	}
}
