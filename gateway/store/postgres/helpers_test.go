package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

// open opens a store on url as one replica named owner.
func open(t testing.TB, url, owner string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Options{URL: url, Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// replicas opens n stores on one fresh database, as n callgate processes.
func replicas(t testing.TB, n int) []*postgres.Store {
	t.Helper()
	url := pgtest.URL(t)
	out := make([]*postgres.Store, n)
	for i := range out {
		out[i] = open(t, url, "replica-"+string(rune('a'+i)))
	}
	return out
}

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)

func event(key string) store.Event {
	return store.Event{Key: key, AgentID: "sales", Type: "hubspot", Integration: "hubspot", EventType: "contact.creation",
		Kind: "created", ObjectType: "contact", ObjectID: "1"}
}
