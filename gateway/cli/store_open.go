package cli

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/gateway/store/postgres"
)

// openStore opens the store cfg's store block names: the bbolt file in
// server.data_dir (the default), or a PostgreSQL database shared with the
// other replicas. The log names where, never with a password.
func openStore(ctx context.Context, cfg *config.Config, log hclog.Logger) (store.Store, error) {
	var st store.Store
	switch cfg.Store.Backend {
	case config.StorePostgres:
		pg, err := openPostgres(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		st = pg
	default:
		db, err := bolt.Open(bolt.Options{Dir: cfg.Server.DataDir, DedupeTTL: cfg.Server.DedupeTTL, Logger: log.Named("store")})
		if err != nil {
			return nil, err
		}
		st = db
	}
	info := st.Info()
	log.Info("store open", "backend", info.Backend, "location", info.Location, "shared", info.Shared, "owner", info.Owner)
	return st, nil
}

// openPostgres opens the PostgreSQL store of cfg's store block (backend
// "postgres") for serve: the schema must be migrated already (the error
// says to run `callgate migrate up --config FILE`).
func openPostgres(ctx context.Context, cfg *config.Config, log hclog.Logger) (*postgres.Store, error) {
	if cfg.Store.Backend != config.StorePostgres {
		return nil, fmt.Errorf("store: backend is %q, not postgres", cfg.Store.Backend)
	}
	s, err := postgres.Open(ctx, postgres.Options{
		URL:       cfg.Store.URL,
		DedupeTTL: cfg.Server.DedupeTTL,
		Logger:    log.Named("store"),
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return s, nil
}
