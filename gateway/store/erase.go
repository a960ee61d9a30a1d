package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Erased replaces personal data an erasure removed.
const Erased = "[erased]"

// EraseRequest names the person whose data Erase removes: a CRM record
// (Contact), phone numbers (E.164), or both. A record's calls bring their
// numbers in, so every call to the person's number is erased too, whatever
// made it (a CRM event or /call/outbound).
type EraseRequest struct {
	Contact *SourceFilter
	Numbers []string
	// KeepEvent is an event left for the caller to settle (the erasure
	// request being processed): its own fields carry no personal data.
	KeepEvent string
	Now       time.Time // default time.Now()
}

// EraseReport counts what Erase changed. It holds no personal data.
type EraseReport struct {
	Calls       int `json:"calls"`        // calls redacted
	Events      int `json:"events"`       // inbox events redacted
	Outbox      int `json:"outbox"`       // pending notifications redacted
	DeadLetters int `json:"dead_letters"` // dead notifications redacted
	// SettledEvents are pending events of the person that will not be
	// processed now: they end ignored (counted in Events too).
	SettledEvents int `json:"settled_events"`
	// DedupeKeys are per-contact dedupe entries keyed by the number
	// (/call/outbound's "api:<number>") that were removed.
	DedupeKeys int `json:"dedupe_keys"`
}

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
func (db *DB) Erase(req EraseRequest) (EraseReport, error) {
	if req.Contact == nil && len(req.Numbers) == 0 {
		return EraseReport{}, errors.New("store: erase: name a contact or a number")
	}
	if req.Contact != nil && (req.Contact.Type == "" || req.Contact.ObjectID == "") {
		return EraseReport{}, errors.New("store: erase: a contact needs a type and an object id")
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	now := req.Now.UTC()
	var plan erasePlan
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		plan, err = planErase(tx, req)
		return err
	}); err != nil {
		return EraseReport{}, fmt.Errorf("store: erase: find the person's data: %w", err)
	}
	var rep EraseReport
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rep = EraseReport{}
		return plan.apply(db, tx, now, &rep)
	})
	if err != nil {
		return EraseReport{}, fmt.Errorf("store: erase: %w", err)
	}
	if f := db.eventsSettled.Load(); f != nil && rep.SettledEvents > 0 {
		(*f)(int64(rep.SettledEvents))
	}
	return rep, nil
}

// erasePlan is what a read transaction found to erase.
type erasePlan struct {
	req      EraseRequest
	calls    []string        // call ids
	callSet  map[string]bool // the same
	events   []string
	outbox   []string
	dedupe   [][]byte // calls_contact keys naming a number
	needles  [][]byte // personal values to cut out of text, longest first
	numbers  []string
	objectID string
}

func planErase(tx *bolt.Tx, req EraseRequest) (erasePlan, error) {
	p := erasePlan{req: req, callSet: map[string]bool{}}
	var values []string
	addCall := func(c Call) {
		if p.callSet[c.ID] {
			return
		}
		p.callSet[c.ID] = true
		p.calls = append(p.calls, c.ID)
		for _, v := range c.Variables {
			values = append(values, v)
		}
		for _, v := range c.Fields {
			if s, ok := v.(string); ok {
				values = append(values, s)
			}
		}
		if c.ToNumber != "" && c.ToNumber != Erased && !slices.Contains(p.numbers, c.ToNumber) {
			p.numbers = append(p.numbers, c.ToNumber)
		}
	}
	for _, n := range req.Numbers {
		if n != "" && !slices.Contains(p.numbers, n) {
			p.numbers = append(p.numbers, n)
		}
	}
	if req.Contact != nil {
		p.objectID = req.Contact.ObjectID
		calls, err := sourceCalls(tx, *req.Contact)
		if err != nil {
			return p, err
		}
		for _, c := range calls {
			addCall(c)
		}
	}
	for _, n := range p.numbers {
		prefix := join(n, "")
		cur := tx.Bucket(bucketCallsByPhone).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if len(k) < len(prefix)+9 {
				continue
			}
			c, err := getCall(tx, string(k[len(prefix)+8:]))
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return p, err
			}
			addCall(c)
		}
	}
	p.needles = needlesFor(p.numbers, values)
	numberNeedles := needlesFor(p.numbers, nil)
	nsns := nationalNumbers(p.numbers)

	// Events: the contact's own, those that became one of the calls, and
	// any whose bytes carry one of the numbers (an inline record, a
	// property change, a reason).
	err := tx.Bucket(bucketInboxEvents).ForEach(func(k, v []byte) error {
		if string(k) == req.KeepEvent {
			return nil
		}
		hit := containsAny(v, numberNeedles)
		if !hit {
			var ev Event
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("event %s: corrupt record: %w", k, err)
			}
			hit = (ev.CallID != "" && p.callSet[ev.CallID]) || (req.Contact != nil && eventOf(ev, *req.Contact)) ||
				mentionsNumber(ev, nsns)
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
		hit := containsAny(v, numberNeedles)
		if !hit {
			var it OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("outbox item %s: corrupt record: %w", k, err)
			}
			hit = it.CallID != "" && p.callSet[it.CallID]
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
		if containsAny(k, numberNeedles) {
			p.dedupe = append(p.dedupe, append([]byte(nil), k...))
		}
		return nil
	})
	return p, err
}

// eventOf reports whether ev is about the CRM record f names.
func eventOf(ev Event, f SourceFilter) bool {
	return f.Match(Source{Type: ev.Type, Integration: ev.Integration, Account: ev.Account, ObjectType: ev.ObjectType, ObjectID: ev.ObjectID})
}

func (p *erasePlan) apply(db *DB, tx *bolt.Tx, now time.Time, rep *EraseReport) error {
	for _, id := range p.calls {
		old, err := getCall(tx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		c := cloneCall(old)
		if !Final(c.Status) {
			// Callers cancel first (with notifications); a call that became
			// due meanwhile must not be dialed with its number erased.
			c.Status, c.NextAttemptAt, c.LeaseUntil = CallCanceled, nil, nil
			c.Reason = "canceled: the person's data was erased"
		}
		p.eraseCall(&c, now)
		if err := putCall(tx, &old, &c); err != nil {
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
		var ev Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("event %s: corrupt record: %w", id, err)
		}
		p.eraseEvent(&ev, now)
		settled, err := clearPending(tx, []byte(id))
		if err != nil {
			return err
		}
		if settled {
			ev.Status, ev.NotBefore = EventIgnored, time.Time{}
			ev.Reason = "not processed: the person's data was erased before it was"
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
		var it OutboxItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("outbox item %s: corrupt record: %w", id, err)
		}
		it.Body = p.eraseBody(it.Body)
		it.LastError = p.scrub(it.LastError)
		it.UpdatedAt = now
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
