// Package store keeps callgate's durable state in one bbolt file: the
// inbox of accepted CRM events, calls and their schedule, the DND list and
// the outbox of notifications. Nothing outside this package touches bbolt;
// everyone else goes through its typed accessors, so a second backend can
// implement the same methods.
//
// Every write is committed with fsync before the method returns.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the name of the bbolt file inside the data dir.
const FileName = "callgate.db"

// SchemaVersion is the layout this code reads and writes. Opening an older
// file runs the migrations from its version up; a newer file is refused.
const SchemaVersion = 3

// migrations[v] upgrades a file from version v to v+1.
var migrations = map[int]func(tx *bolt.Tx) error{
	1: indexCallsBySource,  // calls.go: the per-contact index erasure reads
	2: indexEventsByObject, // reconcile.go: the per-record index reconciliation reads
}

var bucketMeta = []byte("meta")

// Options configure Open.
type Options struct {
	Dir string // data dir; created 0700 if missing
	// Timeout bounds the wait for the file lock held by another process.
	Timeout time.Duration // default 2s
	// FullCheckBelow: a file smaller than this gets bbolt's full
	// consistency check at open, a bigger one the structural check (see
	// CheckMode). Default DefaultFullCheckBelow; negative: always structural.
	FullCheckBelow int64
}

const defaultLockTimeout = 2 * time.Second

// DB is an open store.
type DB struct {
	bolt *bolt.DB
	path string
	ids  IDs // ULIDs for events and calls
	// outboxCommitted holds one signal after a commit that wrote outbox
	// items, so the deliverer sleeps instead of polling.
	outboxCommitted chan struct{}
	// eventsSettled is told how many pending events an erasure settled,
	// so the open Inbox's pending count stays right (set by NewInbox).
	eventsSettled atomic.Pointer[func(n int64)]
	ping          pinger // the last Ping, for /readyz
}

// ErrNotFound is returned when an event, call or other item does not exist.
var ErrNotFound = errors.New("not found")

// ErrLocked is returned when another process holds the data file.
var ErrLocked = errors.New("locked by another process")

// Open opens (creating if needed) the store in opts.Dir.
func Open(opts Options) (*DB, error) {
	if opts.Timeout == 0 {
		opts.Timeout = defaultLockTimeout
	}
	if opts.FullCheckBelow == 0 {
		opts.FullCheckBelow = DefaultFullCheckBelow
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: cannot create it: %w", opts.Dir, err)
	}
	path := filepath.Join(opts.Dir, FileName)
	b, err := openBolt(path, &bolt.Options{Timeout: opts.Timeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	// Check before the first write: a damaged file must not take webhooks
	// (and be served as a backup) only to panic later in a worker.
	mode := CheckStructural
	if info, err := os.Stat(path); err == nil && info.Size() < opts.FullCheckBelow {
		mode = CheckFull
	}
	if err := check(b, path, mode); err != nil {
		b.Close()
		return nil, err
	}
	db := &DB{bolt: b, path: path, outboxCommitted: make(chan struct{}, 1)}
	if err := guard(path, db.migrate); err != nil {
		b.Close()
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("data file %s: %w", path, err)
	}
	return db, nil
}

// Path is the bbolt file's path.
func (db *DB) Path() string { return db.path }

// Close closes the file.
func (db *DB) Close() error { return db.bolt.Close() }

// migrate creates every bucket and brings the schema up to SchemaVersion.
func (db *DB) migrate() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		v := 0
		if raw := meta.Get([]byte("schema_version")); raw != nil {
			v = int(binary.BigEndian.Uint64(raw))
		} else {
			v = SchemaVersion // a new file starts at the current layout
		}
		if v > SchemaVersion {
			return fmt.Errorf("schema version %d is newer than this callgate understands (%d): upgrade callgate", v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			if m := migrations[v]; m != nil {
				if err := m(tx); err != nil {
					return fmt.Errorf("migrate schema %d→%d: %w", v, v+1, err)
				}
			}
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return meta.Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, uint64(SchemaVersion)))
	})
}

// SchemaVersionOnDisk reads the schema version stored in the file.
func (db *DB) SchemaVersionOnDisk() (int, error) {
	var v int
	err := db.bolt.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get([]byte("schema_version"))
		if raw == nil {
			return errors.New("no schema version")
		}
		v = int(binary.BigEndian.Uint64(raw))
		return nil
	})
	return v, err
}
