package bolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

func openOutboxDB(t testing.TB) *Store {
	t.Helper()
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var ob0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func obHook(id string, at time.Time) store.OutboxItem {
	return store.OutboxItem{ID: id, Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: []byte(`{"n":1}`), NextAt: at}
}

func obIDs(items []store.OutboxItem) string {
	var s string
	for _, it := range items {
		s += it.ID + ","
	}
	return s
}

func TestOutboxDueOrderAndReschedule(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(ctx, obHook("c", ob0.Add(2*time.Minute)), obHook("a", ob0), obHook("b", ob0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  string
	}{
		{"before any", ob0.Add(-time.Second), 10, ""},
		{"at the first", ob0, 10, "a,"},
		{"two due", ob0.Add(time.Minute), 10, "a,b,"},
		{"all due, limit", ob0.Add(time.Hour), 2, "a,b,"},
		{"all due", ob0.Add(time.Hour), 10, "a,b,c,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dueOutbox(t, db, tt.now, tt.limit)
			if err != nil || obIDs(got) != tt.want {
				t.Fatalf("DueOutbox = %s, %v; want %s", obIDs(got), err, tt.want)
			}
		})
	}
	// A failed try moves a later; the old due key must not linger.
	a, err := db.GetOutbox(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Attempts, a.NextAt, a.LastError = 1, ob0.Add(90*time.Second), "receiver answered 500"
	if err := db.UpdateOutbox(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, _ := dueOutbox(t, db, ob0.Add(time.Minute), 10)
	if obIDs(got) != "b," {
		t.Fatalf("after reschedule: %s", obIDs(got))
	}
	got, _ = dueOutbox(t, db, ob0.Add(2*time.Minute), 10)
	if obIDs(got) != "b,a,c," || got[1].Attempts != 1 || got[1].LastError == "" {
		t.Fatalf("after reschedule: %s %+v", obIDs(got), got)
	}
	if at, ok, err := db.NextOutboxAt(ctx); err != nil || !ok || !at.Equal(ob0.Add(time.Minute)) {
		t.Fatalf("NextOutboxAt = %v %v %v", at, ok, err)
	}
}

func TestOutboxDeadLettersAndRetry(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(ctx, obHook("a", ob0), obHook("b", ob0)); err != nil {
		t.Fatal(err)
	}
	a, _ := db.GetOutbox(ctx, "a")
	a.Dead, a.Attempts, a.LastError = true, 12, "receiver answered 503"
	if err := db.UpdateOutbox(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := dueOutbox(t, db, ob0.Add(time.Hour), 10); obIDs(got) != "b," {
		t.Fatalf("a dead letter is due: %s", obIDs(got))
	}
	if p, d, err := db.OutboxDepth(ctx); p != 1 || d != 1 || err != nil {
		t.Fatalf("depth = %d pending, %d dead, %v", p, d, err)
	}
	yes := true
	dead, next, err := db.ListOutbox(ctx, store.OutboxFilter{Dead: &yes})
	if err != nil || obIDs(dead) != "a," || next != "" || dead[0].LastError != "receiver answered 503" {
		t.Fatalf("ListOutbox(dead) = %+v %q %v", dead, next, err)
	}
	if err := db.RetryOutbox(ctx, "a", ob0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ := dueOutbox(t, db, ob0.Add(2*time.Hour), 10)
	if obIDs(got) != "b,a," || got[1].Dead || got[1].Attempts != 0 {
		t.Fatalf("after retry: %+v", got)
	}
	if err := db.RetryOutbox(ctx, "nope", ob0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RetryOutbox(missing) = %v", err)
	}
	if err := db.UpdateOutbox(ctx, obHook("nope", ob0)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateOutbox(missing) = %v", err)
	}
}

func TestOutboxDelete(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(ctx, obHook("a", ob0)); err != nil {
		t.Fatal(err)
	}
	for range 2 { // at least once: deleting twice is fine
		if err := db.DeleteOutbox(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := dueOutbox(t, db, ob0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("deleted item still due: %s", obIDs(got))
	}
	if _, err := db.GetOutbox(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetOutbox = %v", err)
	}
	if _, ok, _ := db.NextOutboxAt(ctx); ok {
		t.Fatal("NextOutboxAt reports an item in an empty outbox")
	}
}

func TestOutboxListPages(t *testing.T) {
	db := openOutboxDB(t)
	var items []store.OutboxItem
	for i := range 7 {
		it := obHook(fmt.Sprintf("i%d", i), ob0)
		if i%2 == 1 {
			it.Kind, it.URL, it.Integration = store.OutboxWriteback, "", "hubspot"
		}
		it.CallID = fmt.Sprintf("call%d", i%3)
		items = append(items, it)
	}
	if err := db.EnqueueOutbox(ctx, items...); err != nil {
		t.Fatal(err)
	}
	var all []store.OutboxItem
	cursor := ""
	for pages := 0; ; pages++ {
		page, next, err := db.ListOutbox(ctx, store.OutboxFilter{Cursor: cursor, Limit: 3})
		if err != nil || pages > 3 {
			t.Fatal(err, pages)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if obIDs(all) != "i0,i1,i2,i3,i4,i5,i6," {
		t.Fatalf("pages = %s", obIDs(all))
	}
	wb, _, _ := db.ListOutbox(ctx, store.OutboxFilter{Kind: store.OutboxWriteback})
	if obIDs(wb) != "i1,i3,i5," {
		t.Fatalf("writebacks = %s", obIDs(wb))
	}
	c1, _, _ := db.ListOutbox(ctx, store.OutboxFilter{CallID: "call1"})
	if obIDs(c1) != "i1,i4," {
		t.Fatalf("call1 = %s", obIDs(c1))
	}
}

func TestPutOutboxIsPartOfTheCallersTransaction(t *testing.T) {
	db := openOutboxDB(t)
	boom := errors.New("call update failed")
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		if err := db.putOutbox(tx, []store.OutboxItem{obHook("a", ob0)}); err != nil {
			return err
		}
		return boom // the call change fails: its notification must not survive
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, _ := dueOutbox(t, db, ob0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("notification of a rolled-back change: %s", obIDs(got))
	}
	err = db.EnqueueOutbox(ctx, obHook("b", ob0), store.OutboxItem{ID: "c", Kind: "sms", NextAt: ob0})
	if err == nil {
		t.Fatal("unknown kind accepted")
	}
	if got, _ := dueOutbox(t, db, ob0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("half a batch committed: %s", obIDs(got))
	}
}

func TestPutOutboxFillsIDs(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(ctx, obHook("", ob0), obHook("", ob0)); err != nil {
		t.Fatal(err)
	}
	got, _ := dueOutbox(t, db, ob0, 10)
	if len(got) != 2 || got[0].ID == "" || got[0].ID == got[1].ID || !got[0].CreatedAt.Equal(ob0) {
		t.Fatalf("items = %+v", got)
	}
}

func TestOutboxSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueOutbox(ctx, obHook("a", ob0)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, _ := dueOutbox(t, db, ob0, 10); obIDs(got) != "a," || string(got[0].Body) != `{"n":1}` {
		t.Fatalf("after reopen: %+v", got)
	}
}

// TestOutboxCommittedSignalsAfterCommit: the deliverer is woken by a
// commit that wrote outbox items, never by one that rolled back, and
// signals collapse so it never falls behind a burst.
func TestOutboxCommittedSignalsAfterCommit(t *testing.T) {
	db := openOutboxDB(t)
	signalled := func() bool {
		select {
		case <-db.Changes(store.TopicOutbox):
			return true
		default:
			return false
		}
	}
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		if err := db.putOutbox(tx, []store.OutboxItem{obHook("a", ob0)}); err != nil {
			return err
		}
		if signalled() {
			t.Error("signalled before the commit")
		}
		return errors.New("rolled back")
	})
	if err == nil || signalled() {
		t.Fatalf("err %v; a rolled-back write signalled", err)
	}
	if err := db.EnqueueOutbox(ctx, obHook("b", ob0)); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueOutbox(ctx, obHook("c", ob0)); err != nil {
		t.Fatal(err)
	}
	if !signalled() {
		t.Fatal("no signal after committed outbox writes")
	}
	if signalled() {
		t.Fatal("two commits left two signals; they should collapse into one")
	}
	if err := db.bolt.Update(func(tx *bbolt.Tx) error { return db.putOutbox(tx, nil) }); err != nil || signalled() {
		t.Fatalf("err %v; a commit without outbox items signalled", err)
	}
}

// dueOutbox reads the items due at now, earliest first, without claiming
// them, so a test can look at what the deliverer would take.
func dueOutbox(t testing.TB, db *Store, now time.Time, limit int) ([]store.OutboxItem, error) {
	t.Helper()
	var out []store.OutboxItem
	end := dueKey(now, "\xff")
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketOutboxDue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, end) <= 0 && len(out) < limit; k, _ = c.Next() {
			var it store.OutboxItem
			if err := json.Unmarshal(tx.Bucket(bucketOutbox).Get(k[8:]), &it); err != nil {
				return err
			}
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// TestClaimOutboxLeases: a claimed item is not claimed again until its
// lease ends, then it is; an update after delivery settles it.
func TestClaimOutboxLeases(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(ctx, obHook("a", ob0), obHook("b", ob0.Add(time.Minute)), obHook("c", ob0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	now := ob0.Add(2 * time.Minute)
	got, err := db.ClaimOutbox(ctx, now, 30*time.Second, 10)
	if err != nil || obIDs(got) != "a,b," {
		t.Fatalf("first claim = %s, %v; want a,b,", obIDs(got), err)
	}
	for _, it := range got {
		if !it.NextAt.Equal(now.Add(30 * time.Second)) {
			t.Errorf("claimed %s: NextAt = %s, want the lease's end", it.ID, it.NextAt)
		}
	}
	if again, _ := db.ClaimOutbox(ctx, now.Add(10*time.Second), 30*time.Second, 10); len(again) != 0 {
		t.Fatalf("claimed again within the lease: %s", obIDs(again))
	}
	if next, ok, _ := db.NextOutboxAt(ctx); !ok || !next.Equal(now.Add(30*time.Second)) {
		t.Errorf("NextOutboxAt = %s, %v; want the lease's end", next, ok)
	}
	if err := db.DeleteOutbox(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	after, err := db.ClaimOutbox(ctx, now.Add(31*time.Second), 30*time.Second, 10)
	if err != nil || obIDs(after) != "b," {
		t.Fatalf("after the lease = %s, %v; want b, (a was delivered)", obIDs(after), err)
	}
	if stored, _ := db.GetOutbox(ctx, "b"); !stored.NextAt.Equal(now.Add(61 * time.Second)) {
		t.Errorf("stored NextAt = %s, want the second lease's end", stored.NextAt)
	}
}

// TestClaimsReleasedAtOpen: an item claimed by a process that died before
// it settled it is due again, as before the claim, when the file is
// opened next; one it settled stays as it left it.
func TestClaimsReleasedAtOpen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueOutbox(ctx, obHook("a", ob0), obHook("b", ob0)); err != nil {
		t.Fatal(err)
	}
	got, err := db.ClaimOutbox(ctx, ob0, time.Hour, 10)
	if err != nil || obIDs(got) != "a,b," {
		t.Fatalf("claim = %s, %v", obIDs(got), err)
	}
	retry := got[1]
	retry.Attempts, retry.NextAt = 1, ob0.Add(time.Minute)
	if err := db.UpdateOutbox(ctx, retry); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if due, _ := dueOutbox(t, db, ob0, 10); obIDs(due) != "a," || !due[0].NextAt.Equal(ob0) {
		t.Fatalf("due after reopening = %s, want a, at its old time", obIDs(due))
	}
	if b, _ := db.GetOutbox(ctx, "b"); !b.NextAt.Equal(ob0.Add(time.Minute)) || b.Attempts != 1 {
		t.Errorf("the settled item changed at open: %+v", b)
	}
}
