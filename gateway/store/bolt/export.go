package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/callgate/callgate/gateway/store"
)

// Export yields every record of the file in one read transaction, so the
// copy is consistent while the gateway keeps serving: events, dedupe
// keys, calls and their contact entries, outbox items, the DND list and
// reconciliation's checkpoints and listed records. Indexes are not
// yielded: the importing backend derives its own, and leases with them
// (a pending event's lease lives in the due index only).
func (db *Store) Export(ctx context.Context, yield func(store.Item) error) error {
	return db.bolt.View(func(tx *bbolt.Tx) error { return exportTx(ctx, tx, yield) })
}

// File is a data file opened read-only to be copied elsewhere (`callgate
// store copy`): nothing is migrated, released or written, so a backup
// copy stays byte for byte what it was.
type File struct {
	bolt *bbolt.DB
	path string
}

var _ store.Exporter = (*File)(nil)

// OpenFile opens the bbolt file at path (any name: callgate.db of a data
// dir, or a copy from `callgate backup --out FILE`) read-only, after the
// check Open runs. Read-only still takes a shared lock, which the
// exclusive lock of a gateway running on the file refuses: ErrLocked.
// A file of a newer schema than this callgate's is refused.
func OpenFile(path string) (*File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("data file %s: %w", path, err)
	}
	b, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: defaultLockTimeout})
	if err != nil {
		return nil, err
	}
	mode := CheckStructural
	if info.Size() < DefaultFullCheckBelow {
		mode = CheckFull
	}
	if err := check(b, path, mode); err != nil {
		b.Close()
		return nil, err
	}
	if err := readableSchema(b); err != nil {
		b.Close()
		return nil, fmt.Errorf("data file %s: %w", path, err)
	}
	return &File{bolt: b, path: path}, nil
}

// readableSchema refuses a file that is not callgate's, or whose records
// a newer callgate wrote. Older versions differ from this one only in
// their indexes, which Export does not read.
func readableSchema(b *bbolt.DB) error {
	return b.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("not a callgate data file (no meta bucket)")
		}
		raw := meta.Get([]byte("schema_version"))
		if len(raw) != 8 {
			return errors.New("not a callgate data file (no schema version)")
		}
		if v := binary.BigEndian.Uint64(raw); v > SchemaVersion {
			return fmt.Errorf("schema version %d is newer than this callgate understands (%d): copy it with the callgate that wrote it", v, SchemaVersion)
		}
		return nil
	})
}

// Path is the file's path.
func (f *File) Path() string { return f.path }

// Export yields every record of the file, as Store.Export does.
func (f *File) Export(ctx context.Context, yield func(store.Item) error) error {
	return f.bolt.View(func(tx *bbolt.Tx) error { return exportTx(ctx, tx, yield) })
}

// Close releases the file.
func (f *File) Close() error { return f.bolt.Close() }

// exportTx yields the records of tx, kind by kind.
func exportTx(ctx context.Context, tx *bbolt.Tx, yield func(store.Item) error) error {
	steps := []struct {
		bucket []byte
		item   func(k, v []byte) (store.Item, error)
	}{
		{bucketInboxEvents, func(k, v []byte) (store.Item, error) {
			ev, err := decode[store.Event](k, v)
			return store.Item{Event: ev}, err
		}},
		{bucketInboxKeys, func(k, v []byte) (store.Item, error) {
			if len(v) < 8 {
				return store.Item{}, fmt.Errorf("dedupe key %q: short value", k)
			}
			return store.Item{Key: &store.KeyItem{Key: string(k), Expires: fromTimeKey(v[:8]), EventID: string(v[8:])}}, nil
		}},
		{bucketCalls, func(k, v []byte) (store.Item, error) {
			c, err := decode[store.Call](k, v)
			return store.Item{Call: c}, err
		}},
		{bucketCallsContact, func(k, v []byte) (store.Item, error) {
			i := bytes.IndexByte(k, 0)
			if i < 0 || len(v) < 8 {
				return store.Item{}, fmt.Errorf("contact entry %q: malformed", k)
			}
			return store.Item{Contact: &store.ContactItem{AgentID: string(k[:i]), ContactKey: string(k[i+1:]),
				CreatedAt: fromTimeKey(v[:8]), CallID: string(v[8:])}}, nil
		}},
		{bucketOutbox, func(k, v []byte) (store.Item, error) {
			it, err := decode[store.OutboxItem](k, v)
			return store.Item{Outbox: it}, err
		}},
		{bucketDND, func(k, v []byte) (store.Item, error) {
			e, err := decode[store.DNDEntry](k, v)
			return store.Item{DND: e}, err
		}},
		{bucketReconcileCheckpoints, func(k, v []byte) (store.Item, error) {
			i := bytes.IndexByte(k, 0)
			if i < 0 || len(v) != 8 {
				return store.Item{}, fmt.Errorf("checkpoint %q: malformed", k)
			}
			at := time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			return store.Item{Checkpoint: &store.CheckpointItem{Integration: string(k[:i]), Listing: string(k[i+1:]), At: at}}, nil
		}},
		{bucketReconcileListed, func(k, _ []byte) (store.Item, error) {
			r, ok := parseListedKey(k)
			if !ok {
				return store.Item{}, fmt.Errorf("listed record %q: malformed", k)
			}
			return store.Item{Listed: &r}, nil
		}},
	}
	for _, step := range steps {
		b := tx.Bucket(step.bucket)
		if b == nil {
			continue // a file older than the bucket: nothing of the kind
		}
		err := b.ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			it, err := step.item(k, v)
			if err != nil {
				return fmt.Errorf("bucket %s: %w", step.bucket, err)
			}
			return yield(it)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// decode reads a record's JSON value.
func decode[T any](k, v []byte) (*T, error) {
	var rec T
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("record %s: %w", k, err)
	}
	return &rec, nil
}

// parseListedKey reads a reconcile_listed key (see listedKey).
func parseListedKey(k []byte) (store.ListedRecord, bool) {
	i := bytes.IndexByte(k, 0)
	if i < 0 || len(k) < i+1+8 {
		return store.ListedRecord{}, false
	}
	rest := k[i+9:]
	j := bytes.IndexByte(rest, 0)
	if j < 0 {
		return store.ListedRecord{}, false
	}
	return store.ListedRecord{Integration: string(k[:i]), CreatedAt: fromTimeKey(k[i+1 : i+9]), ObjectType: string(rest[:j]), ObjectID: string(rest[j+1:])}, true
}
