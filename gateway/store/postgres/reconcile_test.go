package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

// putEvent writes an event row as the inbox part does (the columns of
// migration 0001 and the record).
func putEvent(t *testing.T, s *postgres.Store, ev store.Event) store.Event {
	t.Helper()
	if ev.ID == "" {
		ev.ID = s.NewID(ev.ReceivedAt)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = connect(t, postgres.URLOf(s)).Exec(context.Background(), `INSERT INTO events (id, agent_id, integration, type, object_type,
		object_id, status, received_at, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ev.ID, ev.AgentID, ev.Integration, ev.Type, ev.ObjectType, ev.ObjectID, ev.Status, ev.ReceivedAt, string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func hubspotEvent(object string, at time.Time) store.Event {
	return store.Event{AgentID: "sales", Type: "hubspot", Integration: "hs", ObjectType: "contact", ObjectID: object,
		ReceivedAt: at, Status: store.EventCalled}
}

func TestEventsForObject(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	first := putEvent(t, s, hubspotEvent("1", t0))
	second := putEvent(t, s, hubspotEvent("1", t0.Add(time.Minute)))
	putEvent(t, s, hubspotEvent("2", t0.Add(2*time.Minute)))
	other := hubspotEvent("1", t0)
	other.Integration = "hs2"
	putEvent(t, s, other)

	ids, err := s.EventsForObject(ctx, "hs", "contact", "1")
	if err != nil || fmt.Sprint(ids) != fmt.Sprint([]string{first.ID, second.ID}) {
		t.Fatalf("EventsForObject = %v, %v; want [%s %s]", ids, err, first.ID, second.ID)
	}
	latest, err := s.LatestEvents(ctx, "hs", "contact", []string{"1", "2", "3"})
	if err != nil {
		t.Fatal(err)
	}
	u := ulid.MustParse(second.ID)
	if len(latest) != 2 || !latest["1"].Equal(ulid.Time(u.Time())) || latest["3"] != (time.Time{}) {
		t.Fatalf("LatestEvents = %v", latest)
	}
}

func TestRecordListing(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	rec := func(in, id string, at time.Time) store.ListedRecord {
		return store.ListedRecord{Integration: in, ObjectType: "contact", ObjectID: id, CreatedAt: at}
	}
	page := []store.ListedRecord{rec("hs", "1", t0), rec("hs", "2", t0.Add(time.Hour)), rec("hs", "old", t0.Add(-48*time.Hour)), {Integration: "hs", ObjectID: "undated"}}
	if err := s.RecordListing(ctx, "hs", store.ListingCreated, t0.Add(time.Hour), page, t0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A page recorded later with an older checkpoint (another replica's,
	// say) never moves it back.
	if err := s.RecordListing(ctx, "hs", store.ListingCreated, t0, []store.ListedRecord{rec("hs", "1", t0)}, t0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordListing(ctx, "hs2", store.ListingCreated, t0, []store.ListedRecord{rec("hs2", "9", t0)}, t0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	cp, err := s.Checkpoint(ctx, "hs", store.ListingCreated)
	if err != nil || !cp.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Checkpoint = %v, %v; want %v", cp, err, t0.Add(time.Hour))
	}
	if cp, err := s.Checkpoint(ctx, "hs", store.ListingModified); err != nil || !cp.IsZero() {
		t.Fatalf("Checkpoint never recorded = %v, %v", cp, err)
	}
	cases := []struct {
		integration  string
		since, until time.Time
		want         string
	}{
		{"hs", t0.Add(-time.Hour), t0.Add(2 * time.Hour), "[hs/1 hs/2]"},
		{"hs", t0, t0.Add(time.Hour), "[hs/1]"},
		{"", t0.Add(-time.Hour), t0.Add(2 * time.Hour), "[hs/1 hs/2 hs2/9]"},
		{"hs", t0.Add(-72 * time.Hour), t0.Add(-time.Hour), "[]"},
	}
	for _, tc := range cases {
		got, err := s.ListedRecords(ctx, tc.integration, tc.since, tc.until)
		if err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, r := range got {
			names = append(names, r.Integration+"/"+r.ObjectID)
		}
		if fmt.Sprint(names) != tc.want {
			t.Errorf("ListedRecords(%q, %v, %v) = %v, want %s", tc.integration, tc.since, tc.until, names, tc.want)
		}
	}
	// Recording with a later prune forgets what was created before it.
	if err := s.RecordListing(ctx, "hs", store.ListingCreated, t0.Add(time.Hour), nil, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListedRecords(ctx, "hs", time.Time{}, t0.Add(48*time.Hour)); len(got) != 1 || got[0].ObjectID != "2" {
		t.Fatalf("after the prune: %v", got)
	}
}

func TestRecentAccount(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	if acc, err := s.RecentAccount(ctx, "hs"); err != nil || acc != "" {
		t.Fatalf("empty inbox: %q, %v", acc, err)
	}
	ev := hubspotEvent("1", t0)
	ev.Account = "111"
	putEvent(t, s, ev)
	ev.Account, ev.ReceivedAt = "222", t0.Add(time.Minute)
	putEvent(t, s, ev)
	putEvent(t, s, hubspotEvent("2", t0.Add(2*time.Minute))) // names no account
	if acc, err := s.RecentAccount(ctx, "hs"); err != nil || acc != "222" {
		t.Fatalf("RecentAccount = %q, %v; want 222", acc, err)
	}
	if acc, err := s.RecentAccount(ctx, "hs2"); err != nil || acc != "" {
		t.Fatalf("RecentAccount(hs2) = %q, %v", acc, err)
	}
}
