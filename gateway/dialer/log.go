package dialer

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/store"
)

// Log writes each call to the log and completes it at once: for trials
// and demos, when no voice platform is wired up yet.
type Log struct {
	name string
	log  hclog.Logger
}

// Name is the dialer block's name.
func (d *Log) Name() string { return d.name }

// Idempotent is true: logging twice calls nobody.
func (d *Log) Idempotent() bool { return true }

// Dial logs the call (number masked, variable names only) and returns
// outcome completed.
func (d *Log) Dial(ctx context.Context, r Request) (Placed, error) {
	names := make([]string, 0, len(r.Variables))
	for k := range r.Variables {
		names = append(names, k)
	}
	sort.Strings(names)
	d.log.Info("call placed (log dialer: nobody is called)", "call", r.CallID, "attempt", r.Attempt,
		"agent", r.AgentID, "to", maskNumber(r.ToNumber), "variables", names)
	id := "log-" + r.Key()
	return Placed{ProviderCallID: id, Outcome: &Outcome{CallID: r.CallID, Attempt: r.Attempt,
		Status: store.OutcomeCompleted, ProviderCallID: id, Reason: "log dialer"}}, nil
}

// ParseOutcome is never reached through a callback: the log dialer's
// outcome comes back from Dial. Any callback is refused as not authentic.
func (d *Log) ParseOutcome(r *http.Request, body []byte) (Outcome, error) {
	return Outcome{}, fmt.Errorf("dialer %s: the log dialer takes no status callbacks: %w", d.name, ErrBadSignature)
}
