package notify

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/callgate/callgate/gateway/store"
)

// deliverGuarded is deliver for the delivery goroutines: a panic on one
// item (a body or a plugin answer the code cannot handle) makes that item
// a dead letter with the reason, logged with its stack; the other
// deliveries and the loop go on.
func (n *Notifier) deliverGuarded(ctx context.Context, it store.OutboxItem) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		n.log.Error("delivering a notification panicked; it is kept as a dead letter", "item", it.ID, "kind", it.Kind,
			"call", it.CallID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		now := n.now().UTC()
		it.Attempts++
		it.Dead, it.UpdatedAt = true, now
		it.LastError = clip(fmt.Sprintf("internal error while delivering (%v); see the server log, then retry the dead letter", v), 500)
		n.m.deliveries.WithLabelValues(it.Kind, "dead").Inc()
		if err := n.db.UpdateOutbox(ctx, it); err != nil {
			n.log.Error("record a dead letter", "item", it.ID, "error", err)
		}
	}()
	n.deliver(ctx, it)
}
