package store

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// idSource hands out ULIDs that sort in creation order, also within one
// millisecond (monotonic entropy); the zero value is ready to use.
type idSource struct {
	mu      sync.Mutex
	entropy *ulid.MonotonicEntropy
}

// next returns a new ULID for time t.
func (s *idSource) next(t time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entropy == nil {
		s.entropy = ulid.Monotonic(rand.Reader, 0)
	}
	return ulid.MustNew(ulid.Timestamp(t), s.entropy).String()
}

// NewID returns a new ULID stamped with t, unique within this DB.
func (db *DB) NewID(t time.Time) string { return db.ids.next(t) }
