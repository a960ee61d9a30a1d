package store

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// IDs hands out ULIDs that sort in creation order, also within one
// millisecond (monotonic entropy); the zero value is ready to use. Every
// backend stamps events, calls and outbox items with one.
type IDs struct {
	mu      sync.Mutex
	entropy *ulid.MonotonicEntropy
}

// Next returns a new ULID for time t.
func (s *IDs) Next(t time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entropy == nil {
		s.entropy = ulid.Monotonic(rand.Reader, 0)
	}
	return ulid.MustNew(ulid.Timestamp(t), s.entropy).String()
}
