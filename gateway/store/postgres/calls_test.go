package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

func newCall(agent, number string) store.Call {
	next := t0
	return store.Call{AgentID: agent, Status: store.CallScheduled, ToNumber: number, Dialer: "vapi",
		NextAttemptAt: &next, Source: store.Source{Type: "hubspot", ObjectID: "c-" + number}}
}

func TestCreateCallDedupe(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	window := time.Hour
	first, created, err := s.CreateCall(ctx, newCall("sales", "+15550001"), store.CreateOptions{
		ContactKey: "hubspot::contact:1", DedupeWindow: window, Now: t0})
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	cases := []struct {
		name    string
		call    store.Call
		opts    store.CreateOptions
		created bool
	}{
		{"same contact within the window", newCall("sales", "+15550002"),
			store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: window, Now: t0.Add(time.Minute)}, false},
		{"legacy key of the contact", newCall("sales", "+15550003"),
			store.CreateOptions{ContactKey: "hubspot:99:contact:1", LegacyContactKey: "hubspot::contact:1", DedupeWindow: window, Now: t0.Add(time.Minute)}, false},
		{"same number, other contact", newCall("sales", "+15550001"),
			store.CreateOptions{ContactKey: "hubspot::contact:2", DedupeWindow: window, Now: t0.Add(time.Minute)}, false},
		{"same number, other agent", newCall("support", "+15550001"),
			store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: window, Now: t0.Add(time.Minute)}, true},
		{"same contact after the window", newCall("sales", "+15550004"),
			store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: window, Now: t0.Add(window)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, created, err := s.CreateCall(ctx, tc.call, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if created != tc.created {
				t.Fatalf("created = %v, want %v", created, tc.created)
			}
			if !created && got.ID != first.ID {
				t.Fatalf("returned call %s, want the first one %s", got.ID, first.ID)
			}
		})
	}
	t.Run("final call frees the number", func(t *testing.T) {
		if _, err := s.MutateCall(ctx, first.ID, func(c *store.Call) ([]store.OutboxItem, error) {
			c.Status, c.NextAttemptAt = store.CallCompleted, nil
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
		_, created, err := s.CreateCall(ctx, newCall("sales", "+15550001"), store.CreateOptions{Now: t0.Add(2 * time.Minute)})
		if err != nil || !created {
			t.Fatalf("created=%v err=%v, want a new call", created, err)
		}
	})
	t.Run("an id in use is an error", func(t *testing.T) {
		c := newCall("sales", "+15550099")
		c.ID = first.ID
		if _, _, err := s.CreateCall(ctx, c, store.CreateOptions{}); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("err = %v, want already exists", err)
		}
	})
}

// Two replicas, many goroutines, one contact and one number: exactly one
// call is created and every creator gets that call back.
func TestCreateCallConcurrentReplicas(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	replicas := []*postgres.Store{open(t, url, "a"), open(t, url, "b")}
	cases := []struct {
		name string
		opts func(i int) (store.Call, store.CreateOptions)
	}{
		{"one contact key", func(i int) (store.Call, store.CreateOptions) {
			// Different numbers: only the contact window can stop them.
			return newCall("sales", fmt.Sprintf("+1555100%02d", i)),
				store.CreateOptions{ContactKey: "hubspot::contact:7", DedupeWindow: time.Hour, Now: t0}
		}},
		{"one number", func(i int) (store.Call, store.CreateOptions) {
			return newCall("sales", "+15552000"),
				store.CreateOptions{ContactKey: fmt.Sprintf("hubspot::contact:%d", 100+i), DedupeWindow: time.Hour, Now: t0}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const n = 24
			ids := make([]string, n)
			created := make([]bool, n)
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, o := tc.opts(i)
					got, ok, err := replicas[i%2].CreateCall(ctx, c, o)
					ids[i], created[i] = got.ID, ok
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			winners := 0
			for i := range n {
				if created[i] {
					winners++
				}
				if ids[i] != ids[0] {
					t.Fatalf("creator %d got call %s, creator 0 got %s", i, ids[i], ids[0])
				}
			}
			if winners != 1 {
				t.Fatalf("%d calls created, want 1", winners)
			}
		})
	}
}

func TestUpdateCallKeepsOneActivePerNumber(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	a, _, err := s.CreateCall(ctx, newCall("sales", "+15553000"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.CreateCall(ctx, newCall("sales", "+15553001"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	b.ToNumber = a.ToNumber
	if err := s.UpdateCall(ctx, b, nil); err == nil {
		t.Fatal("UpdateCall gave a second active call the number")
	}
	if err := s.UpdateCall(ctx, store.Call{ID: "01NOPE", AgentID: "sales"}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing call: %v, want ErrNotFound", err)
	}
	got, err := s.ActiveCalls(ctx, "", a.ToNumber)
	if err != nil || len(got) != 1 || got[0].ID != a.ID {
		t.Fatalf("ActiveCalls = %v, %v; want [%s]", got, err, a.ID)
	}
}

func TestMutateCall(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	c, _, err := s.CreateCall(ctx, newCall("sales", "+15554000"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Reason = "should not stick"
		return nil, store.ErrNoChange
	})
	if !errors.Is(err, store.ErrNoChange) || got.Reason != "" {
		t.Fatalf("ErrNoChange: got %q, %v", got.Reason, err)
	}
	got, err = s.MutateCall(ctx, c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Reason = "moved"
		return []store.OutboxItem{{Kind: store.OutboxWebhook, URL: "http://127.0.0.1/hook", CallID: c.ID, NextAt: t0}}, nil
	})
	if err != nil || got.Reason != "moved" {
		t.Fatalf("mutate: %q, %v", got.Reason, err)
	}
	stored, err := s.GetCall(ctx, c.ID)
	if err != nil || stored.Reason != "moved" {
		t.Fatalf("stored: %q, %v", stored.Reason, err)
	}
	var n int
	if err := connect(t, postgres.URLOf(s)).QueryRow(ctx, "SELECT count(*) FROM outbox WHERE call_id = $1", c.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("outbox items of the call: %d, %v; want 1", n, err)
	}
	if _, err := s.MutateCall(ctx, "01NOPE", func(*store.Call) ([]store.OutboxItem, error) { return nil, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing call: %v", err)
	}
}

func TestListCalls(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	var batch []store.NewCall
	for i := range 9 {
		c := newCall([]string{"sales", "support"}[i%2], fmt.Sprintf("+1555600%02d", i))
		c.CreatedAt = t0.Add(time.Duration(i/2) * time.Minute) // pairs share a created time: the id orders them
		c.Variables = map[string]string{"name": fmt.Sprintf("Person %d", i)}
		if i%3 == 0 {
			c.Status, c.NextAttemptAt = store.CallCompleted, nil
		}
		batch = append(batch, store.NewCall{Call: c, Options: store.CreateOptions{Now: t0}})
	}
	created, err := s.CreateCalls(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]store.Call, len(created))
	for i, c := range created {
		all[len(created)-1-i] = c.Call // newest first
	}
	slices.SortStableFunc(all, func(a, b store.Call) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	want := func(keep func(c store.Call) bool) []string {
		var ids []string
		for _, c := range all {
			if keep(c) {
				ids = append(ids, c.ID)
			}
		}
		return ids
	}
	cases := []struct {
		name string
		f    store.CallFilter
		keep func(c store.Call) bool
	}{
		{"all", store.CallFilter{}, func(store.Call) bool { return true }},
		{"agent", store.CallFilter{AgentID: "sales"}, func(c store.Call) bool { return c.AgentID == "sales" }},
		{"status", store.CallFilter{Status: store.CallCompleted}, func(c store.Call) bool { return c.Status == store.CallCompleted }},
		{"agent and status", store.CallFilter{AgentID: "support", Status: store.CallScheduled},
			func(c store.Call) bool { return c.AgentID == "support" && c.Status == store.CallScheduled }},
		{"phone", store.CallFilter{Phone: "+155560004"}, func(c store.Call) bool { return c.ToNumber == "+155560004" }},
		{"since and until", store.CallFilter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)},
			func(c store.Call) bool {
				return !c.CreatedAt.Before(t0.Add(time.Minute)) && c.CreatedAt.Before(t0.Add(3*time.Minute))
			}},
		{"search", store.CallFilter{Search: store.NewSearch("person 7", nil)},
			func(c store.Call) bool { return c.Variables["name"] == "Person 7" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			f.Limit = 2
			var got []string
			for page := 0; ; page++ {
				calls, next, err := s.ListCalls(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range calls {
					got = append(got, c.ID)
				}
				if next == "" {
					break
				}
				if page > len(all) {
					t.Fatal("the pages never end")
				}
				f.Cursor = next
			}
			if exp := want(tc.keep); !slices.Equal(got, exp) {
				t.Fatalf("pages = %v\nwant    %v", got, exp)
			}
			n, err := s.CountCalls(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if tc.f.Search.IsZero() && n != len(got) {
				t.Fatalf("CountCalls = %d, listed %d", n, len(got))
			}
		})
	}
	if _, _, err := s.ListCalls(ctx, store.CallFilter{Cursor: "!!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestSourceCalls(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	mk := func(agent, number, integration, objectType string) store.Call {
		c := newCall(agent, number)
		c.Source = store.Source{Type: "hubspot", Integration: integration, ObjectID: "42", ObjectType: objectType}
		got, _, err := s.CreateCall(ctx, c, store.CreateOptions{Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a := mk("sales", "+15557001", "hs", "")
	b := mk("support", "+15557002", "hs", "contact")
	mk("sales", "+15557003", "hs2", "contact")
	mk("sales", "+15557004", "hs", "deal")
	got, err := s.SourceCalls(ctx, store.SourceFilter{Type: "hubspot", Integration: "hs", ObjectType: "contact", ObjectID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID {
		t.Fatalf("SourceCalls = %v, want [%s %s]", got, a.ID, b.ID)
	}
	if _, err := s.SourceCalls(ctx, store.SourceFilter{Type: "hubspot"}); err == nil {
		t.Fatal("SourceCalls without an object id succeeded")
	}
}

// The one-active-call rule is the database's, not only CreateCall's: a
// writer that skipped every check still cannot add a second active call.
func TestActiveNumberIsAConstraint(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.URL(t), "a")
	c, _, err := s.CreateCall(ctx, newCall("sales", "+15559100"), store.CreateOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	_, err = connect(t, postgres.URLOf(s)).Exec(ctx, `INSERT INTO calls (id, agent_id, status, to_number, active_number, created_ns, record)
		SELECT $1, agent_id, status, to_number, active_number, created_ns, record FROM calls WHERE id = $2`, s.NewID(t0), c.ID)
	if err == nil || !strings.Contains(err.Error(), "calls_active_number") {
		t.Fatalf("second active call for one number: %v, want a calls_active_number violation", err)
	}
}
