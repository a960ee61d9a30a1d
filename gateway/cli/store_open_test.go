package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

func TestOpenPostgres(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &logs})
	cfg := config.Default()
	cfg.Store = config.Store{Backend: config.StorePostgres, URL: pgtest.Empty(t)}
	if _, err := openPostgres(ctx, cfg, log); err == nil || !strings.Contains(err.Error(), "migrate up --config FILE") {
		t.Fatalf("open of an unmigrated database: %v, want what to run", err)
	}
	cfg.Store.URL = pgtest.URL(t)
	s, err := openPostgres(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), ":callgate@") {
		t.Fatalf("logs: %s", logs.String())
	}
}
