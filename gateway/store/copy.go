package store

import (
	"context"
	"time"
)

// Item is one unit of stored state as `callgate store copy` moves it from
// one backend to another. Exactly one field is set. Indexes are not items:
// each backend derives its own from the records.
type Item struct {
	Event      *Event
	Key        *KeyItem // a remembered dedupe key of the inbox
	Call       *Call
	Contact    *ContactItem // a call's per-contact dedupe entry
	Outbox     *OutboxItem
	DND        *DNDEntry
	Checkpoint *CheckpointItem
	Listed     *ListedRecord
}

// KeyItem is a dedupe key the inbox remembers until Expires.
type KeyItem struct {
	Key     string    `json:"key"`
	EventID string    `json:"event_id"`
	Expires time.Time `json:"expires"`
}

// ContactItem says which call a contact's newest call for an agent is, for
// CreateOptions.ContactKey's dedupe window.
type ContactItem struct {
	AgentID    string    `json:"agent_id"`
	ContactKey string    `json:"contact_key"`
	CallID     string    `json:"call_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// CheckpointItem is where a reconciliation listing stopped.
type CheckpointItem struct {
	Integration string    `json:"integration"`
	Listing     string    `json:"listing"`
	At          time.Time `json:"at"`
}

// Exporter reads every item a store holds, in one consistent view.
type Exporter interface {
	Export(ctx context.Context, yield func(Item) error) error
}

// Importer writes items as they are: ids, statuses and times kept. An item
// already present is overwritten, so a copy can be run again.
type Importer interface {
	Import(ctx context.Context, items []Item) error
}
