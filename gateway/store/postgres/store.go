// Package postgres is the PostgreSQL backend of store.Store: several
// callgate replicas share one database, and with it one queue. Claims take
// rows with FOR UPDATE SKIP LOCKED, uniqueness rests on constraints, and
// leases carry an owner and an expiry so a replica takes back only what a
// gone replica left (docs/scaling.md).
package postgres

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"

	"github.com/callgate/callgate/gateway/store"
)

// Options configure Open.
type Options struct {
	URL string // postgres://user:pass@host:port/db?sslmode=… (libpq form)
	// DedupeTTL is how long an event's dedupe key is remembered (default
	// store.DefaultDedupeTTL).
	DedupeTTL time.Duration
	// Owner names this process on its leases; default host:pid:ulid.
	Owner string
}

// Store is an open PostgreSQL store.
type Store struct {
	pool  *pgxpool.Pool
	url   string // password removed
	owner string
	ttl   time.Duration
	ids   store.IDs
}

// Open connects to the database and checks its schema is the one this
// binary was built for (see Migrate).
func Open(ctx context.Context, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("store url: %w", err)
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), ulid.Make())
	}
	if o.DedupeTTL <= 0 {
		o.DedupeTTL = store.DefaultDedupeTTL
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Store{pool: pool, url: redactURL(cfg), owner: o.Owner, ttl: o.DedupeTTL}, nil
}

func redactURL(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// NewID returns a new ULID stamped with t.
func (s *Store) NewID(t time.Time) string { return s.ids.Next(t) }

// Info says where this store is.
func (s *Store) Info() store.Info {
	return store.Info{Backend: "postgres", Location: s.url, Shared: true, Owner: s.owner}
}

// Close closes the pool.
func (s *Store) Close() error { s.pool.Close(); return nil }
