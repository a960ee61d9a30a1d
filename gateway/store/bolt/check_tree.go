package bolt

import (
	"encoding/binary"
	"fmt"
	"os"
)

// bbolt page layout (go.etcd.io/bbolt/internal/common).
const (
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	bucketLeafFlag   = 0x01 // a leaf element that holds a bucket
	pageElementSize  = 16   // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	bucketHeaderSize = 16   // root pgid, sequence u64
	maxTreeDepth     = 64
)

// treeWalk reads the B+tree pages of a data file itself, with bounds on
// every offset and each page visited once, before bbolt is let near them:
// bbolt trusts page numbers and offsets, so a damaged page can make it
// read outside the file (a fault that ends the process) or loop forever.
type treeWalk struct {
	f    *os.File
	ps   int64  // page size
	hwm  uint64 // pages in use
	full bool   // every child of every branch; else the first and last only
	seen map[uint64]bool
}

// checkTree walks the tree from the meta page's root bucket and returns
// the first problem found, or "".
func checkTree(path string, full bool) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return ""
	}
	m, problem := readMeta(f, info.Size())
	if problem != "" {
		return problem
	}
	w := &treeWalk{f: f, ps: int64(m.pageSize), hwm: m.pgid, full: full, seen: map[uint64]bool{}}
	if err := w.node(m.root, 0); err != nil {
		return err.Error()
	}
	return ""
}

// page reads page id and its overflow pages.
func (w *treeWalk) page(id uint64) ([]byte, error) {
	if id < 2 || id >= w.hwm {
		return nil, fmt.Errorf("page %d is referenced but lies outside the %d pages in use", id, w.hwm)
	}
	if w.seen[id] {
		return nil, fmt.Errorf("page %d is referenced twice (a loop or a crossed link)", id)
	}
	hdr := make([]byte, pageHeaderSize)
	if _, err := w.f.ReadAt(hdr, int64(id)*w.ps); err != nil {
		return nil, fmt.Errorf("page %d cannot be read: %v", id, err)
	}
	e := binary.NativeEndian
	if got := e.Uint64(hdr); got != id {
		return nil, fmt.Errorf("page %d calls itself page %d", id, got)
	}
	overflow := uint64(e.Uint32(hdr[12:]))
	if id+overflow >= w.hwm {
		return nil, fmt.Errorf("page %d runs %d pages past the pages in use", id, id+overflow+1-w.hwm)
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d overlaps page %d", id, i)
		}
		w.seen[i] = true
	}
	buf := make([]byte, int64(overflow+1)*w.ps)
	if _, err := w.f.ReadAt(buf, int64(id)*w.ps); err != nil {
		return nil, fmt.Errorf("page %d cannot be read: %v", id, err)
	}
	return buf, nil
}

// node checks page id (a branch or leaf) and what hangs below it.
func (w *treeWalk) node(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("page %d lies %d levels deep: the tree loops", id, depth)
	}
	buf, err := w.page(id)
	if err != nil {
		return err
	}
	return w.elements(buf, id, depth)
}

// elements checks the elements of one page's bytes (a page of the file, or
// an inline bucket's page inside a value).
func (w *treeWalk) elements(buf []byte, id uint64, depth int) error {
	e := binary.NativeEndian
	if len(buf) < pageHeaderSize {
		return fmt.Errorf("page %d is shorter than its header", id)
	}
	flags, count := e.Uint16(buf[8:]), int(e.Uint16(buf[10:]))
	if pageHeaderSize+count*pageElementSize > len(buf) {
		return fmt.Errorf("page %d says it holds %d elements, more than fit", id, count)
	}
	switch flags {
	case branchPageFlag:
		if count == 0 {
			return fmt.Errorf("branch page %d is empty", id)
		}
		for i := 0; i < count; i++ {
			if !w.full && i != 0 && i != count-1 {
				continue
			}
			at := pageHeaderSize + i*pageElementSize
			pos, ksize := int(e.Uint32(buf[at:])), int(e.Uint32(buf[at+4:]))
			if at+pos+ksize > len(buf) || pos < 0 {
				return fmt.Errorf("page %d: key %d lies outside the page", id, i)
			}
			if err := w.node(e.Uint64(buf[at+8:]), depth+1); err != nil {
				return err
			}
		}
		return nil
	case leafPageFlag:
		for i := 0; i < count; i++ {
			at := pageHeaderSize + i*pageElementSize
			eflags, pos := e.Uint32(buf[at:]), int(e.Uint32(buf[at+4:]))
			ksize, vsize := int(e.Uint32(buf[at+8:])), int(e.Uint32(buf[at+12:]))
			end := at + pos + ksize + vsize
			if pos < 0 || ksize < 0 || vsize < 0 || end > len(buf) || end < at {
				return fmt.Errorf("page %d: element %d lies outside the page", id, i)
			}
			if eflags&bucketLeafFlag == 0 {
				continue
			}
			v := buf[at+pos+ksize : end]
			if len(v) < bucketHeaderSize {
				return fmt.Errorf("page %d: bucket %d has a short header", id, i)
			}
			if root := e.Uint64(v); root != 0 {
				if err := w.node(root, depth+1); err != nil {
					return err
				}
				continue
			}
			if depth+1 > maxTreeDepth {
				return fmt.Errorf("page %d: buckets nested %d deep", id, depth+1)
			}
			inline := v[bucketHeaderSize:]
			if len(inline) >= pageHeaderSize && e.Uint16(inline[8:]) != leafPageFlag {
				return fmt.Errorf("page %d: inline bucket %d is not a leaf", id, i)
			}
			if err := w.elements(inline, id, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("page %d is neither a branch nor a leaf (flags %#x)", id, flags)
}
