package store

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// WriteBackup writes a consistent copy of the whole data file to w from
// one read transaction (bbolt's hot backup): writers carry on meanwhile.
// size is called first with the copy's length in bytes, so an HTTP
// handler can set Content-Length. The copy opens with store.Open like
// the original.
func (db *DB) WriteBackup(w io.Writer, size func(int64)) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if size != nil {
			size(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}
