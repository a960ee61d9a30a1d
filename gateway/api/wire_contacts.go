package api

import (
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

// EraseResult answers an erasure: what was canceled and erased, counts
// only (no personal data).
type EraseResult struct {
	Status   string        `json:"status"`
	Message  string        `json:"message"`
	Canceled EraseCanceled `json:"canceled"`
	Erased   EraseReport   `json:"erased"`
}

// EraseCanceled counts the calls an erasure canceled.
type EraseCanceled struct {
	Calls   int `json:"calls"`
	Dialing int `json:"dialing"`
}

// EraseReport counts what an erasure redacted.
type EraseReport struct {
	Calls         int `json:"calls"`
	Events        int `json:"events"`
	Outbox        int `json:"outbox"`
	DeadLetters   int `json:"dead_letters"`
	SettledEvents int `json:"settled_events"`
	DedupeKeys    int `json:"dedupe_keys"`
}

// NewEraseResult is the answer to a done erasure.
func NewEraseResult(e scheduler.Erased) EraseResult {
	return EraseResult{Status: "done", Message: "the person's data was erased; take a new backup and drop the older ones",
		Canceled: EraseCanceled{Calls: e.Canceled.Calls, Dialing: e.Canceled.Dialing},
		Erased:   newEraseReport(e.Erased)}
}

func newEraseReport(r store.EraseReport) EraseReport {
	return EraseReport{Calls: r.Calls, Events: r.Events, Outbox: r.Outbox, DeadLetters: r.DeadLetters,
		SettledEvents: r.SettledEvents, DedupeKeys: r.DedupeKeys}
}
