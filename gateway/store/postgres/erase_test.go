package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

// An erasure rewrites the indexed columns with the record: the number
// leaves the phone and active-number indexes, its "api:<number>" dedupe
// entry goes, and no bytes of the number stay in any row of the call.
func TestEraseClearsTheColumns(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	const number = "+14155550123"
	c := newCall("sales", number)
	c.Variables = map[string]string{"name": "Ada Lovelace"}
	c.Source.ObjectID = "77" // ids stay; newCall's holds the number
	call, _, err := s.CreateCall(ctx, c, store.CreateOptions{ContactKey: "api:" + number, DedupeWindow: 24 * time.Hour, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Erase(ctx, store.EraseRequest{Numbers: []string{number}, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Calls != 1 || rep.DedupeKeys != 1 {
		t.Fatalf("report = %+v, want 1 call and 1 dedupe key", rep)
	}
	db := connect(t, postgres.URLOf(s))
	var row string
	if err := db.QueryRow(ctx, `SELECT row_to_json(c)::text FROM calls c WHERE id = $1`, call.ID).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, personal := range []string{number, "4155550123", "Ada Lovelace"} {
		if strings.Contains(row, personal) {
			t.Errorf("the erased call's row still holds %q: %s", personal, row)
		}
	}
	if n, _ := s.CountCalls(ctx, store.CallFilter{Phone: number}); n != 0 {
		t.Errorf("the phone filter still finds %d calls", n)
	}
	if act, _ := s.ActiveCalls(ctx, "", number); len(act) != 0 {
		t.Errorf("the erased (canceled) call is still active")
	}
	again, created, err := s.CreateCall(ctx, newCall("sales", number), store.CreateOptions{ContactKey: "api:" + number, DedupeWindow: 24 * time.Hour, Now: t0})
	if err != nil || !created || again.ID == call.ID {
		t.Fatalf("a new call to the number after the erasure: created=%v err=%v", created, err)
	}
}
