package bolt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func newCall(agent, number string) store.Call {
	next := t0
	return store.Call{AgentID: agent, ToNumber: number, Status: store.CallScheduled, Dialer: "voice", NextAttemptAt: &next,
		Variables: map[string]string{"firstname": "Ada"}}
}

func TestCreateCallDedupe(t *testing.T) {
	db := openTest(t)
	first, created, err := db.CreateCall(ctx, newCall("sales", "+14155550123"), store.CreateOptions{ContactKey: "hubspot:1:contact:7", DedupeWindow: 24 * time.Hour, Now: t0})
	if err != nil || !created || first.ID == "" {
		t.Fatalf("first create: %v %v %+v", err, created, first)
	}
	tests := []struct {
		name        string
		agent, num  string
		contact     string
		now         time.Time
		wantCreated bool
	}{
		{"same contact inside window", "sales", "+14155550999", "hubspot:1:contact:7", t0.Add(23 * time.Hour), false},
		{"same active number, other contact", "sales", "+14155550123", "hubspot:1:contact:8", t0.Add(time.Minute), false},
		{"same number other agent", "support", "+14155550123", "hubspot:1:contact:7", t0.Add(time.Minute), true},
		{"same contact after window, other number", "sales", "+14155550777", "hubspot:1:contact:7", t0.Add(25 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, created, err := db.CreateCall(ctx, newCall(tt.agent, tt.num), store.CreateOptions{ContactKey: tt.contact, DedupeWindow: 24 * time.Hour, Now: tt.now})
			if err != nil {
				t.Fatal(err)
			}
			if created != tt.wantCreated {
				t.Fatalf("created = %v, want %v", created, tt.wantCreated)
			}
			if !created && c.ID != first.ID {
				t.Fatalf("duplicate returned %s, want the first call %s", c.ID, first.ID)
			}
		})
	}
	t.Run("final call frees the number", func(t *testing.T) {
		first.Status, first.Reason, first.NextAttemptAt = store.CallCompleted, "connected", nil
		if err := db.UpdateCall(ctx, first, nil); err != nil {
			t.Fatal(err)
		}
		_, created, err := db.CreateCall(ctx, newCall("sales", "+14155550123"), store.CreateOptions{ContactKey: "hubspot:1:contact:9", DedupeWindow: 24 * time.Hour, Now: t0.Add(time.Hour)})
		if err != nil || !created {
			t.Fatalf("created=%v err=%v, want a new call once the first is final", created, err)
		}
	})
}

// TestCreateCallMatchesALegacyContactKey: a call stored under the older
// key (with the account) is found by a create that names it as legacy,
// inside the window only; the legacy key is never written.
func TestCreateCallMatchesALegacyContactKey(t *testing.T) {
	db := openTest(t)
	old, _, err := db.CreateCall(ctx, newCall("sales", "+14155550123"), store.CreateOptions{ContactKey: "hubspot:62515:contact:7", DedupeWindow: 24 * time.Hour, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	o := store.CreateOptions{ContactKey: "hubspot::contact:7", LegacyContactKey: "hubspot:62515:contact:7", DedupeWindow: 24 * time.Hour, Now: t0.Add(time.Hour)}
	if c, created, err := db.CreateCall(ctx, newCall("sales", "+14155550999"), o); err != nil || created || c.ID != old.ID {
		t.Fatalf("inside the window: created=%v (%v), want the legacy call %s, got %s", created, err, old.ID, c.ID)
	}
	o.Now = t0.Add(25 * time.Hour)
	fresh, created, err := db.CreateCall(ctx, newCall("sales", "+14155550888"), o)
	if err != nil || !created {
		t.Fatalf("after the window: created=%v (%v)", created, err)
	}
	// The new key now leads to the fresh call.
	o.Now, o.LegacyContactKey = t0.Add(26*time.Hour), ""
	if c, created, _ := db.CreateCall(ctx, newCall("sales", "+14155550777"), o); created || c.ID != fresh.ID {
		t.Fatalf("the new key was not written: created=%v, got %s want %s", created, c.ID, fresh.ID)
	}
}

func TestGetCallNotFound(t *testing.T) {
	db := openTest(t)
	if _, err := db.GetCall(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// seed makes n calls, round-robin over agents and statuses, one minute apart.
func seed(t testing.TB, db *Store, n int) []store.Call {
	agents := []string{"sales", "support", "renewals"}
	statuses := []string{store.CallScheduled, store.CallCompleted, store.CallFailed, store.CallCanceled}
	batch := make([]store.NewCall, n)
	for i := range batch {
		c := newCall(agents[i%3], fmt.Sprintf("+9198%08d", i))
		c.Status = statuses[i%4]
		if store.Final(c.Status) {
			c.NextAttemptAt = nil
		}
		batch[i] = store.NewCall{Call: c, Options: store.CreateOptions{Now: t0.Add(time.Duration(i) * time.Minute)}}
	}
	res, err := db.CreateCalls(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]store.Call, n)
	for i, r := range res {
		out[i] = r.Call
	}
	return out
}

func TestListCallsFiltersAndPages(t *testing.T) {
	db := openTest(t)
	all := seed(t, db, 120)
	want := func(keep func(i int, c store.Call) bool) []string {
		var ids []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(i, all[i]) {
				ids = append(ids, all[i].ID)
			}
		}
		return ids
	}
	tests := []struct {
		name string
		f    store.CallFilter
		want []string
	}{
		{"all", store.CallFilter{}, want(func(int, store.Call) bool { return true })},
		{"agent", store.CallFilter{AgentID: "sales"}, want(func(_ int, c store.Call) bool { return c.AgentID == "sales" })},
		{"status", store.CallFilter{Status: store.CallFailed}, want(func(_ int, c store.Call) bool { return c.Status == store.CallFailed })},
		{"agent and status", store.CallFilter{AgentID: "support", Status: store.CallScheduled}, want(func(_ int, c store.Call) bool { return c.AgentID == "support" && c.Status == store.CallScheduled })},
		{"phone", store.CallFilter{Phone: all[17].ToNumber}, []string{all[17].ID}},
		{"phone and other agent", store.CallFilter{Phone: all[17].ToNumber, AgentID: "nobody"}, nil},
		{"since until", store.CallFilter{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute)}, want(func(i int, _ store.Call) bool { return i >= 10 && i < 20 })},
		{"agent since", store.CallFilter{AgentID: "renewals", Since: t0.Add(100 * time.Minute)}, want(func(i int, c store.Call) bool { return i >= 100 && c.AgentID == "renewals" })},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 7, 50, 1000} {
			t.Run(fmt.Sprintf("%s/limit=%d", tt.name, limit), func(t *testing.T) {
				f := tt.f
				f.Limit = limit
				var got []string
				for pages := 0; ; pages++ {
					if pages > 200 {
						t.Fatal("pagination does not end")
					}
					calls, next, err := db.ListCalls(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(calls) > limit {
						t.Fatalf("page of %d > limit %d", len(calls), limit)
					}
					for _, c := range calls {
						got = append(got, c.ID)
					}
					if next == "" {
						break
					}
					f.Cursor = next
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("got %d ids %v\nwant %d ids %v", len(got), got, len(tt.want), tt.want)
				}
				n, err := db.CountCalls(ctx, tt.f)
				if err != nil || n != len(tt.want) {
					t.Fatalf("CountCalls = %d, %v; want %d", n, err, len(tt.want))
				}
			})
		}
	}
	t.Run("bad cursor", func(t *testing.T) {
		if _, _, err := db.ListCalls(ctx, store.CallFilter{Cursor: "!!"}); !errors.Is(err, store.ErrBadCursor) {
			t.Fatalf("err = %v, want ErrBadCursor", err)
		}
	})
}

func TestStatusIndexFollowsUpdates(t *testing.T) {
	db := openTest(t)
	c, _, err := db.CreateCall(ctx, newCall("sales", "+14155550123"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	c, err = db.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Status, c.Reason, c.NextAttemptAt = store.CallCanceled, "operator", nil
		return []store.OutboxItem{{Kind: store.OutboxWebhook, URL: "http://127.0.0.1/x", Body: []byte(`{}`), NextAt: t0}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]int{store.CallScheduled: 0, store.CallCanceled: 1} {
		if n, _ := db.CountCalls(ctx, store.CallFilter{Status: status}); n != want {
			t.Errorf("%s: %d calls, want %d", status, n, want)
		}
	}
	if _, ok, _ := db.NextDue(ctx, "voice"); ok {
		t.Error("a canceled call is still in the due index")
	}
	if _, err := db.MutateCall(ctx, c.ID, func(*store.Call) ([]store.OutboxItem, error) { return nil, store.ErrNoChange }); !errors.Is(err, store.ErrNoChange) {
		t.Errorf("err = %v, want ErrNoChange", err)
	}
}

func TestDND(t *testing.T) {
	db := openTest(t)
	if err := db.AddDND(ctx, "+14155550123", "asked us to stop", t0); err != nil {
		t.Fatal(err)
	}
	if err := db.AddDND(ctx, "+14155550123", "again", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	on, err := db.IsDND(ctx, "+14155550123")
	if err != nil || !on {
		t.Fatalf("IsDND = %v, %v", on, err)
	}
	list, _ := db.ListDND(ctx)
	if len(list) != 1 || list[0].Note != "again" || !list[0].AddedAt.Equal(t0) {
		t.Fatalf("list = %+v", list)
	}
	if err := db.RemoveDND(ctx, "+14155550123"); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveDND(ctx, "+14155550123"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second remove: %v, want ErrNotFound", err)
	}
	if on, _ := db.IsDND(ctx, "+14155550123"); on {
		t.Fatal("still on DND after remove")
	}
}

// ctx is the context of the tests' store calls.
var ctx = context.Background()

// pending reads db's count of pending events.
func pending(t testing.TB, db *Store) int {
	t.Helper()
	n, err := db.PendingEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
