package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
)

var bucketHealth = []byte("health") // "ping" → unix nanos of the last Ping

// PingEvery is how long a Ping result is reused: /readyz may be probed
// often, and each real ping is one fsync'd commit.
const PingEvery = time.Second

// pinger caches the result of the last ping.
type pinger struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// Ping reports whether the store can commit: it writes a few bytes to a
// health bucket in a real, fsync'd transaction, so a full disk, a file
// made read-only or a failing device shows here as it does to every writer.
// A result is reused for PingEvery.
func (db *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &db.ping
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < PingEvery {
		return p.err
	}
	now := time.Now()
	err := guard(db.path, func() error {
		return db.bolt.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketHealth)
			if err != nil {
				return err
			}
			return b.Put([]byte("ping"), binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())))
		})
	})
	if err != nil {
		err = fmt.Errorf("the data file cannot commit (%w): check the disk space and permissions of %s", err, db.path)
	}
	p.at, p.err = time.Now(), err
	return err
}
