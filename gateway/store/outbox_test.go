package store

import (
	"errors"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openOutboxDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var ob0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func obHook(id string, at time.Time) OutboxItem {
	return OutboxItem{ID: id, Kind: OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: []byte(`{"n":1}`), NextAt: at}
}

func obIDs(items []OutboxItem) string {
	var s string
	for _, it := range items {
		s += it.ID + ","
	}
	return s
}

func TestOutboxDueOrderAndReschedule(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(obHook("c", ob0.Add(2*time.Minute)), obHook("a", ob0), obHook("b", ob0.Add(time.Minute))); err != nil {
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
			got, err := db.DueOutbox(tt.now, tt.limit)
			if err != nil || obIDs(got) != tt.want {
				t.Fatalf("DueOutbox = %s, %v; want %s", obIDs(got), err, tt.want)
			}
		})
	}
	// A failed try moves a later; the old due key must not linger.
	a, err := db.GetOutbox("a")
	if err != nil {
		t.Fatal(err)
	}
	a.Attempts, a.NextAt, a.LastError = 1, ob0.Add(90*time.Second), "receiver answered 500"
	if err := db.UpdateOutbox(a); err != nil {
		t.Fatal(err)
	}
	got, _ := db.DueOutbox(ob0.Add(time.Minute), 10)
	if obIDs(got) != "b," {
		t.Fatalf("after reschedule: %s", obIDs(got))
	}
	got, _ = db.DueOutbox(ob0.Add(2*time.Minute), 10)
	if obIDs(got) != "b,a,c," || got[1].Attempts != 1 || got[1].LastError == "" {
		t.Fatalf("after reschedule: %s %+v", obIDs(got), got)
	}
	if at, ok, err := db.NextOutboxAt(); err != nil || !ok || !at.Equal(ob0.Add(time.Minute)) {
		t.Fatalf("NextOutboxAt = %v %v %v", at, ok, err)
	}
}

func TestOutboxDeadLettersAndRetry(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(obHook("a", ob0), obHook("b", ob0)); err != nil {
		t.Fatal(err)
	}
	a, _ := db.GetOutbox("a")
	a.Dead, a.Attempts, a.LastError = true, 12, "receiver answered 503"
	if err := db.UpdateOutbox(a); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.DueOutbox(ob0.Add(time.Hour), 10); obIDs(got) != "b," {
		t.Fatalf("a dead letter is due: %s", obIDs(got))
	}
	if p, d, err := db.OutboxDepth(); p != 1 || d != 1 || err != nil {
		t.Fatalf("depth = %d pending, %d dead, %v", p, d, err)
	}
	yes := true
	dead, next, err := db.ListOutbox(OutboxFilter{Dead: &yes})
	if err != nil || obIDs(dead) != "a," || next != "" || dead[0].LastError != "receiver answered 503" {
		t.Fatalf("ListOutbox(dead) = %+v %q %v", dead, next, err)
	}
	if err := db.RetryOutbox("a", ob0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ := db.DueOutbox(ob0.Add(2*time.Hour), 10)
	if obIDs(got) != "b,a," || got[1].Dead || got[1].Attempts != 0 {
		t.Fatalf("after retry: %+v", got)
	}
	if err := db.RetryOutbox("nope", ob0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RetryOutbox(missing) = %v", err)
	}
	if err := db.UpdateOutbox(obHook("nope", ob0)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UpdateOutbox(missing) = %v", err)
	}
}

func TestOutboxDelete(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(obHook("a", ob0)); err != nil {
		t.Fatal(err)
	}
	for range 2 { // at least once: deleting twice is fine
		if err := db.DeleteOutbox("a"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := db.DueOutbox(ob0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("deleted item still due: %s", obIDs(got))
	}
	if _, err := db.GetOutbox("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetOutbox = %v", err)
	}
	if _, ok, _ := db.NextOutboxAt(); ok {
		t.Fatal("NextOutboxAt reports an item in an empty outbox")
	}
}

func TestOutboxListPages(t *testing.T) {
	db := openOutboxDB(t)
	var items []OutboxItem
	for i := range 7 {
		it := obHook(fmt.Sprintf("i%d", i), ob0)
		if i%2 == 1 {
			it.Kind, it.URL, it.Integration = OutboxWriteback, "", "hubspot"
		}
		it.CallID = fmt.Sprintf("call%d", i%3)
		items = append(items, it)
	}
	if err := db.EnqueueOutbox(items...); err != nil {
		t.Fatal(err)
	}
	var all []OutboxItem
	cursor := ""
	for pages := 0; ; pages++ {
		page, next, err := db.ListOutbox(OutboxFilter{Cursor: cursor, Limit: 3})
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
	wb, _, _ := db.ListOutbox(OutboxFilter{Kind: OutboxWriteback})
	if obIDs(wb) != "i1,i3,i5," {
		t.Fatalf("writebacks = %s", obIDs(wb))
	}
	c1, _, _ := db.ListOutbox(OutboxFilter{CallID: "call1"})
	if obIDs(c1) != "i1,i4," {
		t.Fatalf("call1 = %s", obIDs(c1))
	}
}

func TestPutOutboxIsPartOfTheCallersTransaction(t *testing.T) {
	db := openOutboxDB(t)
	boom := errors.New("call update failed")
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := db.putOutbox(tx, []OutboxItem{obHook("a", ob0)}); err != nil {
			return err
		}
		return boom // the call change fails: its notification must not survive
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, _ := db.DueOutbox(ob0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("notification of a rolled-back change: %s", obIDs(got))
	}
	err = db.EnqueueOutbox(obHook("b", ob0), OutboxItem{ID: "c", Kind: "sms", NextAt: ob0})
	if err == nil {
		t.Fatal("unknown kind accepted")
	}
	if got, _ := db.DueOutbox(ob0.Add(time.Hour), 10); len(got) != 0 {
		t.Fatalf("half a batch committed: %s", obIDs(got))
	}
}

func TestPutOutboxFillsIDs(t *testing.T) {
	db := openOutboxDB(t)
	if err := db.EnqueueOutbox(obHook("", ob0), obHook("", ob0)); err != nil {
		t.Fatal(err)
	}
	got, _ := db.DueOutbox(ob0, 10)
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
	if err := db.EnqueueOutbox(obHook("a", ob0)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, _ := db.DueOutbox(ob0, 10); obIDs(got) != "a," || string(got[0].Body) != `{"n":1}` {
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
		case <-db.OutboxCommitted():
			return true
		default:
			return false
		}
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := db.putOutbox(tx, []OutboxItem{obHook("a", ob0)}); err != nil {
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
	if err := db.EnqueueOutbox(obHook("b", ob0)); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueOutbox(obHook("c", ob0)); err != nil {
		t.Fatal(err)
	}
	if !signalled() {
		t.Fatal("no signal after committed outbox writes")
	}
	if signalled() {
		t.Fatal("two commits left two signals; they should collapse into one")
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return db.putOutbox(tx, nil) }); err != nil || signalled() {
		t.Fatalf("err %v; a commit without outbox items signalled", err)
	}
}
