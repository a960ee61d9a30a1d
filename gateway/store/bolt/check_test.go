package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/store"
)

// goodFile writes a data file with a few thousand events (many pages) in a
// fresh dir, closes it and returns its path.
func goodFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	in := db
	for i := range 20 {
		var evs []store.Event
		for j := range 100 {
			e := ev(fmt.Sprintf("key-%d-%d", i, j))
			e.Value = strings.Repeat("v", 200)
			evs = append(evs, e)
		}
		if _, err := in.AppendEvents(context.Background(), evs, store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	in.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, FileName)
}

func TestOpenRefusesADamagedFile(t *testing.T) {
	page := int64(os.Getpagesize())
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string
		// structural: checked with the cheap check only (a big file's start).
		structural bool
	}{
		{name: "cut to half", damage: func(t *testing.T, path string) { truncate(t, path, size(t, path)/2) },
			want: "it was cut short"},
		{name: "cut to half, structural check", damage: func(t *testing.T, path string) { truncate(t, path, size(t, path)/2) },
			want: "it was cut short", structural: true},
		{name: "cut inside the meta pages", damage: func(t *testing.T, path string) { truncate(t, path, 100) },
			want: "shorter than a bbolt file's two meta pages"},
		{name: "both meta pages overwritten", damage: func(t *testing.T, path string) {
			overwrite(t, path, 0, 2*page, 0x5a)
		}, want: "invalid database"},
		{name: "data pages flipped", damage: func(t *testing.T, path string) {
			flip(t, path, 4*page, size(t, path)-8*page)
		}, want: "is damaged"},
		{name: "not a data file", damage: func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("callgate config, not a database\n", 1000)), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: "is damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := goodFile(t)
			tt.damage(t, path)
			opts := Options{Dir: filepath.Dir(path)}
			if tt.structural {
				opts.FullCheckBelow = -1
			}
			db, err := Open(opts)
			if err == nil {
				db.Close()
				t.Fatal("Open accepted a damaged file")
			}
			var ce *CorruptError
			if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a CorruptError", err)
			}
			t.Logf("problems: %q", ce.Problems)
			msg := err.Error()
			for _, want := range []string{tt.want, "data file " + path, "mv " + path + " " + path + ".damaged",
				"callgate store check --file", `docs/operations.md, "Recovering from a damaged data file"`} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			if err := CheckFile(path, CheckFull); !errors.Is(err, ErrCorrupt) {
				t.Errorf("CheckFile = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestOpenNeverPanicsOnFlippedBytes flips one byte at a time all over a
// real file: Open either refuses it or opens a file that still reads whole,
// and never panics or faults.
func TestOpenNeverPanicsOnFlippedBytes(t *testing.T) {
	path := goodFile(t)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	step := max(int64(len(orig))/300, 1)
	refused := 0
	for off := int64(0); off < int64(len(orig)); off += step + 13 {
		raw := append([]byte(nil), orig...)
		raw[off] ^= 0xa5
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := Open(Options{Dir: filepath.Dir(path)})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d flipped: err = %v, want ErrCorrupt", off, err)
			}
			refused++
			continue
		}
		db.Close()
	}
	if refused == 0 {
		t.Fatal("no flipped byte was noticed")
	}
}

func TestCheckFileOnAGoodFile(t *testing.T) {
	path := goodFile(t)
	for _, mode := range []CheckMode{CheckFull, CheckStructural} {
		if err := CheckFile(path, mode); err != nil {
			t.Errorf("CheckFile(%d) = %v", mode, err)
		}
	}
	db, err := Open(Options{Dir: filepath.Dir(path)})
	if err != nil {
		t.Fatalf("Open after the check: %v", err)
	}
	db.Close()
	if err := CheckFile(filepath.Join(t.TempDir(), FileName), CheckFull); err == nil || errors.Is(err, ErrCorrupt) {
		t.Errorf("CheckFile of a missing file = %v, want a not-found error", err)
	}
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

func truncate(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

func overwrite(t *testing.T, path string, off, n int64, b byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat(string(b), int(n))), off); err != nil {
		t.Fatal(err)
	}
}

// flip inverts every 97th byte in [off, off+n).
func flip(t *testing.T, path string, off, n int64) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := off; i < off+n && i < int64(len(raw)); i += 97 {
		raw[i] ^= 0xff
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}
