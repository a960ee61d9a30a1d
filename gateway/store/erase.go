package store

import (
	"errors"
	"slices"
	"time"
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

// Check reports a request that names nobody.
func (req EraseRequest) Check() error {
	if req.Contact == nil && len(req.Numbers) == 0 {
		return errors.New("store: erase: name a contact or a number")
	}
	if req.Contact != nil && (req.Contact.Type == "" || req.Contact.ObjectID == "") {
		return errors.New("store: erase: a contact needs a type and an object id")
	}
	return nil
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

// EraseTarget gathers, while a backend looks for them, the calls of the
// person an EraseRequest names, their numbers and the values their calls
// carry; Erasure then says which events and notifications are theirs and
// how to redact everything. The order of a backend's search: the
// contact's calls (SourceCalls), then every call to each of Numbers
// (growing as calls are added), then events, outbox and dedupe keys.
type EraseTarget struct {
	Req     EraseRequest
	Calls   []string // call ids, in the order found
	Numbers []string // E.164, the request's and the calls'
	callSet map[string]bool
	values  []string
}

// NewEraseTarget starts the search for req's person.
func NewEraseTarget(req EraseRequest) *EraseTarget {
	t := &EraseTarget{Req: req, callSet: map[string]bool{}}
	for _, n := range req.Numbers {
		if n != "" && !slices.Contains(t.Numbers, n) {
			t.Numbers = append(t.Numbers, n)
		}
	}
	return t
}

// AddCall adds one of the person's calls: its number joins Numbers, its
// variables and string fields the values to scrub.
func (t *EraseTarget) AddCall(c Call) {
	if t.callSet[c.ID] {
		return
	}
	t.callSet[c.ID] = true
	t.Calls = append(t.Calls, c.ID)
	for _, v := range c.Variables {
		t.values = append(t.values, v)
	}
	for _, v := range c.Fields {
		if s, ok := v.(string); ok {
			t.values = append(t.values, s)
		}
	}
	if c.ToNumber != "" && c.ToNumber != Erased && !slices.Contains(t.Numbers, c.ToNumber) {
		t.Numbers = append(t.Numbers, c.ToNumber)
	}
}

// HasCall reports whether the call with id is the person's.
func (t *EraseTarget) HasCall(id string) bool { return id != "" && t.callSet[id] }

// Erasure is the redaction of what was found.
func (t *EraseTarget) Erasure() *Erasure { return NewErasure(t.Numbers, t.values) }

// EventIsTheirs reports whether ev is about the person: it became one of
// their calls, it is about the requested contact, its bytes (raw, its
// stored form) hold one of the numbers, or its value or inline record is
// one of them in another format. The request's KeepEvent is never theirs.
func (t *EraseTarget) EventIsTheirs(e *Erasure, ev Event, raw []byte) bool {
	if ev.ID == t.Req.KeepEvent {
		return false
	}
	return e.HoldsNumber(raw) || t.HasCall(ev.CallID) || (t.Req.Contact != nil && t.Req.Contact.MatchEvent(ev)) || e.MentionsNumber(ev)
}

// OutboxIsTheirs reports whether a notification is about the person: it
// reports one of their calls, or its bytes hold one of the numbers.
func (t *EraseTarget) OutboxIsTheirs(e *Erasure, it OutboxItem, raw []byte) bool {
	return e.HoldsNumber(raw) || t.HasCall(it.CallID)
}
