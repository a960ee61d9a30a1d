// Package pgtest gives each test its own PostgreSQL database, created
// from the server named by CALLGATE_TEST_POSTGRES and dropped when the
// test ends, so tests (and engineers) running at once never share state.
//
// Without CALLGATE_TEST_POSTGRES a test that asks for a database skips,
// saying how to run it; with CALLGATE_REQUIRE_POSTGRES=1 (as .ci/run sets)
// it fails instead, so CI cannot pass without having run it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callgate/callgate/gateway/store/postgres"
)

// Env names the server tests use: a URL of a role with CREATEDB, e.g.
// postgres://callgate:callgate@127.0.0.1:5432/callgate?sslmode=disable.
const Env = "CALLGATE_TEST_POSTGRES"

// RequireEnv, set to 1, turns a missing Env into a failure.
const RequireEnv = "CALLGATE_REQUIRE_POSTGRES"

// URL returns the URL of a fresh database with the schema migrated, for
// t alone.
func URL(t testing.TB) string {
	t.Helper()
	url := Empty(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatalf("pgtest: migrate the test database: %v", err)
	}
	return url
}

// Empty returns the URL of a fresh database with no schema at all (for
// testing migrations), for t alone.
func Empty(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("pgtest: %s=1 but %s is not set: this run must test PostgreSQL", RequireEnv, Env)
		}
		t.Skipf("pgtest: PostgreSQL tests skipped: set %s to a postgres:// URL of a role with CREATEDB "+
			"(see README, \"Testing with PostgreSQL\")", Env)
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("pgtest: %s cannot be parsed as a postgres:// URL", Env)
	}
	name := "callgate_test_" + randomHex()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: connect to %s:%d as %s: %v", cfg.Host, cfg.Port, cfg.User, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { drop(t, cfg, name) })
	return withDatabase(base, name)
}

// drop removes the test's database, closing what the test left open.
func drop(t testing.TB, cfg *pgx.ConnConfig, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Errorf("pgtest: drop database %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	// FORCE ends the test's connections, but not an autovacuum worker the
	// test's writes woke (the server's, not the role's): wait it out.
	for try := 0; ; try++ {
		_, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if err == nil {
			return
		}
		if try == 50 {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// withDatabase is base (a URL or libpq key=value string) pointing at
// database name instead.
func withDatabase(base, name string) string {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err == nil {
			u.Path = "/" + name
			return u.String()
		}
	}
	return base + " dbname=" + name // a later keyword wins
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
