package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// items is an Exporter of a fixed list.
type items []Item

func (l items) Export(ctx context.Context, yield func(Item) error) error {
	for _, it := range l {
		if err := yield(it); err != nil {
			return err
		}
	}
	return nil
}

// batches records each Import's items, and fails the one numbered failAt.
type batches struct {
	got    [][]string
	failAt int
}

func (b *batches) Import(_ context.Context, its []Item) error {
	if len(b.got)+1 == b.failAt {
		return errors.New("database went away")
	}
	var ids []string
	for _, it := range its {
		switch {
		case it.Event != nil:
			ids = append(ids, it.Event.ID)
		case it.Call != nil:
			ids = append(ids, it.Call.ID)
		case it.DND != nil:
			ids = append(ids, it.DND.Number)
		}
	}
	b.got = append(b.got, ids)
	return nil
}

func sample() items {
	var l items
	for i := range 5 {
		l = append(l, Item{Event: &Event{ID: fmt.Sprint("e", i)}})
	}
	l = append(l, Item{Call: &Call{ID: "c0"}}, Item{DND: &DNDEntry{Number: "+4930000009"}})
	return l
}

func TestCopy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		batch    int
		want     [][]string
		progress []int
	}{
		{"in batches", 3, [][]string{{"e0", "e1", "e2"}, {"e3", "e4", "c0"}, {"+4930000009"}}, []int{3, 6, 7}},
		{"an exact fit", 7, [][]string{{"e0", "e1", "e2", "e3", "e4", "c0", "+4930000009"}}, []int{7}},
		{"the default batch", 0, [][]string{{"e0", "e1", "e2", "e3", "e4", "c0", "+4930000009"}}, []int{7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst batches
			var progress []int
			got, err := Copy(context.Background(), sample(), &dst, tc.batch, func(c CopyCounts) { progress = append(progress, c.Total()) })
			if err != nil {
				t.Fatal(err)
			}
			if want := (CopyCounts{Events: 5, Calls: 1, DND: 1}); got != want {
				t.Errorf("counts %+v, want %+v", got, want)
			}
			if !slices.EqualFunc(dst.got, tc.want, slices.Equal) || !slices.Equal(progress, tc.progress) {
				t.Errorf("imported %v with progress %v, want %v and %v", dst.got, progress, tc.want, tc.progress)
			}
		})
	}
	t.Run("an empty store imports nothing", func(t *testing.T) {
		var dst batches
		got, err := Copy(context.Background(), items(nil), &dst, 3, nil)
		if err != nil || got.Total() != 0 || len(dst.got) != 0 {
			t.Fatalf("%+v, %v, %v", got, dst.got, err)
		}
	})
	t.Run("a failed batch stops the copy with what was committed", func(t *testing.T) {
		dst := batches{failAt: 2}
		got, err := Copy(context.Background(), sample(), &dst, 3, nil)
		if err == nil || got != (CopyCounts{Events: 3}) {
			t.Fatalf("counts %+v, error %v; want the first batch's and the error", got, err)
		}
	})
}
