package postgres_test

import (
	"context"
	"strings"
	"testing"

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
