package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime/debug"
	"strings"

	bbolt "go.etcd.io/bbolt"
)

// ErrCorrupt is what Open and CheckFile return (wrapped in a
// *CorruptError) for a data file that is damaged: truncated, overwritten
// or not a callgate file at all.
var ErrCorrupt = errors.New("data file is damaged")

// DefaultFullCheckBelow is the file size under which Open runs bbolt's
// full consistency check (every page, every key). A bigger file gets the
// structural check (meta pages, size, every bucket's first and last key,
// the schema version) so a start stays quick; `callgate store check` runs
// the full one offline.
const DefaultFullCheckBelow = 256 << 20

// maxProblems bounds how many problems a CorruptError lists.
const maxProblems = 10

// CorruptError says what is wrong with a data file and how to recover.
type CorruptError struct {
	Path     string
	Problems []string
}

func (e *CorruptError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data file %s is damaged: %s", e.Path, strings.Join(e.Problems, "; "))
	fmt.Fprintf(&b, ".\nNothing was written to it. To recover: stop anything using it, move it aside (mv %s %s.damaged), "+
		"put your latest backup in its place (cp BACKUP.db %s; chmod 600 %s) and start callgate again; "+
		"`callgate store check --file BACKUP.db` checks a backup first. What was acknowledged after that backup "+
		"is not in it. "+
		"See docs/operations.md, \"Recovering from a damaged data file\"", e.Path, e.Path, e.Path, e.Path)
	return b.String()
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// CheckMode is how thoroughly a data file is checked.
type CheckMode int

const (
	// CheckAuto runs the full check below Options.FullCheckBelow, else the
	// structural one.
	CheckAuto CheckMode = iota
	// CheckStructural reads the meta pages, compares the file's size with
	// what they say, reads every bucket's first and last key and the schema
	// version.
	CheckStructural
	// CheckFull is CheckStructural plus bbolt's consistency check of every
	// page and key.
	CheckFull
)

// CheckFile checks the data file at path offline (read-only; nothing is
// written) with mode CheckFull or CheckStructural. A damaged file gives a
// *CorruptError; a file that cannot be read at all another error.
func CheckFile(path string, mode CheckMode) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("data file %s: %w", path, err)
	}
	b, err := openBolt(path, &bbolt.Options{ReadOnly: true, Timeout: defaultLockTimeout})
	if err != nil {
		return err
	}
	defer b.Close()
	if mode == CheckAuto {
		mode = CheckFull
	}
	return check(b, path, mode)
}

// openBolt is bbolt.Open after preflight, turning a panic or a memory
// fault on a file of garbage into a *CorruptError (bbolt trusts what it
// reads). preflight checks what bbolt.Open reads, because a panic inside it
// leaks the file's descriptor and lock.
func openBolt(path string, o *bbolt.Options) (b *bbolt.DB, err error) {
	if problem := preflight(path); problem != "" {
		return nil, &CorruptError{Path: path, Problems: []string{problem}}
	}
	defer func() {
		if v := recover(); v != nil {
			b, err = nil, &CorruptError{Path: path, Problems: []string{fmt.Sprintf("bbolt could not read it (%v)", v)}}
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	b, err = bbolt.Open(path, 0o600, o)
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("data file %s is %w (is another callgate running with this data_dir?)", path, ErrLocked)
	}
	if errors.Is(err, bbolt.ErrInvalid) || errors.Is(err, bbolt.ErrVersionMismatch) || errors.Is(err, bbolt.ErrChecksum) {
		return nil, &CorruptError{Path: path, Problems: []string{err.Error()}}
	}
	if err != nil {
		return nil, fmt.Errorf("data file %s: %w", path, err)
	}
	return b, nil
}

// check runs the checks of mode on an open file.
func check(b *bbolt.DB, path string, mode CheckMode) (err error) {
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	defer func() {
		if v := recover(); v != nil {
			add("reading it failed (%v)", v)
		}
		if len(problems) > 0 {
			err = &CorruptError{Path: path, Problems: problems}
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	info, serr := os.Stat(path)
	if serr != nil {
		return fmt.Errorf("data file %s: %w", path, serr)
	}
	if problem := checkTree(path, mode == CheckFull); problem != "" {
		add("%s", problem)
		return nil
	}
	verr := b.View(func(tx *bbolt.Tx) error {
		// The meta page says how far the file's pages reach; a file cut
		// short (a copy interrupted, a full disk) ends before that, and
		// reading past its end would fault.
		if want := tx.Size(); info.Size() < want {
			add("it is %d bytes but its pages reach to byte %d: it was cut short", info.Size(), want)
			return nil
		}
		if tx.Bucket(bucketMeta) == nil && tx.Bucket(bucketInboxEvents) == nil {
			if hasBuckets(tx) {
				add("it is a bbolt file, but not callgate's (no meta bucket)")
			}
			return nil // a new, empty file: Open creates the buckets
		}
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			add("bucket %q is missing", bucketMeta)
		} else if raw := meta.Get([]byte("schema_version")); len(raw) != 8 {
			add("the schema version is unreadable")
		} else if v := binary.BigEndian.Uint64(raw); v == 0 || v > 1<<20 {
			add("the schema version %d is not one callgate writes", v)
		}
		for _, name := range allBuckets {
			bk := tx.Bucket(name)
			if bk == nil {
				continue // added by a later version's migration; Open creates it
			}
			c := bk.Cursor()
			c.First()
			c.Last()
		}
		if mode != CheckFull {
			return nil
		}
		// Read every key and value here first, where a wild page number
		// faults into a recovered panic; bbolt's own check runs in a
		// goroutine of its own, where a fault would end the process.
		if err := walk(tx.Cursor()); err != nil {
			add("%v", err)
			return nil
		}
		for cerr := range tx.Check() {
			add("%v", cerr)
		}
		return nil
	})
	if verr != nil {
		add("%v", verr)
	}
	return nil
}

// hasBuckets says whether tx holds any top-level bucket.
func hasBuckets(tx *bbolt.Tx) bool {
	found := false
	_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { found = true; return errors.New("stop") })
	return found
}

// bbolt's on-disk format (go.etcd.io/bbolt/internal/common), version 2,
// in the machine's byte order.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	metaChecksumAt   = 56 // magic, version, page size, flags (u32 each), root (u64, u64), freelist, pgid, txid (u64 each)
	freelistPageFlag = 0x10
	noFreelist       = ^uint64(0)
)

// boltMeta is what preflight reads of a meta page.
type boltMeta struct {
	pageSize                 uint32
	root, freelist, pgid, tx uint64
}

// preflight reads the file's meta pages and freelist as bbolt.Open will,
// and says what is wrong ("" when nothing is, or the file is new).
func preflight(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "" // missing (a new data dir) or unreadable: bbolt.Open says which
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return ""
	}
	size := info.Size()
	m, problem := readMeta(f, size)
	if problem != "" {
		return problem
	}
	ps := int64(m.pageSize)
	if want := int64(m.pgid) * ps; size < want {
		return fmt.Sprintf("it is %d bytes but its pages reach to byte %d: it was cut short", size, want)
	}
	if m.freelist == noFreelist {
		return ""
	}
	hdr := readAt(f, size, int64(m.freelist)*ps, pageHeaderSize+8)
	if hdr == nil || m.freelist >= m.pgid {
		return fmt.Sprintf("its freelist page %d lies outside the file", m.freelist)
	}
	id, flags := binary.NativeEndian.Uint64(hdr), binary.NativeEndian.Uint16(hdr[8:])
	count, overflow := uint64(binary.NativeEndian.Uint16(hdr[10:])), int64(binary.NativeEndian.Uint32(hdr[12:]))
	if id != m.freelist || flags != freelistPageFlag {
		return fmt.Sprintf("its freelist page %d is not a freelist page (id %d, flags %#x)", m.freelist, id, flags)
	}
	if count == 0xFFFF { // the real count is the first element
		count = binary.NativeEndian.Uint64(hdr[pageHeaderSize:]) + 1
	}
	if end := int64(m.freelist)*ps + (overflow+1)*ps; end > size || overflow < 0 || count*8 > uint64((overflow+1)*ps) {
		return fmt.Sprintf("its freelist page %d is damaged (%d ids over %d pages)", m.freelist, count, overflow+1)
	}
	return ""
}

// readMeta reads the meta pages of a bbolt file of size bytes and returns
// the one bbolt would use (the valid one with the later transaction).
func readMeta(f *os.File, size int64) (boltMeta, string) {
	if size < 2*pageHeaderSize+2*metaChecksumAt {
		return boltMeta{}, fmt.Sprintf("it is %d bytes, shorter than a bbolt file's two meta pages: it was cut short", size)
	}
	read := func(off, n int64) []byte { return readAt(f, size, off, n) }
	var metas []boltMeta
	m0, ok0 := parseMeta(read(0, pageHeaderSize+metaChecksumAt+8))
	if ok0 {
		metas = append(metas, m0)
	}
	// The second meta page sits one page in; without a readable first
	// page, try the sizes bbolt could have been written with.
	sizes := []int64{int64(os.Getpagesize()), 4096, 8192, 16384, 32768, 65536}
	if ok0 {
		sizes = []int64{int64(m0.pageSize)}
	}
	for _, ps := range sizes {
		if m1, ok := parseMeta(read(ps, pageHeaderSize+metaChecksumAt+8)); ok && int64(m1.pageSize) == ps {
			metas = append(metas, m1)
			break
		}
	}
	if len(metas) == 0 {
		if size < int64(os.Getpagesize())*2 {
			return boltMeta{}, fmt.Sprintf("it is %d bytes, shorter than a bbolt file's two meta pages: it was cut short", size)
		}
		return boltMeta{}, "neither of its meta pages is valid (invalid database): it is not a bbolt file, or its first pages were overwritten"
	}
	m := metas[0]
	if len(metas) == 2 && metas[1].tx > m.tx {
		m = metas[1]
	}
	return m, ""
}

// parseMeta decodes a meta page and says whether it is valid: magic,
// version, page size and checksum.
func parseMeta(b []byte) (boltMeta, bool) {
	if len(b) < pageHeaderSize+metaChecksumAt+8 {
		return boltMeta{}, false
	}
	body := b[pageHeaderSize:]
	e := binary.NativeEndian
	if e.Uint32(body) != boltMagic || e.Uint32(body[4:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(body[:metaChecksumAt])
	if h.Sum64() != e.Uint64(body[metaChecksumAt:]) {
		return boltMeta{}, false
	}
	m := boltMeta{pageSize: e.Uint32(body[8:]), root: e.Uint64(body[16:]), freelist: e.Uint64(body[32:]), pgid: e.Uint64(body[40:]), tx: e.Uint64(body[48:])}
	if m.pageSize < 512 || m.pageSize&(m.pageSize-1) != 0 {
		return boltMeta{}, false
	}
	return m, true
}

// walk reads every key and value under c, bucket by bucket.
func walk(c *bbolt.Cursor) error {
	b := c.Bucket()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			continue
		}
		child := b.Bucket(k)
		if child == nil {
			return fmt.Errorf("key %q has neither a value nor a bucket", k)
		}
		if err := walk(child.Cursor()); err != nil {
			return err
		}
	}
	return nil
}

// guard runs fn, turning a panic or a fault on damaged pages into a
// *CorruptError.
func guard(path string, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &CorruptError{Path: path, Problems: []string{fmt.Sprintf("reading it failed (%v)", v)}}
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return fn()
}

// readAt reads n bytes at off of a file of size bytes; nil when they are
// not all there.
func readAt(f *os.File, size, off, n int64) []byte {
	if off < 0 || n < 0 || off+n > size {
		return nil
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil
	}
	return buf
}
