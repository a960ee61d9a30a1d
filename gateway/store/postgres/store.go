// Package postgres is the PostgreSQL backend of store.Store: several
// callgate replicas share one database, and with it one queue. Claims take
// rows with FOR UPDATE SKIP LOCKED, uniqueness rests on constraints, and
// leases carry an owner and an expiry so a replica takes back only what a
// gone replica left (docs/scaling.md).
//
// Every table keeps the record's JSON (as package store encodes it) next
// to the columns queries need; the JSON is the truth, the columns are its
// index. The schema is versioned by the embedded migrations (Migrate).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"

	"github.com/callgate/callgate/gateway/store"
)

var (
	_ store.Store         = (*Store)(nil)
	_ store.DialBudget    = (*Store)(nil)
	_ store.CappedClaimer = (*Store)(nil)
)

// Options configure Open.
type Options struct {
	URL string // postgres://user:pass@host:port/db?sslmode=… (libpq form)
	// DedupeTTL is how long an event's dedupe key is remembered (default
	// store.DefaultDedupeTTL).
	DedupeTTL time.Duration
	// Owner names this process on its leases; default host:pid:ulid.
	Owner string
	// SweepEvery is how often expired dedupe keys are deleted (default 10m).
	SweepEvery time.Duration
	Logger     hclog.Logger // default: discard
}

// Store is an open PostgreSQL store.
type Store struct {
	pool  *pgxpool.Pool
	url   string // password removed
	owner string
	ttl   time.Duration
	ids   store.IDs
	log   hclog.Logger

	appends *appender
	wake    *wakeups

	closeOnce sync.Once
}

// defaultConnectTimeout bounds a connection attempt when the URL's
// connect_timeout does not.
const defaultConnectTimeout = 5 * time.Second

// errBadURL is returned for a URL pgx cannot parse. Its parse error may
// quote the URL, password and all, so it is not passed on.
var errBadURL = errors.New("store url: cannot be parsed; want postgres://user:password@host:port/database?sslmode=… " +
	"or libpq's key=value form")

// Open connects to the database, checks its schema is the one this binary
// was built for (see Migrate), and starts the inbox writer and the
// listener for wake-ups.
func Open(ctx context.Context, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		return nil, errBadURL
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), ulid.Make())
	}
	if o.DedupeTTL <= 0 {
		o.DedupeTTL = store.DefaultDedupeTTL
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// An unreachable database fails a request in seconds (a 503 the
		// CRM retries) rather than when the CRM gives up waiting.
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	where := redactConfig(cfg.ConnConfig)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", where, err)
	}
	if err := checkSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	s := &Store{pool: pool, url: where, owner: o.Owner, ttl: o.DedupeTTL, log: o.Logger}
	s.wake = newWakeups(cfg.ConnConfig, o.Logger)
	s.appends = newAppender(s, o.SweepEvery)
	return s, nil
}

// redactConfig is where cfg points, without its password.
func redactConfig(c *pgx.ConnConfig) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// NewID returns a new ULID stamped with t.
func (s *Store) NewID(t time.Time) string { return s.ids.Next(t) }

// Info says where this store is.
func (s *Store) Info() store.Info {
	return store.Info{Backend: "postgres", Location: s.url, Shared: true, Owner: s.owner}
}

// Ping reports whether the database takes writes now: it answers, and is
// not a read-only standby (after a failover the old primary may be one).
func (s *Store) Ping(ctx context.Context) error {
	var readOnly string
	if err := s.pool.QueryRow(ctx, "SHOW transaction_read_only").Scan(&readOnly); err != nil {
		return fmt.Errorf("store %s: %w", s.url, err)
	}
	if readOnly == "on" {
		return fmt.Errorf("store %s: the database is read-only (a standby?)", s.url)
	}
	return nil
}

// Close stops the inbox writer (queued appends fail) and the listener,
// and closes the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.appends.close()
		s.wake.close()
		s.pool.Close()
	})
	return nil
}

// querier is what both the pool and a transaction offer, so a helper can
// run inside another part's transaction (calls.go writes outbox items with
// the call change they report).
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a transaction and commits it; an error from fn rolls
// it back.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}
