package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// checkBenchStore refuses what cannot be run: several replicas need a
// shared database (a bbolt file is held by one process).
func checkBenchStore(b benchOptions) error {
	switch {
	case b.Replicas < 1:
		return fmt.Errorf("bench: --replicas %d: want 1 or more", b.Replicas)
	case b.Replicas > 1 && b.Store == "":
		return errors.New("bench: --replicas needs --store postgres://… (a bbolt file is held by one process)")
	case b.Store != "" && !strings.HasPrefix(b.Store, "postgres://") && !strings.HasPrefix(b.Store, "postgresql://"):
		return errors.New("bench: --store wants a postgres:// URL (the value is not shown, it may hold a password)")
	}
	return nil
}

// startBenchGateways brings up the gateways the bench measures: one on a
// temporary bbolt file, or b.Replicas on the database b.Store names (its
// schema migrated first), each with its own listener, data dir (for the
// plugins) and plugin processes, as separate `serve` processes would be.
func startBenchGateways(ctx context.Context, b benchOptions, fake *hubspottest.Server, logOut io.Writer) ([]*localGateway, error) {
	if b.Store != "" {
		if err := postgres.Migrate(ctx, b.Store); err != nil {
			return nil, fmt.Errorf("bench: migrate the --store database: %w", err)
		}
	}
	var gws []*localGateway
	for range max(b.Replicas, 1) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeGateways(gws)
			return nil, fmt.Errorf("bench: listen: %w", err)
		}
		g, err := startLocalGateway(ctx, localOptions{Name: "bench", Listener: ln, Log: logOut, Level: hclog.Warn,
			Config: func(addr, dataDir string) string {
				return benchConfig(addr, dataDir, fake.URL, fake.Token()) + benchStoreBlock(b.Store)
			}})
		if err != nil {
			closeGateways(gws)
			return nil, err
		}
		gws = append(gws, g)
	}
	return gws, nil
}

// benchStoreBlock is the config's store block for url ("" for bbolt).
func benchStoreBlock(url string) string {
	if url == "" {
		return ""
	}
	return fmt.Sprintf("store {\n  backend = \"postgres\"\n  url     = %q\n}\n", url)
}

// closeGateways stops every gateway and returns the first error.
func closeGateways(gws []*localGateway) error {
	var first error
	for _, g := range gws {
		if err := g.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// bases are the gateways' http://host:port.
func bases(gws []*localGateway) []string {
	out := make([]string, len(gws))
	for i, g := range gws {
		out[i] = g.Base
	}
	return out
}
