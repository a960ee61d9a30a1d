// Package bolt is the embedded store.Store: callgate's durable state in
// one bbolt file, for one process. The inbox of accepted CRM events, calls
// and their schedule, the DND list, the outbox of notifications and what
// reconciliation remembers live in buckets with hand-made indexes (each
// file names its buckets). Nothing outside this package touches bbolt.
//
// Every write is committed with fsync before the method returns. Methods
// take a context and check it before they start: a bbolt transaction
// cannot be interrupted.
package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/hashicorp/go-hclog"
	bbolt "go.etcd.io/bbolt"
)

// FileName is the name of the bbolt file inside the data dir.
const FileName = "callgate.db"

// SchemaVersion is the layout this code reads and writes. Opening an older
// file runs the migrations from its version up; a newer file is refused.
const SchemaVersion = 3

// migrations[v] upgrades a file from version v to v+1.
var migrations = map[int]func(tx *bbolt.Tx) error{
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
	// DedupeTTL is how long an event's dedupe key is remembered (default
	// store.DefaultDedupeTTL).
	DedupeTTL time.Duration
	// SweepEvery is how often expired dedupe keys are deleted (default 10m).
	SweepEvery time.Duration
	Now        func() time.Time // the inbox clock; default time.Now
	Logger     hclog.Logger     // default: discard
}

const defaultLockTimeout = 2 * time.Second

// Store is an open bbolt file: every part of store.Store, and backups
// (store.Backuper). One process holds the file (bbolt's lock), so a lease
// never needs an owner here: whatever was leased when the file was opened
// was leased by a process that is gone.
//
// The inbox's appends from many concurrent requests share one fsync'd
// commit: a single writer goroutine takes every request queued while the
// previous commit was syncing and commits them together (group commit),
// so a 200 costs a share of one fsync rather than one each.
type Store struct {
	bolt *bbolt.DB
	path string
	ids  store.IDs // ULIDs for events and calls
	ping pinger    // the last Ping, for /readyz
	wake wakeups   // Changes

	// The inbox writer (inbox.go).
	ttl     time.Duration
	now     func() time.Time
	reqs    chan *appendReq
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	pending atomic.Int64 // events not yet terminal: exact, one process writes the file
	log     hclog.Logger

	// commits groups the call writes into shared transactions without
	// bbolt's 10 ms batch delay (groupcommit.go).
	commits groupCommit

	// orphans are the calls that were dialing when the file was opened
	// (OrphanedDialing).
	orphans []string
}

var _ store.Store = (*Store)(nil)
var _ store.Backuper = (*Store)(nil)

// ErrLocked is returned when another process holds the data file.
var ErrLocked = errors.New("locked by another process")

// Open opens (creating if needed) the store in opts.Dir and starts the
// inbox writer. Leases left by a previous process are released at once:
// bbolt's file lock guarantees that process is gone, so its claimed events
// are due again now, and the calls it left dialing are OrphanedDialing.
func Open(opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = defaultLockTimeout
	}
	if opts.FullCheckBelow == 0 {
		opts.FullCheckBelow = DefaultFullCheckBelow
	}
	if opts.DedupeTTL <= 0 {
		opts.DedupeTTL = store.DefaultDedupeTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir %s: cannot create it: %w", opts.Dir, err)
	}
	path := filepath.Join(opts.Dir, FileName)
	b, err := openBolt(path, &bbolt.Options{Timeout: opts.Timeout, FreelistType: bbolt.FreelistMapType})
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
	db := &Store{bolt: b, path: path, ttl: opts.DedupeTTL, now: opts.Now, reqs: make(chan *appendReq, 1024),
		stop: make(chan struct{}), stopped: make(chan struct{}), log: opts.Logger}
	if err := guard(path, db.migrate); err != nil {
		b.Close()
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("data file %s: %w", path, err)
	}
	if err := db.releaseLeases(); err != nil {
		b.Close()
		return nil, fmt.Errorf("data file %s: %w", path, err)
	}
	go db.writer(opts.SweepEvery)
	return db, nil
}

// Path is the bbolt file's path.
func (db *Store) Path() string { return db.path }

// Info says this is the bolt backend and where its file is.
func (db *Store) Info() store.Info {
	return store.Info{Backend: "bolt", Location: db.path, Owner: fmt.Sprintf("pid %d", os.Getpid())}
}

// NewID returns a new ULID stamped with t, unique within this store.
func (db *Store) NewID(t time.Time) string { return db.ids.Next(t) }

// Close stops the inbox writer (appends after Close fail) and closes the
// file. Closing twice is safe.
func (db *Store) Close() error {
	db.once.Do(func() { close(db.stop) })
	<-db.stopped
	err := db.bolt.Close()
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return nil
	}
	return err
}

// migrate creates every bucket and brings the schema up to SchemaVersion.
func (db *Store) migrate() error {
	return db.bolt.Update(func(tx *bbolt.Tx) error {
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
func (db *Store) SchemaVersionOnDisk() (int, error) {
	var v int
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketMeta).Get([]byte("schema_version"))
		if raw == nil {
			return errors.New("no schema version")
		}
		v = int(binary.BigEndian.Uint64(raw))
		return nil
	})
	return v, err
}
