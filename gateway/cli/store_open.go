package cli

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store/postgres"
)

// openPostgres opens the PostgreSQL store of cfg's store block (backend
// "postgres") for serve: the schema must be migrated already (the error
// says to run `callgate migrate up --config FILE`). The logs name the
// database without its password.
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
	info := s.Info()
	log.Info("store open", "backend", info.Backend, "database", info.Location, "owner", info.Owner)
	return s, nil
}
