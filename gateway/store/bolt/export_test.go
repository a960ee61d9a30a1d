package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/callgate/callgate/gateway/store"
)

// exported collects what an Exporter yields, as JSON lines.
func exported(t *testing.T, x store.Exporter) []string {
	t.Helper()
	var out []string
	err := x.Export(context.Background(), func(it store.Item) error {
		raw, err := json.Marshal(it)
		out = append(out, string(raw))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fillExport stores one record of every exported kind.
func fillExport(t *testing.T, db *Store) {
	t.Helper()
	ctx := context.Background()
	ev := store.Event{Key: "k1", AgentID: "sales", Type: "hubspot", Integration: "hubspot", ObjectType: "contact", ObjectID: "1"}
	if _, err := db.AppendEvents(ctx, []store.Event{ev}, store.AppendOptions{Now: t0}); err != nil {
		t.Fatal(err)
	}
	c := newCall("sales", "+4930000001")
	if _, _, err := db.CreateCall(ctx, c, store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: time.Hour, Now: t0,
		Outbox: []store.OutboxItem{{Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: []byte(`{}`), NextAt: t0}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddDND(ctx, "+4930000009", "asked", t0); err != nil {
		t.Fatal(err)
	}
	recs := []store.ListedRecord{{Integration: "hubspot", ObjectType: "contact", ObjectID: "1", CreatedAt: t0.Add(-time.Hour)}}
	if err := db.RecordListing(ctx, "hubspot", "created", t0, recs, t0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func TestExportKinds(t *testing.T) {
	db := openTest(t)
	fillExport(t, db)
	var kinds []string
	err := db.Export(context.Background(), func(it store.Item) error {
		raw, err := json.Marshal(it)
		if err != nil {
			return err
		}
		var set map[string]json.RawMessage
		if err := json.Unmarshal(raw, &set); err != nil {
			return err
		}
		for k, v := range set {
			if string(v) != "null" {
				kinds = append(kinds, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "Event Key Call Contact Outbox DND Checkpoint Listed"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("exported kinds %q, want one of each in order %q", got, want)
	}
	checkpoint := store.CheckpointItem{}
	_ = db.Export(context.Background(), func(it store.Item) error {
		if it.Checkpoint != nil {
			checkpoint = *it.Checkpoint
		}
		return nil
	})
	if checkpoint.Integration != "hubspot" || checkpoint.Listing != "created" || !checkpoint.At.Equal(t0) {
		t.Fatalf("checkpoint exported as %+v", checkpoint)
	}
}

// TestExportStops: the yield's error ends the export and is returned.
func TestExportStops(t *testing.T) {
	db := openTest(t)
	fillExport(t, db)
	stop := errors.New("stop")
	n := 0
	err := db.Export(context.Background(), func(store.Item) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Export after a failing yield: %v after %d items", err, n)
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fillExport(t, db)
	live := exported(t, db)

	t.Run("a running gateway's file is locked", func(t *testing.T) {
		f, err := OpenFile(filepath.Join(dir, FileName))
		if !errors.Is(err, ErrLocked) {
			if f != nil {
				f.Close()
			}
			t.Fatalf("OpenFile on a file a store holds: %v, want ErrLocked", err)
		}
	})

	backup := filepath.Join(t.TempDir(), "nightly.bak")
	var buf bytes.Buffer
	if _, err := db.WriteBackup(context.Background(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(backup, buf.Bytes(), 0o400); err != nil {
		t.Fatal(err)
	}
	t.Run("a backup exports what the store holds, and is not written", func(t *testing.T) {
		f, err := OpenFile(backup)
		if err != nil {
			t.Fatal(err)
		}
		got := exported(t, f)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, "\n") != strings.Join(live, "\n") {
			t.Fatalf("the backup exports\n%s\nthe store\n%s", strings.Join(got, "\n"), strings.Join(live, "\n"))
		}
		after, err := os.ReadFile(backup)
		if err != nil || !bytes.Equal(after, buf.Bytes()) {
			t.Fatalf("the backup changed by being exported (%v)", err)
		}
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("a stopped gateway's file opens", func(t *testing.T) {
		f, err := OpenFile(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got := exported(t, f); len(got) != len(live) {
			t.Fatalf("exported %d items, want %d", len(got), len(live))
		}
	})
}

func TestOpenFileRefuses(t *testing.T) {
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.db")
	foreign := filepath.Join(dir, "foreign.db")
	garbage := filepath.Join(dir, "garbage.db")
	write := func(path string, fn func(tx *bbolt.Tx) error) {
		b, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Update(fn); err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	write(newer, func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, SchemaVersion+1))
	})
	write(foreign, func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("something_else"))
		return err
	})
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("x"), 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.db"), "no such file"},
		{"newer schema", newer, "newer than this callgate"},
		{"not callgate's", foreign, "not callgate's"},
		{"not bbolt", garbage, "damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := OpenFile(tc.path)
			if err == nil {
				f.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("error %q, want it to name %s and say %q", err, tc.path, tc.want)
			}
		})
	}
}
