package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var dndTests = []subtest{
	{"AddRemoveListIs", testDND},
	{"SharedAcrossProcesses", testDNDPeer},
}

// testDND: adding a listed number again updates its note and keeps its
// first AddedAt; the list is ordered by number; removing an unlisted
// number is ErrNotFound.
func testDND(t *testing.T, h Harness) {
	s := h.Open(t)
	must(t, s.AddDND(ctx(t), "+14155550123", "asked us to stop", t0))
	must(t, s.AddDND(ctx(t), "+14155550123", "again", t0.Add(time.Hour)))
	must(t, s.AddDND(ctx(t), "+12025550100", "", t0.Add(2*time.Hour)))
	if err := s.AddDND(ctx(t), "", "no number", t0); err == nil {
		t.Error("an empty number was listed")
	}
	on, err := s.IsDND(ctx(t), "+14155550123")
	if err != nil || !on {
		t.Fatalf("IsDND = %v, %v", on, err)
	}
	if on, _ := s.IsDND(ctx(t), "+14155550999"); on {
		t.Error("an unlisted number is on DND")
	}
	if on, _ := s.IsDND(ctx(t), ""); on {
		t.Error("the empty number is on DND")
	}
	list, err := s.ListDND(ctx(t))
	must(t, err)
	want := []store.DNDEntry{{Number: "+12025550100", AddedAt: t0.Add(2 * time.Hour)}, {Number: "+14155550123", Note: "again", AddedAt: t0}}
	if len(list) != 2 {
		t.Fatalf("list = %+v, want %+v", list, want)
	}
	for i := range want {
		if list[i].Number != want[i].Number || list[i].Note != want[i].Note || !list[i].AddedAt.Equal(want[i].AddedAt) {
			t.Errorf("entry %d = %+v, want %+v", i, list[i], want[i])
		}
	}
	must(t, s.RemoveDND(ctx(t), "+14155550123"))
	if err := s.RemoveDND(ctx(t), "+14155550123"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second remove = %v, want ErrNotFound", err)
	}
	if on, _ := s.IsDND(ctx(t), "+14155550123"); on {
		t.Error("still on DND after remove")
	}
	if list, _ := s.ListDND(ctx(t)); len(list) != 1 {
		t.Errorf("list after remove = %+v", list)
	}
}

// testDNDPeer: one process's list is every process's.
func testDNDPeer(t *testing.T, h Harness) {
	s := h.Open(t)
	p := peer(t, h, s)
	must(t, s.AddDND(ctx(t), "+14155550123", "", t0))
	if on, err := p.IsDND(ctx(t), "+14155550123"); err != nil || !on {
		t.Fatalf("the other process does not see the number: %v %v", on, err)
	}
	must(t, p.RemoveDND(ctx(t), "+14155550123"))
	if on, _ := s.IsDND(ctx(t), "+14155550123"); on {
		t.Error("removed by the other process, still listed here")
	}
}
