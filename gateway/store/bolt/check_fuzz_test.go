package bolt

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheckFile: whatever bytes the data file holds, the checks answer
// with an error or success, never a panic, a fault or a hang.
func FuzzCheckFile(f *testing.F) {
	dir := f.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		f.Fatal(err)
	}
	if err := db.AddDND(ctx, "+14155550123", "seed", t0); err != nil {
		f.Fatal(err)
	}
	db.Close()
	good, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add([]byte("not a database"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		// CheckFile runs every check Open runs before its first write
		// (Open's own writes would make each run an fsync).
		_ = CheckFile(filepath.Join(dir, FileName), CheckFull)
		_ = CheckFile(filepath.Join(dir, FileName), CheckStructural)
	})
}
