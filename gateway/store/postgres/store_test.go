package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

func TestInfoHidesThePassword(t *testing.T) {
	url := pgtest.URL(t)
	info := open(t, url, "host-1:42:01ULID").Info()
	if info.Backend != "postgres" || !info.Shared || info.Owner != "host-1:42:01ULID" {
		t.Fatalf("Info = %+v", info)
	}
	if strings.Contains(info.Location, "callgate:callgate@") || !strings.HasPrefix(info.Location, "postgres://") {
		t.Fatalf("Location = %q: want the URL without its password", info.Location)
	}
}

// Ping says whether the store takes writes: after a failover the old
// primary may answer, read-only.
func TestPingRefusesAReadOnlyDatabase(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	if err := open(t, url, "a").Ping(ctx); err != nil {
		t.Fatalf("Ping of a writable database: %v", err)
	}
	conn := connect(t, url)
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+currentDatabase(t, url)+" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	if err := open(t, url, "b").Ping(ctx); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("Ping of a read-only database: %v", err)
	}
}

func currentDatabase(t *testing.T, url string) string {
	t.Helper()
	var name string
	if err := connect(t, url).QueryRow(context.Background(), "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// Every connection of the store dies at once (a database restart, a
// failover): requests in flight may fail, and are retried by their
// callers; the store reconnects and nothing is lost or doubled.
func TestStoreSurvivesLostConnections(t *testing.T) {
	ctx := context.Background()
	s := replicas(t, 1)[0]
	if _, err := s.AppendEvents(ctx, []store.Event{event("before")}, store.AppendOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	var killed int
	if err := connect(t, postgres.URLOf(s)).QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed); err != nil || killed == 0 {
		t.Fatalf("terminated %d connections, %v", killed, err)
	}
	// As a CRM does: retry until acknowledged.
	for _, key := range []string{"before", "after"} {
		var err error
		for try := 0; try < 20; try++ {
			if _, err = s.AppendEvents(ctx, []store.Event{event(key)}, store.AppendOptions{Now: t0}); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("append %s after the connections died: %v", key, err)
		}
	}
	if n, err := s.PendingEvents(ctx); err != nil || n != 2 {
		t.Fatalf("pending = %d, %v; want 2 (before once, after)", n, err)
	}
}
