package notify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

// panickyCRM panics on every write-back (a plugin answer the host cannot
// handle).
type panickyCRM struct{}

func (panickyCRM) UpdateRecord(context.Context, sdk.UpdateRequest) error {
	panic("unexpected answer from the plugin")
}

// TestDeliveryPanicIsADeadLetter: a delivery that panics becomes a dead
// letter with the reason; the webhook of the same pass is delivered and
// the notifier keeps delivering.
func TestDeliveryPanicIsADeadLetter(t *testing.T) {
	rcv := newReceiver(t)
	e := setup(t, func(c *notify.Config) {
		c.ServerURLs = []string{rcv.URL + "/hook"}
		c.Writeback = func(string) bool { return true }
		c.CRM = func(string) (notify.CRMUpdater, sdk.Credentials, bool) { return panickyCRM{}, nil, true }
	})
	c, a := ended(store.CallFailed)
	enqueue(t, e, e.n.Items(c, a, true)) // a webhook and a write-back
	if n, err := e.n.DeliverDue(context.Background()); n != 2 || err != nil {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	it := only(t, e)
	if it.Kind != store.OutboxWriteback || !it.Dead || it.Attempts != 1 ||
		!strings.Contains(it.LastError, "internal error while delivering (unexpected answer from the plugin)") {
		t.Fatalf("item = %+v, want the write-back dead with the reason", it)
	}
	if reqs, _ := rcv.requests(); len(reqs) != 1 {
		t.Fatalf("webhook deliveries = %d, want 1", len(reqs))
	}
	// The notifier goes on: the next call's webhook is delivered.
	c.ID = "01JDCALL2"
	enqueue(t, e, e.n.Items(c, a, false)[:1])
	e.n.DeliverDue(context.Background())
	if reqs, _ := rcv.requests(); len(reqs) != 2 {
		t.Fatalf("webhook deliveries after the panic = %d, want 2", len(reqs))
	}
}
