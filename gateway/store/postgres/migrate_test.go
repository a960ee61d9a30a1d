package postgres_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

func TestMigrateFromEmptyAndAgain(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Empty(t)
	cur, latest, pending, err := postgres.Status(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if cur != 0 || latest < 1 || len(pending) != latest || !strings.HasPrefix(pending[0], "0001_") {
		t.Fatalf("empty database: current %d latest %d pending %v", cur, latest, pending)
	}
	if _, err := postgres.Open(ctx, postgres.Options{URL: url}); err == nil ||
		!strings.Contains(err.Error(), "callgate migrate up --config FILE") {
		t.Fatalf("Open on an empty database: %v, want the command to run", err)
	}
	for range 2 { // the second run finds nothing to do
		if err := postgres.Migrate(ctx, url); err != nil {
			t.Fatal(err)
		}
	}
	cur2, latest2, pending2, err := postgres.Status(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if cur2 != latest || latest2 != latest || len(pending2) != 0 {
		t.Fatalf("migrated: current %d latest %d pending %v", cur2, latest2, pending2)
	}
	open(t, url, "a").Close()
}

// Replicas started together all run `migrate up`: each migration is
// applied once, and every run succeeds.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Empty(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = postgres.Migrate(ctx, url) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn := connect(t, url)
	var n, distinct int
	if err := conn.QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	_, latest, _, _ := postgres.Status(ctx, url)
	if n != latest || distinct != latest {
		t.Fatalf("schema_migrations has %d rows (%d versions), want %d", n, distinct, latest)
	}
}

// A schema a newer release migrated is left alone, by Migrate and Open.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	if _, err := connect(t, url).Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future')"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"migrate": postgres.Migrate(ctx, url),
		"open":    openErr(ctx, url),
	} {
		if err == nil || !strings.Contains(err.Error(), "newer than this callgate") {
			t.Errorf("%s on a newer schema: %v", name, err)
		}
	}
}

// A failing migration leaves nothing behind: not its tables, not its
// record (each runs in one transaction).
func TestMigrationIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Empty(t)
	conn := connect(t, url)
	// Make 0001's last CREATE TABLE collide, after it created the others.
	if _, err := conn.Exec(ctx, "CREATE TABLE dnd (x int)"); err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, url); err == nil || !strings.Contains(err.Error(), "0001_") {
		t.Fatalf("Migrate over a colliding table: %v, want the migration named", err)
	}
	var tables []string
	rows, err := conn.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tables, []string{"dnd", "schema_migrations"}) {
		t.Fatalf("tables after a failed migration: %v", tables)
	}
	cur, _, _, err := postgres.Status(ctx, url)
	if err != nil || cur != 0 {
		t.Fatalf("status after a failed migration: %d, %v", cur, err)
	}
}

func TestBadURLHidesThePassword(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"postgres://u:s3cret@host:notaport/db", "postgres://u:s3cret@[::1/db"} {
		for name, err := range map[string]error{
			"open":    openErr(ctx, url),
			"migrate": postgres.Migrate(ctx, url),
		} {
			if err == nil || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s(%q): %v", name, url, err)
			}
		}
	}
}

func openErr(ctx context.Context, url string) error {
	s, err := postgres.Open(ctx, postgres.Options{URL: url})
	if err == nil {
		s.Close()
	}
	return err
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
