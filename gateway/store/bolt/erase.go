package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/callgate/callgate/gateway/store"
	bbolt "go.etcd.io/bbolt"
)

// Erase removes what the store holds about one person, replacing it with
// Erased: the number, variables and record fields of their calls, the
// inline record and property value of their events, personal values in
// reasons, and the bodies of notifications (pending and dead) about
// their calls. The phone and active-number indexes lose their entries.
// Ids, statuses, timestamps and reasons' wording stay for the audit. The
// DND list is left alone: a do-not-call request outlives the data.
//
// Calls are not canceled here: cancel first (scheduler.Erase does),
// so the cancellation's notifications are erased with the rest.
//
// The search runs in a read transaction (events and outbox are scanned;
// calls are found by index), the rewrite in one write transaction.
// Freed bbolt pages keep old bytes until reused: WriteBackup writes only
// live data, and docs/operations.md says how to compact the live file.
func (db *Store) Erase(ctx context.Context, req store.EraseRequest) (store.EraseReport, error) {
	if err := ctx.Err(); err != nil {
		return store.EraseReport{}, err
	}
	if err := req.Check(); err != nil {
		return store.EraseReport{}, err
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	now := req.Now.UTC()
	var plan erasePlan
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
		var err error
		plan, err = planErase(tx, req)
		return err
	}); err != nil {
		return store.EraseReport{}, fmt.Errorf("store: erase: find the person's data: %w", err)
	}
	var rep store.EraseReport
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		rep = store.EraseReport{}
		return db.applyErase(plan, tx, now, &rep)
	})
	if err != nil {
		return store.EraseReport{}, fmt.Errorf("store: erase: %w", err)
	}
	db.pending.Add(-int64(rep.SettledEvents))
	return rep, nil
}

// erasePlan is what a read transaction found to erase.
type erasePlan struct {
	target  *store.EraseTarget
	erasure *store.Erasure
	events  []string
	outbox  []string
	dedupe  [][]byte // calls_contact keys naming a number
}

func planErase(tx *bbolt.Tx, req store.EraseRequest) (erasePlan, error) {
	t := store.NewEraseTarget(req)
	p := erasePlan{target: t}
	if req.Contact != nil {
		calls, err := sourceCalls(tx, *req.Contact)
		if err != nil {
			return p, err
		}
		for _, c := range calls {
			t.AddCall(c)
		}
	}
	for i := 0; i < len(t.Numbers); i++ { // calls add numbers as they are found
		n := t.Numbers[i]
		prefix := join(n, "")
		cur := tx.Bucket(bucketCallsByPhone).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if len(k) < len(prefix)+9 {
				continue
			}
			c, err := getCall(tx, string(k[len(prefix)+8:]))
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return p, err
			}
			t.AddCall(c)
		}
	}
	e := t.Erasure()
	p.erasure = e

	// Events: the contact's own, those that became one of the calls, and
	// any whose bytes carry one of the numbers (an inline record, a
	// property change, a reason).
	err := tx.Bucket(bucketInboxEvents).ForEach(func(k, v []byte) error {
		if string(k) == req.KeepEvent {
			return nil
		}
		hit := e.HoldsNumber(v)
		if !hit {
			var ev store.Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("event %s: corrupt record: %w", k, err)
			}
			hit = t.EventIsTheirs(e, ev, nil)
		}
		if hit {
			p.events = append(p.events, string(k))
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	err = tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		hit := e.HoldsNumber(v)
		if !hit {
			var it store.OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("outbox item %s: corrupt record: %w", k, err)
			}
			hit = t.OutboxIsTheirs(e, it, nil)
		}
		if hit {
			p.outbox = append(p.outbox, string(k))
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	err = tx.Bucket(bucketCallsContact).ForEach(func(k, _ []byte) error {
		if e.HoldsNumber(k) {
			p.dedupe = append(p.dedupe, append([]byte(nil), k...))
		}
		return nil
	})
	return p, err
}

func (db *Store) applyErase(p erasePlan, tx *bbolt.Tx, now time.Time, rep *store.EraseReport) error {
	for _, id := range p.target.Calls {
		old, err := getCall(tx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		c := store.CloneCall(old)
		p.erasure.EraseCall(&c, now)
		if err := db.putCall(tx, &old, &c); err != nil {
			return err
		}
		rep.Calls++
	}
	events := tx.Bucket(bucketInboxEvents)
	for _, id := range p.events {
		raw := events.Get([]byte(id))
		if raw == nil {
			continue
		}
		var ev store.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("event %s: corrupt record: %w", id, err)
		}
		p.erasure.EraseEvent(&ev, now)
		settled, err := clearPending(tx, []byte(id))
		if err != nil {
			return err
		}
		if settled {
			store.SettleErased(&ev)
			rep.SettledEvents++
		}
		raw, err = json.Marshal(ev)
		if err != nil {
			return err
		}
		if err := events.Put([]byte(id), raw); err != nil {
			return err
		}
		rep.Events++
	}
	outbox := tx.Bucket(bucketOutbox)
	for _, id := range p.outbox {
		raw := outbox.Get([]byte(id))
		if raw == nil {
			continue
		}
		var it store.OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("outbox item %s: corrupt record: %w", id, err)
		}
		p.erasure.EraseOutbox(&it, now)
		raw, err := json.Marshal(it)
		if err != nil {
			return err
		}
		if err := outbox.Put([]byte(id), raw); err != nil {
			return err
		}
		if it.Dead {
			rep.DeadLetters++
		} else {
			rep.Outbox++
		}
	}
	contact := tx.Bucket(bucketCallsContact)
	for _, k := range p.dedupe {
		if contact.Get(k) == nil {
			continue
		}
		if err := contact.Delete(k); err != nil {
			return err
		}
		rep.DedupeKeys++
	}
	return nil
}
