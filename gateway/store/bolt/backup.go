package bolt

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bbolt "go.etcd.io/bbolt"
)

// backupTxSize bounds one commit of the compacted copy, so a large file
// does not need its whole size in memory.
const backupTxSize = 64 << 20

// WriteBackup writes a consistent copy of the data file to w. The copy is
// compacted: the live keys of one read transaction are written into a
// fresh bbolt file (bbolt.Compact) in the data dir, which is then
// streamed and removed. Unlike a page copy of the file it holds none of
// the old bytes that freed pages keep, so data erased before the backup
// (Erase) is not in it. Writers carry on meanwhile. size is called first
// with the copy's length in bytes, so an HTTP handler can set
// Content-Length. The copy opens with Open like the original.
func (db *Store) WriteBackup(ctx context.Context, w io.Writer, size func(int64)) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := db.writeBackup(w, size)
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}

func (db *Store) writeBackup(w io.Writer, size func(int64)) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(db.path), ".backup-*.db")
	if err != nil {
		return 0, fmt.Errorf("temporary file for the compacted copy: %w", err)
	}
	name := tmp.Name()
	tmp.Close()
	defer os.Remove(name)
	dst, err := bbolt.Open(name, 0o600, &bbolt.Options{NoSync: true, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return 0, err
	}
	if err := bbolt.Compact(dst, db.bolt, backupTxSize); err != nil {
		dst.Close()
		return 0, fmt.Errorf("compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		return 0, err
	}
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if size != nil {
		size(st.Size())
	}
	return io.Copy(w, f)
}
