package pipeline_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// panickyCRM is the real HubSpot plugin, except that fetching contact
// panicID panics (a record the host cannot handle).
type panickyCRM struct {
	sdk.CRM
	panicID string
}

func (c panickyCRM) FetchRecords(ctx context.Context, req sdk.FetchRequest) (sdk.FetchResult, error) {
	if slices.Contains(req.IDs, c.panicID) {
		panic("cannot read contact " + c.panicID)
	}
	return c.CRM.FetchRecords(ctx, req)
}

// panickyDND is the real DND list, except that looking up number panics.
type panickyDND struct {
	*bolt.Store
	number string
}

func (d panickyDND) IsDND(ctx context.Context, number string) (bool, error) {
	if number == d.number {
		panic("DND lookup of " + number)
	}
	return d.Store.IsDND(ctx, number)
}

// TestOneBadRecordFailsOnlyItsEvent: a panic while fetching one record or
// deciding on one event fails that event with a reason; the other events
// of the same batch (and of the same fetch) go on to calls.
func TestOneBadRecordFailsOnlyItsEvent(t *testing.T) {
	e := newEnv(t, "")
	for id, phone := range map[string]string{"11": "+91 98765 00011", "12": "+91 98765 00012", "13": "+91 98765 00013", "14": "+91 98765 00014"} {
		e.hs.AddContact(id, map[string]any{"firstname": "X", "phone": phone})
	}
	plugin, err := hubspot.NewWithOptions(hubspot.Options{Clock: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	voice, err := dialer.New(e.cfg.Dialers["voice"], dialer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(scheduler.Config{Store: e.db, Dialers: map[string]scheduler.Dialer{"voice": voice}, Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{
		Config: func() *config.Config { return e.cfg }, Inbox: e.inbox, Scheduler: sched, Now: e.clk.Now,
		Plugins: plugins{"hubspot": panickyCRM{CRM: sdktest.Serve(t, plugin), panicID: "13"}},
		DND:     panickyDND{Store: e.db, number: "+919876500012"},
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := e.add(t, event("sales", "created", "11"), event("sales", "created", "12"),
		event("sales", "created", "13"), event("sales", "created", "14"))
	for {
		n, err := p.ProcessOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	want := map[string]struct{ status, reason string }{
		"11": {store.EventCalled, ""},
		"12": {store.EventFailed, "internal error while deciding on contact 12 (DND lookup of +919876500012): see the server log"},
		"13": {store.EventFailed, "internal error while fetching contact 13 (cannot read contact 13): see the server log"},
		"14": {store.EventCalled, ""},
	}
	for _, ev := range evs {
		got, w := e.get(t, ev.ID), want[ev.ObjectID]
		if got.Status != w.status || !strings.Contains(got.Reason, w.reason) {
			t.Errorf("contact %s: %s %q, want %s %q", ev.ObjectID, got.Status, got.Reason, w.status, w.reason)
		}
	}
}
