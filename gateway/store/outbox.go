package store

import (
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"
)

// Outbox item kinds.
const (
	OutboxWebhook   = "webhook"   // POST Body to URL, signed
	OutboxWriteback = "writeback" // write a call's final status to its CRM record
)

// OutboxItem is one notification waiting to leave the gateway: a webhook to
// POST or a CRM write-back. Items are written in the same transaction as the
// call change they report, so none is lost; they are delivered at least
// once and deleted when done. An item that exhausted its tries stays, Dead,
// with its LastError, until an operator retries or deletes it.
type OutboxItem struct {
	ID      string            `json:"id"`   // ULID, assigned when stored if empty
	Kind    string            `json:"kind"` // OutboxWebhook | OutboxWriteback
	URL     string            `json:"url,omitempty"`
	Body    []byte            `json:"body"`
	Headers map[string]string `json:"headers,omitempty"`
	// For write-back: which integration serves the record.
	Integration string `json:"integration,omitempty"`
	CallID      string `json:"call_id,omitempty"`
	AgentID     string `json:"agent_id,omitempty"`
	Event       string `json:"event,omitempty"` // what it reports, e.g. attempt_ended, call_ended

	Attempts  int       `json:"attempts"` // deliveries tried
	NextAt    time.Time `json:"next_at"`  // not before
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	LastError string    `json:"last_error,omitempty"`
	Dead      bool      `json:"dead,omitempty"` // gave up; kept for an operator
}

// PrepareOutbox checks an item before it is stored and fills in what it
// lacks: an id (a ULID), CreatedAt (its NextAt) and UpdatedAt (its
// CreatedAt).
func PrepareOutbox(it *OutboxItem) error {
	if it.Kind != OutboxWebhook && it.Kind != OutboxWriteback {
		return fmt.Errorf("outbox: unknown item kind %q", it.Kind)
	}
	if it.ID == "" {
		it.ID = ulid.Make().String()
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = it.NextAt
	}
	if it.UpdatedAt.IsZero() {
		it.UpdatedAt = it.CreatedAt
	}
	return nil
}

// Revive is what RetryOutbox does to a dead letter: tries reset, due at now.
func Revive(it *OutboxItem, now time.Time) {
	it.Dead, it.Attempts, it.NextAt, it.UpdatedAt = false, 0, now, now
}

// OutboxFilter selects items for ListOutbox.
type OutboxFilter struct {
	Dead   *bool  // nil: all; true: dead letters only; false: pending only
	Kind   string // "" = any
	CallID string // "" = any
	Cursor string // an id from a previous page's next cursor
	Limit  int    // default 100
}

// Match reports whether it passes f (Cursor and Limit aside).
func (f OutboxFilter) Match(it *OutboxItem) bool {
	return (f.Dead == nil || it.Dead == *f.Dead) && (f.Kind == "" || it.Kind == f.Kind) &&
		(f.CallID == "" || it.CallID == f.CallID)
}
