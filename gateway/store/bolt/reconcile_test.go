package bolt

import (
	"context"
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

func testInbox(t *testing.T, db *Store) *Store {
	t.Helper()
	db.now = func() time.Time { return t0 }
	in := db
	t.Cleanup(func() { in.Close() })
	return in
}

func TestEventsByObjectIndex(t *testing.T) {
	db := openTest(t)
	in := testInbox(t, db)
	res, err := in.AppendEvents(context.Background(), []store.Event{
		{Key: "a", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "7"},
		{Key: "b", AgentID: "support", Integration: "hubspot", ObjectType: "contact", ObjectID: "7"},
		{Key: "c", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "70"},
		{Key: "d", AgentID: "sales", Integration: "hubspot", ObjectType: "deal", ObjectID: "8"},
		{Key: "e", AgentID: "sales", Integration: "other", ObjectType: "contact", ObjectID: "9"},
		{Key: "f", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", Status: store.EventIgnored, Reason: "test", ObjectID: "11"},
	}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := db.EventsForObject(ctx, "hubspot", "contact", "7")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{res.Events[0].ID, res.Events[1].ID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("EventsForObject(7) = %v, want %v (not 70's)", ids, want)
	}
	later := t0.Add(time.Hour)
	if _, err := in.AppendEvents(context.Background(), []store.Event{{Key: "g", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "70"}}, store.AppendOptions{Now: later}); err != nil {
		t.Fatal(err)
	}
	latest, err := db.LatestEvents(ctx, "hubspot", "contact", []string{"7", "70", "8", "9", "11", "12"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"7": t0, "70": later, "11": t0}
	if !reflect.DeepEqual(latest, want) {
		t.Errorf("LatestEvents = %v, want %v (the newest event's time; a deal, another integration's record and an unseen id are absent; an ignored event counts)", latest, want)
	}
	// A duplicate adds nothing.
	if _, err := in.AppendEvents(context.Background(), []store.Event{{Key: "a", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "7"}}, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := db.EventsForObject(ctx, "hubspot", "contact", "7"); len(ids) != 2 {
		t.Errorf("after a duplicate: %v", ids)
	}
}

// TestEventsByObjectMigration: a schema-2 file (no index) is indexed on open.
func TestEventsByObjectMigration(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db.now = func() time.Time { return t0 }
	in := db
	res, err := in.AppendEvents(context.Background(), []store.Event{{Key: "a", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "7"}}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketEventsByObject); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, 2))
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
	ids, err := db.EventsForObject(ctx, "hubspot", "contact", "7")
	if err != nil || !reflect.DeepEqual(ids, []string{res.Events[0].ID}) {
		t.Fatalf("after migration: %v %v", ids, err)
	}
}

func TestCheckpointAndListedRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := db.Checkpoint(ctx, "hubspot", store.ListingCreated); err != nil || !cp.IsZero() {
		t.Fatalf("new checkpoint = %v %v, want zero", cp, err)
	}
	recs := []store.ListedRecord{
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "1", CreatedAt: t0.Add(-40 * 24 * time.Hour)}, // older than prune: not kept
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "2", CreatedAt: t0.Add(-time.Hour)},
		{Integration: "hubspot", ObjectType: "contact", ObjectID: "3", CreatedAt: t0},
	}
	prune := t0.Add(-store.ListedRetention)
	if err := db.RecordListing(ctx, "hubspot", store.ListingCreated, t0.Add(time.Minute), recs, prune); err != nil {
		t.Fatal(err)
	}
	// The same records again (a re-listed page) are kept once; a lower
	// checkpoint does not move it back.
	if err := db.RecordListing(ctx, "hubspot", store.ListingCreated, t0, recs[1:2], prune); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordListing(ctx, "other", store.ListingCreated, t0, []store.ListedRecord{{Integration: "other", ObjectType: "lead", ObjectID: "x", CreatedAt: t0}}, prune); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cp, err := db.Checkpoint(ctx, "hubspot", store.ListingCreated)
	if err != nil || !cp.Equal(t0.Add(time.Minute)) {
		t.Errorf("checkpoint after reopen = %v %v, want %v", cp, err, t0.Add(time.Minute))
	}
	if cp, _ := db.Checkpoint(ctx, "hubspot", store.ListingModified); !cp.IsZero() {
		t.Errorf("the modified listing has its own checkpoint, got %v", cp)
	}
	got, err := db.ListedRecords(ctx, "hubspot", t0.Add(-2*time.Hour), t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if want := recs[1:]; !reflect.DeepEqual(got, want) {
		t.Errorf("ListedRecords = %+v, want %+v", got, want)
	}
	if got, _ := db.ListedRecords(ctx, "hubspot", t0.Add(-2*time.Hour), t0); len(got) != 1 {
		t.Errorf("until is exclusive: %+v", got)
	}
	if got, _ := db.ListedRecords(ctx, "", t0.Add(-2*time.Hour), t0.Add(time.Second)); len(got) != 3 {
		t.Errorf("all integrations: %+v", got)
	}
	// Pruning at a later time forgets the older ones.
	if err := db.RecordListing(ctx, "hubspot", store.ListingCreated, t0.Add(time.Minute), nil, t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ListedRecords(ctx, "hubspot", time.Time{}, t0.Add(time.Hour)); len(got) != 1 || got[0].ObjectID != "3" {
		t.Errorf("after prune: %+v", got)
	}
}

func TestRecentAccount(t *testing.T) {
	db := openTest(t)
	in := testInbox(t, db)
	if a, err := db.RecentAccount(ctx, "hubspot"); err != nil || a != "" {
		t.Fatalf("empty inbox: %q %v", a, err)
	}
	_, err := in.AppendEvents(context.Background(), []store.Event{
		{Key: "a", AgentID: "sales", Integration: "hubspot", Account: "111", ObjectType: "contact", ObjectID: "7"},
		{Key: "b", AgentID: "sales", Integration: "hubspot", Account: "222", ObjectType: "contact", ObjectID: "8"},
		{Key: "c", AgentID: "sales", Integration: "hubspot", ObjectType: "contact", ObjectID: "9"},
		{Key: "d", AgentID: "sales", Integration: "other", Account: "333", ObjectType: "contact", ObjectID: "9"},
	}, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := db.RecentAccount(ctx, "hubspot"); a != "222" {
		t.Errorf("RecentAccount = %q, want the newest event's that names one (222)", a)
	}
	if a, _ := db.RecentAccount(ctx, "leadsquared"); a != "" {
		t.Errorf("an integration without events: %q", a)
	}
}
