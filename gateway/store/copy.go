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
// already present is overwritten, so a copy can be run again. Each call is
// one transaction; items is reused after it returns, so it is not kept.
type Importer interface {
	Import(ctx context.Context, items []Item) error
}

// CopyCounts says how many items of each kind a Copy moved.
type CopyCounts struct {
	Events, Keys, Calls, Contacts, Outbox, DND, Checkpoints, Listed int
}

// Total is the number of items.
func (c CopyCounts) Total() int {
	return c.Events + c.Keys + c.Calls + c.Contacts + c.Outbox + c.DND + c.Checkpoints + c.Listed
}

func (c *CopyCounts) add(it Item) {
	switch {
	case it.Event != nil:
		c.Events++
	case it.Key != nil:
		c.Keys++
	case it.Call != nil:
		c.Calls++
	case it.Contact != nil:
		c.Contacts++
	case it.Outbox != nil:
		c.Outbox++
	case it.DND != nil:
		c.DND++
	case it.Checkpoint != nil:
		c.Checkpoints++
	case it.Listed != nil:
		c.Listed++
	}
}

// Copy moves every item of src into dst, batch items (default 500) per
// Import, and calls progress after each batch with the items committed so
// far. On an error it returns those counts with it. Importers overwrite,
// so a Copy that failed half-way is completed by running it again.
func Copy(ctx context.Context, src Exporter, dst Importer, batch int, progress func(CopyCounts)) (CopyCounts, error) {
	if batch <= 0 {
		batch = 500
	}
	var done, pending CopyCounts
	buf := make([]Item, 0, batch)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := dst.Import(ctx, buf); err != nil {
			return err
		}
		done = addCounts(done, pending)
		pending = CopyCounts{}
		buf = buf[:0]
		if progress != nil {
			progress(done)
		}
		return nil
	}
	err := src.Export(ctx, func(it Item) error {
		buf = append(buf, it)
		pending.add(it)
		if len(buf) == batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return done, err
}

func addCounts(a, b CopyCounts) CopyCounts {
	return CopyCounts{a.Events + b.Events, a.Keys + b.Keys, a.Calls + b.Calls, a.Contacts + b.Contacts,
		a.Outbox + b.Outbox, a.DND + b.DND, a.Checkpoints + b.Checkpoints, a.Listed + b.Listed}
}
