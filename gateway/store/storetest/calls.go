package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

var callTests = []subtest{
	{"CreateCallDedupe", testCreateCallDedupe},
	{"CreateCallLegacyContactKey", testLegacyContactKey},
	{"CreateCallsInOrder", testCreateCalls},
	{"OneActiveCallPerNumberConcurrently", func(t *testing.T, h Harness) { testOneActiveCall(t, h, false) }},
	{"OneActiveCallPerNumberAcrossProcesses", func(t *testing.T, h Harness) { testOneActiveCall(t, h, true) }},
	{"NotFound", testCallNotFound},
	{"UpdateCallWithOutbox", testUpdateCall},
	{"MutateCall", testMutateCall},
	{"MutateCallConcurrently", func(t *testing.T, h Harness) { testMutateCallConcurrently(t, h, false) }},
	{"MutateCallAcrossProcesses", func(t *testing.T, h Harness) { testMutateCallConcurrently(t, h, true) }},
	{"ListCallsFiltersAndPages", testListCalls},
	{"ListCallsSearch", testListCallsSearch},
	{"IndexesFollowUpdates", testIndexesFollowUpdates},
	{"SourceCalls", testSourceCalls},
	{"ActiveCalls", testActiveCalls},
}

// newCall is a call scheduled at t0 on dialer voice.
func newCall(agent, number string) store.Call {
	next := t0
	return store.Call{AgentID: agent, ToNumber: number, Status: store.CallScheduled, Dialer: "voice", NextAttemptAt: &next,
		Variables: map[string]string{"firstname": "Ada"}, Policy: store.Policy{Timezone: "UTC"}}
}

// createCall stores c and fails t unless it was created.
func createCall(t *testing.T, s store.Store, c store.Call, o store.CreateOptions) store.Call {
	t.Helper()
	got, created, err := s.CreateCall(ctx(t), c, o)
	if err != nil || !created {
		t.Fatalf("create call for %s to %s: created=%v, %v", c.AgentID, c.ToNumber, created, err)
	}
	return got
}

func getCall(t *testing.T, s store.Store, id string) store.Call {
	t.Helper()
	c, err := s.GetCall(ctx(t), id)
	must(t, err)
	return c
}

func callIDs(calls []store.Call) []string {
	var ids []string
	for _, c := range calls {
		ids = append(ids, c.ID)
	}
	return ids
}

func hook(s store.Store, callID string, at time.Time) store.OutboxItem {
	return store.OutboxItem{ID: s.NewID(at), Kind: store.OutboxWebhook, URL: "http://127.0.0.1:1/hook", Body: []byte(`{"n":1}`),
		CallID: callID, Event: "call_ended", NextAt: at}
}

func outboxOf(t *testing.T, s store.Store, callID string) []store.OutboxItem {
	t.Helper()
	items, _, err := s.ListOutbox(ctx(t), store.OutboxFilter{CallID: callID, Limit: 1000})
	must(t, err)
	return items
}

// testCreateCallDedupe: a call for the same (agent, contact key) inside
// the window, or a non-final call for the same (agent, number), is
// returned instead of a new one, without its outbox items.
func testCreateCallDedupe(t *testing.T, h Harness) {
	s := h.Open(t)
	const window = 24 * time.Hour
	first := createCall(t, s, newCall("sales", "+14155550123"), store.CreateOptions{ContactKey: "hubspot::contact:7", DedupeWindow: window, Now: t0})
	if first.ID == "" || !first.CreatedAt.Equal(t0) || !first.UpdatedAt.Equal(t0) {
		t.Fatalf("created call = %+v: want an id and the times of Now", first)
	}
	tests := []struct {
		name        string
		agent, num  string
		contact     string
		now         time.Time
		wantCreated bool
	}{
		{"same contact inside the window", "sales", "+14155550999", "hubspot::contact:7", t0.Add(23 * time.Hour), false},
		{"same active number, other contact", "sales", "+14155550123", "hubspot::contact:8", t0.Add(time.Minute), false},
		{"same active number, no contact key", "sales", "+14155550123", "", t0.Add(time.Minute), false},
		{"same number, other agent", "support", "+14155550123", "hubspot::contact:7", t0.Add(time.Minute), true},
		{"same contact after the window, other number", "sales", "+14155550777", "hubspot::contact:7", t0.Add(25 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hookID := s.NewID(tt.now)
			it := hook(s, "", tt.now)
			it.ID = hookID
			c, created, err := s.CreateCall(ctx(t), newCall(tt.agent, tt.num), store.CreateOptions{ContactKey: tt.contact, DedupeWindow: window, Now: tt.now, Outbox: []store.OutboxItem{it}})
			must(t, err)
			if created != tt.wantCreated {
				t.Fatalf("created = %v, want %v", created, tt.wantCreated)
			}
			_, err = s.GetOutbox(ctx(t), hookID)
			if !created {
				if c.ID != first.ID || c.ToNumber != first.ToNumber {
					t.Errorf("the duplicate returned %s, want the first call %s", c.ID, first.ID)
				}
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a duplicate's outbox item was stored (%v)", err)
				}
			} else if err != nil {
				t.Errorf("the new call's outbox item: %v", err)
			}
		})
	}
	t.Run("a final call frees the number", func(t *testing.T) {
		first.Status, first.Reason, first.NextAttemptAt = store.CallCompleted, "connected", nil
		must(t, s.UpdateCall(ctx(t), first, nil))
		createCall(t, s, newCall("sales", "+14155550123"), store.CreateOptions{ContactKey: "hubspot::contact:9", DedupeWindow: window, Now: t0.Add(time.Hour)})
	})
	t.Run("no window, no contact dedupe", func(t *testing.T) {
		createCall(t, s, newCall("renewals", "+14155550001"), store.CreateOptions{ContactKey: "hubspot::contact:5", Now: t0})
		createCall(t, s, newCall("renewals", "+14155550002"), store.CreateOptions{ContactKey: "hubspot::contact:5", Now: t0.Add(time.Second)})
	})
	t.Run("a call needs an agent", func(t *testing.T) {
		if _, _, err := s.CreateCall(ctx(t), newCall("", "+14155550003"), store.CreateOptions{Now: t0}); err == nil {
			t.Error("a call without an agent id was stored")
		}
	})
}

// testLegacyContactKey: a call stored under the older form of a contact's
// key is found by a create naming it legacy, inside the window only; the
// legacy key is never written.
func testLegacyContactKey(t *testing.T, h Harness) {
	s := h.Open(t)
	const window = 24 * time.Hour
	old := createCall(t, s, newCall("sales", "+14155550123"), store.CreateOptions{ContactKey: "hubspot:62515:contact:7", DedupeWindow: window, Now: t0})
	o := store.CreateOptions{ContactKey: "hubspot::contact:7", LegacyContactKey: "hubspot:62515:contact:7", DedupeWindow: window, Now: t0.Add(time.Hour)}
	if c, created, err := s.CreateCall(ctx(t), newCall("sales", "+14155550999"), o); err != nil || created || c.ID != old.ID {
		t.Fatalf("inside the window: created=%v (%v), got %s, want the legacy call %s", created, err, c.ID, old.ID)
	}
	o.Now = t0.Add(25 * time.Hour)
	fresh, created, err := s.CreateCall(ctx(t), newCall("sales", "+14155550888"), o)
	if err != nil || !created {
		t.Fatalf("after the window: created=%v (%v)", created, err)
	}
	o.Now, o.LegacyContactKey = t0.Add(26*time.Hour), ""
	if c, created, _ := s.CreateCall(ctx(t), newCall("sales", "+14155550777"), o); created || c.ID != fresh.ID {
		t.Fatalf("the new key leads to the fresh call: created=%v, got %s want %s", created, c.ID, fresh.ID)
	}
	o.ContactKey, o.Now = "hubspot:62515:contact:7", t0.Add(26*time.Hour)
	if _, created, _ := s.CreateCall(ctx(t), newCall("sales", "+14155550666"), o); !created {
		t.Error("the legacy key was written by a create that only named it")
	}
}

// testCreateCalls: a batch is checked in order, so a later entry may
// duplicate an earlier one; each entry's outbox is committed with it.
func testCreateCalls(t *testing.T, h Harness) {
	s := h.Open(t)
	window := 24 * time.Hour
	it := hook(s, "", t0)
	batch := []store.NewCall{
		{Call: newCall("sales", "+14155550101"), Options: store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: window, Now: t0, Outbox: []store.OutboxItem{it}}},
		{Call: newCall("sales", "+14155550102"), Options: store.CreateOptions{ContactKey: "hubspot::contact:1", DedupeWindow: window, Now: t0.Add(time.Second)}},
		{Call: newCall("sales", "+14155550101"), Options: store.CreateOptions{ContactKey: "hubspot::contact:3", DedupeWindow: window, Now: t0.Add(2 * time.Second)}},
		{Call: newCall("support", "+14155550101"), Options: store.CreateOptions{Now: t0.Add(3 * time.Second)}},
	}
	res, err := s.CreateCalls(ctx(t), batch)
	must(t, err)
	if len(res) != 4 {
		t.Fatalf("%d results for 4 entries", len(res))
	}
	if !res[0].Created || res[1].Created || res[2].Created || !res[3].Created {
		t.Fatalf("created = %v %v %v %v, want true false false true", res[0].Created, res[1].Created, res[2].Created, res[3].Created)
	}
	if res[1].Call.ID != res[0].Call.ID || res[2].Call.ID != res[0].Call.ID || res[3].Call.ID == res[0].Call.ID {
		t.Errorf("ids = %s %s %s %s", res[0].Call.ID, res[1].Call.ID, res[2].Call.ID, res[3].Call.ID)
	}
	if !res[3].Call.CreatedAt.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("created at %v, want the entry's Now", res[3].Call.CreatedAt)
	}
	if _, err := s.GetOutbox(ctx(t), it.ID); err != nil {
		t.Errorf("the first entry's outbox item: %v", err)
	}
	if n, _ := s.CountCalls(ctx(t), store.CallFilter{}); n != 2 {
		t.Errorf("%d calls stored, want 2", n)
	}
}

// testOneActiveCall: many creates for one (agent, number) at once, on one
// handle or on two processes, store one call; every create gets it.
func testOneActiveCall(t *testing.T, h Harness, peers bool) {
	s := h.Open(t)
	hs := handles(t, h, s, peers, 8)
	got := make([]store.Call, len(hs))
	created := make([]bool, len(hs))
	parallel(t, hs, func(i int, s store.Store) error {
		var err error
		got[i], created[i], err = s.CreateCall(t.Context(), newCall("sales", "+14155550123"),
			store.CreateOptions{ContactKey: fmt.Sprint("hubspot::contact:", i), DedupeWindow: time.Hour, Now: t0.Add(time.Duration(i) * time.Second)})
		return err
	})
	n := 0
	for i := range got {
		if created[i] {
			n++
		}
		if got[i].ID != got[0].ID {
			t.Errorf("create %d returned %s, create 0 %s: want the one active call", i, got[i].ID, got[0].ID)
		}
	}
	if n != 1 {
		t.Errorf("%d creates stored a call, want exactly 1", n)
	}
	if act, _ := s.ActiveCalls(ctx(t), "sales", "+14155550123"); len(act) != 1 {
		t.Errorf("ActiveCalls = %d calls, want 1", len(act))
	}
	if c, _ := s.CountCalls(ctx(t), store.CallFilter{}); c != 1 {
		t.Errorf("%d calls stored, want 1", c)
	}
}

func testCallNotFound(t *testing.T, h Harness) {
	s := h.Open(t)
	id := s.NewID(t0)
	if _, err := s.GetCall(ctx(t), id); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetCall = %v, want ErrNotFound", err)
	}
	c := newCall("sales", "+14155550123")
	c.ID = id
	if err := s.UpdateCall(ctx(t), c, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateCall = %v, want ErrNotFound", err)
	}
	if _, err := s.MutateCall(ctx(t), id, func(*store.Call) ([]store.OutboxItem, error) { return nil, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MutateCall = %v, want ErrNotFound", err)
	}
}

// testUpdateCall: the change and its outbox items commit together, or
// neither does.
func testUpdateCall(t *testing.T, h Harness) {
	s := h.Open(t)
	c := createCall(t, s, newCall("sales", "+14155550123"), store.CreateOptions{Now: t0})
	end := t0.Add(time.Minute)
	c.Status, c.Reason, c.NextAttemptAt, c.UpdatedAt = store.CallCompleted, "connected", nil, end
	c.Attempts = []store.Attempt{{N: 1, StartedAt: t0, EndedAt: &end, Outcome: store.OutcomeCompleted, DurationS: 42.5, Summary: "said yes"}}
	it := hook(s, c.ID, end)
	must(t, s.UpdateCall(ctx(t), c, []store.OutboxItem{it}))
	got := getCall(t, s, c.ID)
	if got.Status != store.CallCompleted || got.Reason != "connected" || got.NextAttemptAt != nil || len(got.Attempts) != 1 ||
		got.Attempts[0].DurationS != 42.5 || got.Attempts[0].Summary != "said yes" || !got.Attempts[0].EndedAt.Equal(end) {
		t.Errorf("stored call = %+v", got)
	}
	if items := outboxOf(t, s, c.ID); len(items) != 1 || items[0].ID != it.ID || string(items[0].Body) != `{"n":1}` {
		t.Errorf("outbox = %+v, want the one item", items)
	}
	// An item the store refuses fails the whole change.
	c.Status, c.Reason = store.CallFailed, "should not stick"
	bad := hook(s, c.ID, end)
	bad.Kind = "sms"
	if err := s.UpdateCall(ctx(t), c, []store.OutboxItem{hook(s, c.ID, end), bad}); err == nil {
		t.Fatal("an outbox item of unknown kind was accepted")
	}
	if got := getCall(t, s, c.ID); got.Status != store.CallCompleted {
		t.Errorf("a failed update changed the call: %s", got.Status)
	}
	if items := outboxOf(t, s, c.ID); len(items) != 1 {
		t.Errorf("a failed update left %d outbox items, want the 1 before", len(items))
	}
}

// testMutateCall: fn's change and items commit together; ErrNoChange
// leaves the call and returns it; another error aborts both.
func testMutateCall(t *testing.T, h Harness) {
	s := h.Open(t)
	c := createCall(t, s, newCall("sales", "+14155550123"), store.CreateOptions{Now: t0})
	var it store.OutboxItem
	got, err := s.MutateCall(ctx(t), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Status, c.Reason, c.NextAttemptAt = store.CallCanceled, "operator", nil
		it = hook(s, c.ID, t0)
		return []store.OutboxItem{it}, nil
	})
	must(t, err)
	if got.Status != store.CallCanceled || getCall(t, s, c.ID).Status != store.CallCanceled {
		t.Errorf("mutated call = %s, stored %s", got.Status, getCall(t, s, c.ID).Status)
	}
	if items := outboxOf(t, s, c.ID); len(items) != 1 || items[0].ID != it.ID {
		t.Errorf("outbox = %+v", items)
	}
	got, err = s.MutateCall(ctx(t), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Reason = "discarded"
		return []store.OutboxItem{hook(s, c.ID, t0)}, store.ErrNoChange
	})
	if !errors.Is(err, store.ErrNoChange) || got.ID != c.ID || got.Reason != "operator" {
		t.Errorf("ErrNoChange: %v, call %s (%s), want the stored call", err, got.ID, got.Reason)
	}
	boom := errors.New("boom")
	_, err = s.MutateCall(ctx(t), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Reason = "aborted"
		return []store.OutboxItem{hook(s, c.ID, t0)}, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("fn's error = %v, want boom", err)
	}
	if got := getCall(t, s, c.ID); got.Reason != "operator" {
		t.Errorf("an aborted mutation changed the call: %q", got.Reason)
	}
	if items := outboxOf(t, s, c.ID); len(items) != 1 {
		t.Errorf("%d outbox items, want 1: neither ErrNoChange nor an error commits items", len(items))
	}
}

// testMutateCallConcurrently: read-modify-writes of one call at once (on
// one handle or on two processes) lose none.
func testMutateCallConcurrently(t *testing.T, h Harness, peers bool) {
	s := h.Open(t)
	c := createCall(t, s, newCall("sales", "+14155550123"), store.CreateOptions{Now: t0})
	hs := handles(t, h, s, peers, 8)
	const each = 10
	parallel(t, hs, func(_ int, s store.Store) error {
		for range each {
			if _, err := s.MutateCall(t.Context(), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
				c.TransportFailures++
				return nil, nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if got := getCall(t, s, c.ID); got.TransportFailures != len(hs)*each {
		t.Errorf("TransportFailures = %d, want %d: mutations were lost", got.TransportFailures, len(hs)*each)
	}
}

// seedCalls makes n calls one minute apart, round-robin over agents and
// statuses.
func seedCalls(t *testing.T, s store.Store, n int) []store.Call {
	agents := []string{"sales", "support", "renewals"}
	statuses := []string{store.CallScheduled, store.CallCompleted, store.CallFailed, store.CallCanceled}
	batch := make([]store.NewCall, n)
	for i := range batch {
		c := newCall(agents[i%3], fmt.Sprintf("+9198%08d", i))
		c.Status = statuses[i%4]
		if store.Final(c.Status) {
			c.NextAttemptAt = nil
		}
		batch[i] = store.NewCall{Call: c, Options: store.CreateOptions{Now: t0.Add(time.Duration(i) * time.Minute)}}
	}
	res, err := s.CreateCalls(ctx(t), batch)
	must(t, err)
	out := make([]store.Call, n)
	for i, r := range res {
		if !r.Created {
			t.Fatalf("seed call %d not created", i)
		}
		out[i] = r.Call
	}
	return out
}

// testListCalls: newest first, filters on agent, status, phone and the
// created window, pages that chain without gaps or repeats, counts that
// agree, and a cursor the store did not hand out refused.
func testListCalls(t *testing.T, h Harness) {
	s := h.Open(t)
	all := seedCalls(t, s, 120)
	want := func(keep func(i int, c store.Call) bool) []string {
		var ids []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(i, all[i]) {
				ids = append(ids, all[i].ID)
			}
		}
		return ids
	}
	tests := []struct {
		name string
		f    store.CallFilter
		want []string
	}{
		{"all", store.CallFilter{}, want(func(int, store.Call) bool { return true })},
		{"agent", store.CallFilter{AgentID: "sales"}, want(func(_ int, c store.Call) bool { return c.AgentID == "sales" })},
		{"status", store.CallFilter{Status: store.CallFailed}, want(func(_ int, c store.Call) bool { return c.Status == store.CallFailed })},
		{"agent and status", store.CallFilter{AgentID: "support", Status: store.CallScheduled}, want(func(_ int, c store.Call) bool { return c.AgentID == "support" && c.Status == store.CallScheduled })},
		{"phone", store.CallFilter{Phone: all[17].ToNumber}, []string{all[17].ID}},
		{"phone and its agent", store.CallFilter{Phone: all[17].ToNumber, AgentID: all[17].AgentID}, []string{all[17].ID}},
		{"phone and other agent", store.CallFilter{Phone: all[17].ToNumber, AgentID: "nobody"}, nil},
		{"phone and other status", store.CallFilter{Phone: all[17].ToNumber, Status: store.CallDialing}, nil},
		{"since until", store.CallFilter{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute)}, want(func(i int, _ store.Call) bool { return i >= 10 && i < 20 })},
		{"agent since", store.CallFilter{AgentID: "renewals", Since: t0.Add(100 * time.Minute)}, want(func(i int, c store.Call) bool { return i >= 100 && c.AgentID == "renewals" })},
		{"status until", store.CallFilter{Status: store.CallScheduled, Until: t0.Add(9 * time.Minute)}, want(func(i int, c store.Call) bool { return i < 9 && c.Status == store.CallScheduled })},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 7, 50, 1000} {
			f := tt.f
			f.Limit = limit
			var got []string
			for pages := 0; ; pages++ {
				if pages > 200 {
					t.Fatalf("%s: pagination does not end", tt.name)
				}
				calls, next, err := s.ListCalls(ctx(t), f)
				must(t, err)
				if len(calls) > limit {
					t.Fatalf("%s: page of %d > limit %d", tt.name, len(calls), limit)
				}
				got = append(got, callIDs(calls)...)
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s (limit %d): got %d ids %v\nwant %d ids %v", tt.name, limit, len(got), got, len(tt.want), tt.want)
			}
		}
		n, err := s.CountCalls(ctx(t), tt.f)
		if err != nil || n != len(tt.want) {
			t.Errorf("%s: CountCalls = %d, %v; want %d", tt.name, n, err, len(tt.want))
		}
	}
	if calls, next, _ := s.ListCalls(ctx(t), store.CallFilter{}); len(calls) != 50 || next == "" {
		t.Errorf("default page: %d calls, next %q; want 50 and a cursor", len(calls), next)
	}
	if _, _, err := s.ListCalls(ctx(t), store.CallFilter{Cursor: "!!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("a foreign cursor = %v, want ErrBadCursor", err)
	}
}

// testListCallsSearch: a search matches a variable (case-insensitive), a
// CRM object id or the number, and pages like any list.
func testListCallsSearch(t *testing.T, h Harness) {
	s := h.Open(t)
	var ids []string
	for i := range 5 {
		c := newCall("sales", fmt.Sprintf("+91981234560%d", i))
		c.Variables = map[string]string{"firstname": []string{"Asha", "Ravi"}[i%2]}
		c.Source = store.Source{Type: "hubspot", ObjectID: fmt.Sprint(100 + i)}
		ids = append(ids, createCall(t, s, c, store.CreateOptions{Now: t0.Add(time.Duration(i) * time.Minute)}).ID)
	}
	normalize := func(q string) (string, error) {
		d := ""
		for _, r := range q {
			if r >= '0' && r <= '9' {
				d += string(r)
			}
		}
		if len(d) == 11 && d[0] == '0' {
			return "+91" + d[1:], nil
		}
		return "", fmt.Errorf("not a number")
	}
	page, next, err := s.ListCalls(ctx(t), store.CallFilter{Search: store.NewSearch("asha", normalize), Limit: 2})
	if err != nil || !slices.Equal(callIDs(page), []string{ids[4], ids[2]}) || next == "" {
		t.Fatalf("first page = %v, next %q, %v; want calls 4 and 2 and a cursor", callIDs(page), next, err)
	}
	page, next, err = s.ListCalls(ctx(t), store.CallFilter{Search: store.NewSearch("asha", normalize), Limit: 2, Cursor: next})
	if err != nil || !slices.Equal(callIDs(page), []string{ids[0]}) || next != "" {
		t.Fatalf("second page = %v, next %q, %v; want call 0 and no cursor", callIDs(page), next, err)
	}
	if page, _, _ := s.ListCalls(ctx(t), store.CallFilter{Search: store.NewSearch("103", normalize)}); !slices.Equal(callIDs(page), []string{ids[3]}) {
		t.Errorf("contact id 103 found %v", callIDs(page))
	}
	if page, _, _ := s.ListCalls(ctx(t), store.CallFilter{Search: store.NewSearch("09812345601", normalize), AgentID: "sales"}); !slices.Equal(callIDs(page), []string{ids[1]}) {
		t.Errorf("the number found %v", callIDs(page))
	}
	if page, _, _ := s.ListCalls(ctx(t), store.CallFilter{Search: store.NewSearch("nobody", normalize)}); len(page) != 0 {
		t.Errorf("a name nobody has found %v", callIDs(page))
	}
}

// testIndexesFollowUpdates: a status change moves the call between the
// status filters and out of the due index.
func testIndexesFollowUpdates(t *testing.T, h Harness) {
	s := h.Open(t)
	c := createCall(t, s, newCall("sales", "+14155550123"), store.CreateOptions{Now: t0})
	_, err := s.MutateCall(ctx(t), c.ID, func(c *store.Call) ([]store.OutboxItem, error) {
		c.Status, c.Reason, c.NextAttemptAt = store.CallCanceled, "operator", nil
		return nil, nil
	})
	must(t, err)
	for _, f := range []store.CallFilter{{Status: store.CallScheduled}, {AgentID: "sales", Status: store.CallScheduled}} {
		if n, _ := s.CountCalls(ctx(t), f); n != 0 {
			t.Errorf("%+v: %d calls, want 0", f, n)
		}
	}
	for _, f := range []store.CallFilter{{Status: store.CallCanceled}, {AgentID: "sales", Status: store.CallCanceled}, {Phone: "+14155550123"}} {
		if n, _ := s.CountCalls(ctx(t), f); n != 1 {
			t.Errorf("%+v: %d calls, want 1", f, n)
		}
	}
	if _, ok, _ := s.NextDue(ctx(t), "voice"); ok {
		t.Error("a canceled call is still due")
	}
	if act, _ := s.ActiveCalls(ctx(t), "sales", "+14155550123"); len(act) != 0 {
		t.Errorf("a canceled call is active: %v", callIDs(act))
	}
}

// testSourceCalls: every call of one CRM record (any agent, any status),
// oldest first, narrowed by integration, account and object type.
func testSourceCalls(t *testing.T, h Harness) {
	s := h.Open(t)
	mk := func(agent, number string, src store.Source, at time.Duration) string {
		c := newCall(agent, number)
		c.Source = src
		return createCall(t, s, c, store.CreateOptions{Now: t0.Add(at)}).ID
	}
	src := store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: "7", Account: "62515", ObjectType: "contact"}
	a := mk("sales", "+14155550101", src, 0)
	b := mk("support", "+14155550101", src, time.Minute)
	noType := src
	noType.ObjectType, noType.Account = "", ""
	c := mk("renewals", "+14155550101", noType, 2*time.Minute)
	deal := src
	deal.ObjectType = "deal"
	d := mk("sales", "+14155550102", deal, 3*time.Minute)
	eu := src
	eu.Integration = "hubspot-eu"
	e := mk("sales", "+14155550103", eu, 4*time.Minute)
	mk("sales", "+14155550104", store.Source{Type: "hubspot", Integration: "hubspot", ObjectID: "70"}, 5*time.Minute)
	mk("sales", "+14155550105", store.Source{Type: "leadsquared", Integration: "lsq", ObjectID: "7"}, 6*time.Minute)
	tests := []struct {
		name string
		f    store.SourceFilter
		want []string
	}{
		{"type and id", store.SourceFilter{Type: "hubspot", ObjectID: "7"}, []string{a, b, c, d, e}},
		{"integration", store.SourceFilter{Type: "hubspot", ObjectID: "7", Integration: "hubspot"}, []string{a, b, c, d}},
		{"contact also matches no type", store.SourceFilter{Type: "hubspot", ObjectID: "7", ObjectType: "contact"}, []string{a, b, c, e}},
		{"other account", store.SourceFilter{Type: "hubspot", ObjectID: "7", Account: "999", Integration: "hubspot"}, []string{c}},
		{"deal", store.SourceFilter{Type: "hubspot", ObjectID: "7", ObjectType: "deal"}, []string{d}},
		{"unknown", store.SourceFilter{Type: "hubspot", ObjectID: "8"}, nil},
	}
	for _, tt := range tests {
		got, err := s.SourceCalls(ctx(t), tt.f)
		must(t, err)
		if !slices.Equal(callIDs(got), tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, callIDs(got), tt.want)
		}
	}
	if _, err := s.SourceCalls(ctx(t), store.SourceFilter{Type: "hubspot"}); err == nil {
		t.Error("SourceCalls without an object id succeeded")
	}
}

// testActiveCalls: the non-final calls to a number, of one agent or of
// every agent.
func testActiveCalls(t *testing.T, h Harness) {
	s := h.Open(t)
	a := createCall(t, s, newCall("sales", "+14155550101"), store.CreateOptions{Now: t0})
	b := createCall(t, s, newCall("support", "+14155550101"), store.CreateOptions{Now: t0.Add(time.Second)})
	done := newCall("renewals", "+14155550101")
	done.Status, done.NextAttemptAt = store.CallCompleted, nil
	createCall(t, s, done, store.CreateOptions{Now: t0})
	for _, tt := range []struct {
		agent, number string
		want          []string
	}{
		{"sales", "+14155550101", []string{a.ID}},
		{"", "+14155550101", []string{a.ID, b.ID}},
		{"renewals", "+14155550101", nil},
		{"sales", "+19999999999", nil},
		{"", "+19999999999", nil},
	} {
		got, err := s.ActiveCalls(ctx(t), tt.agent, tt.number)
		must(t, err)
		ids := callIDs(got)
		slices.Sort(ids)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("ActiveCalls(%q, %q) = %v, want %v", tt.agent, tt.number, ids, want)
		}
	}
}
