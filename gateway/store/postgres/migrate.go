package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The schema, one file per version: migrations/NNNN_what.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLock is the pg_advisory_lock key Migrate holds while it applies
// migrations, so replicas started together apply each one once.
const migrateLock int64 = 0x63616c6c67617465 // "callgate"

// migration is one embedded schema version.
type migration struct {
	version int
	name    string // file name without .sql, e.g. 0001_inbox_outbox_dnd
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".sql")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must be NNNN_what.sql", n)
		}
		raw, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(raw)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// Migrate creates or upgrades the schema of the database at url: every
// embedded migration not yet recorded in schema_migrations is applied in
// order, each in its own transaction with its record. It is safe to run
// again and from several processes at once: they take turns on an
// advisory lock, and the later ones find nothing left to do.
func Migrate(ctx context.Context, url string) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	conn, err := connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	// The lock is the session's: closing the connection releases it too.
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return err
	}
	if err := newerThanBinary(applied, all); err != nil {
		return err
	}
	for _, m := range all {
		if slices.Contains(applied, m.version) {
			continue
		}
		if err := apply(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration and records it in one transaction: a failed
// migration leaves no trace, and the next `migrate up` tries it again.
func apply(ctx context.Context, conn *pgx.Conn, m migration) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: apply %s: %w", m.name, err)
	}
	return nil
}

// Status reports the schema of the database at url: the version applied
// last (0 for an empty database), the newest this binary knows, and the
// names of the migrations `migrate up` would apply.
func Status(ctx context.Context, url string) (current, latest int, pending []string, err error) {
	all, err := migrations()
	if err != nil {
		return 0, 0, nil, err
	}
	conn, err := connect(ctx, url)
	if err != nil {
		return 0, 0, nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	current, latest, pending, err = schemaStatus(ctx, conn, all)
	return current, latest, pending, err
}

// schemaStatus is Status on an open connection.
func schemaStatus(ctx context.Context, q querier, all []migration) (current, latest int, pending []string, err error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return 0, 0, nil, fmt.Errorf("read the schema version: %w", err)
	}
	var applied []int
	if exists {
		if applied, err = appliedVersions(ctx, q); err != nil {
			return 0, 0, nil, err
		}
	}
	if len(applied) > 0 {
		current = slices.Max(applied)
	}
	if len(all) > 0 {
		latest = all[len(all)-1].version
	}
	for _, m := range all {
		if !slices.Contains(applied, m.version) {
			pending = append(pending, m.name)
		}
	}
	return current, latest, pending, nil
}

// checkSchema is what Open asks: is the schema exactly the one this
// binary was built for? The error says what to run.
func checkSchema(ctx context.Context, q querier) error {
	all, err := migrations()
	if err != nil {
		return err
	}
	current, latest, pending, err := schemaStatus(ctx, q, all)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("the database schema is at version %d, newer than this callgate knows (%d): "+
			"run the callgate release that migrated it, or a newer one", current, latest)
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database schema is at version %d and this callgate needs %d (%s pending): "+
			"run `callgate migrate up --config FILE` first", current, latest, strings.Join(pending, ", "))
	}
	return nil
}

func appliedVersions(ctx context.Context, q querier) ([]int, error) {
	rows, err := q.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return vs, nil
}

// newerThanBinary refuses to touch a schema a newer release migrated.
func newerThanBinary(applied []int, all []migration) error {
	if len(applied) == 0 || len(all) == 0 {
		return nil
	}
	if cur, latest := slices.Max(applied), all[len(all)-1].version; cur > latest {
		return fmt.Errorf("migrate: the database schema is at version %d, newer than this callgate knows (%d): "+
			"use the release that migrated it", cur, latest)
	}
	return nil
}

// connect opens one connection outside any pool (migrations hold a
// session lock; the listener holds LISTEN).
func connect(ctx context.Context, url string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, errBadURL
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redactConfig(cfg), err)
	}
	return conn, nil
}
