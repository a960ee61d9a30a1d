package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/gateway/store/storetest"
)

// TestConformance runs the store conformance suite on real bbolt files,
// one per subtest. One process holds a file, so there is no Peer: the
// suite's multi-process subtests skip. Reopen closes the file and opens
// it again, as a restarted callgate would.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) store.Store {
			return open(t, t.TempDir())
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			db := s.(*bolt.Store)
			if err := db.Close(); err != nil {
				t.Fatalf("close %s: %v", db.Path(), err)
			}
			return open(t, filepath.Dir(db.Path()))
		},
	})
}

func open(t *testing.T, dir string) *bolt.Store {
	t.Helper()
	db, err := bolt.Open(bolt.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close %s: %v", db.Path(), err)
		}
	})
	return db
}
