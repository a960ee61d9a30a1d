package postgres_test

import (
	"testing"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
	"github.com/callgate/callgate/gateway/store/storetest"
)

// TestConformance runs the store conformance suite on PostgreSQL, one
// fresh database per subtest. Peer is a second Store on the same database,
// as a second replica; Reopen closes the store and opens its database
// again, as a restarted process (with a new lease owner).
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) store.Store { return open(t, pgtest.URL(t), "") },
		Peer: func(t *testing.T, s store.Store) store.Store {
			return open(t, postgres.URLOf(s.(*postgres.Store)), "")
		},
		Shared: true,
		Reopen: func(t *testing.T, s store.Store) store.Store {
			url := postgres.URLOf(s.(*postgres.Store))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, url, "")
		},
	})
}
