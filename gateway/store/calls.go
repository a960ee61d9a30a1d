package store

import (
	"encoding/base64"
	"encoding/binary"
	"time"
)

// CreateOptions say how CreateCall deduplicates and what it records with
// the call.
type CreateOptions struct {
	// ContactKey identifies the CRM contact ("hubspot::contact:123");
	// empty skips the per-contact dedupe.
	ContactKey string
	// LegacyContactKey, when set, is an older form of the same contact's
	// key: a call under it within the window counts too. It is never written.
	LegacyContactKey string
	// DedupeWindow: a call for the same (agent, contact) created this
	// recently is returned instead of a new one.
	DedupeWindow time.Duration
	Now          time.Time    // default time.Now()
	Outbox       []OutboxItem // notifications committed with the new call
}

// NewCall is one entry of a CreateCalls batch.
type NewCall struct {
	Call    Call
	Options CreateOptions
}

// Created is what CreateCalls did with one entry: Created is false when
// Call is the existing call the entry duplicates.
type Created struct {
	Call    Call
	Created bool
}

// PrepareCall fills in what a new call gets before it is stored, and what
// must not change if a transaction is retried: Options.Now (default
// time.Now, in UTC), the call's id (from newID) and its CreatedAt and
// UpdatedAt.
func PrepareCall(nc NewCall, newID func(time.Time) string) NewCall {
	if nc.Options.Now.IsZero() {
		nc.Options.Now = time.Now()
	}
	nc.Options.Now = nc.Options.Now.UTC()
	if nc.Call.ID == "" {
		nc.Call.ID = newID(nc.Options.Now)
	}
	if nc.Call.CreatedAt.IsZero() {
		nc.Call.CreatedAt = nc.Options.Now
	}
	nc.Call.UpdatedAt = nc.Options.Now
	return nc
}

// ContactKeys are the per-contact dedupe keys a new call is checked
// against: o.ContactKey, then o.LegacyContactKey; none when the options
// ask for no per-contact dedupe.
func (o CreateOptions) ContactKeys() []string {
	if o.ContactKey == "" || o.DedupeWindow <= 0 {
		return nil
	}
	if o.LegacyContactKey != "" {
		return []string{o.ContactKey, o.LegacyContactKey}
	}
	return []string{o.ContactKey}
}

// DuplicateOf reports whether a call created at created for the same
// contact makes a new call with options o a duplicate.
func (o CreateOptions) DuplicateOf(created time.Time) bool {
	return o.Now.Sub(created) < o.DedupeWindow
}

// CloneCall copies the slices a mutation may change, so the old value
// still describes what is stored.
func CloneCall(c Call) Call {
	c.Attempts = append([]Attempt(nil), c.Attempts...)
	return c
}

// CallFilter selects calls for ListCalls and CountCalls. Since is
// inclusive and Until exclusive on CreatedAt; zero means unbounded.
type CallFilter struct {
	AgentID, Status, Phone string
	Since, Until           time.Time
	Limit                  int    // default 50, at most 1000
	Cursor                 string // NextCursor of the previous page
	// Search narrows the list to calls matching a query (search.go); a
	// page then reads at most MaxSearchScan calls.
	Search Search
}

// PageLimit is f.Limit with its default and bound applied.
func (f CallFilter) PageLimit() int { return pageLimit(f.Limit) }

// CallCursor is the cursor of a page of calls that resumes after the call
// created at created with this id (pages run newest first). Every backend
// hands out the same cursors: 8 bytes of Unix nanoseconds (times before
// 1970 clamp to 0), then the id, in unpadded URL-safe base64.
func CallCursor(created time.Time, id string) string {
	n := created.UnixNano()
	if n < 0 || created.Before(time.Unix(0, 0)) {
		n = 0
	}
	return base64.RawURLEncoding.EncodeToString(append(binary.BigEndian.AppendUint64(nil, uint64(n)), id...))
}

// ParseCallCursor reads a CallCursor; ErrBadCursor if it is not one.
func ParseCallCursor(s string) (created time.Time, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 9 {
		return time.Time{}, "", ErrBadCursor
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[:8]))).UTC(), string(b[8:]), nil
}

// SourceFilter names a CRM record for SourceCalls: Type (the plugin, e.g.
// hubspot) and ObjectID are required; Integration, Account and ObjectType
// narrow the match when set ("contact" also matches calls that name no
// object type).
type SourceFilter struct {
	Type, Integration, Account, ObjectType, ObjectID string
}

// Match reports whether a call's source is the record f names.
func (f SourceFilter) Match(s Source) bool {
	if s.Type != f.Type || s.ObjectID != f.ObjectID {
		return false
	}
	if f.Integration != "" && s.Integration != f.Integration {
		return false
	}
	if f.Account != "" && s.Account != "" && s.Account != f.Account {
		return false
	}
	if f.ObjectType != "" {
		ot := s.ObjectType
		if ot == "" {
			ot = "contact"
		}
		if ot != f.ObjectType {
			return false
		}
	}
	return true
}

// MatchEvent reports whether ev is about the CRM record f names.
func (f SourceFilter) MatchEvent(ev Event) bool {
	return f.Match(Source{Type: ev.Type, Integration: ev.Integration, Account: ev.Account, ObjectType: ev.ObjectType, ObjectID: ev.ObjectID})
}

// Due reports whether c waits in a dialer's due index: scheduled or
// retry_scheduled with a next attempt time.
func Due(c *Call) bool {
	return (c.Status == CallScheduled || c.Status == CallRetryScheduled) && c.NextAttemptAt != nil
}

// Leased reports whether c is dialing under a lease (what InFlight counts
// and the lease sweeper expires).
func Leased(c *Call) bool { return c.Status == CallDialing && c.LeaseUntil != nil }
