package store

import (
	"fmt"
	"time"
)

// DefaultDedupeTTL is how long an event's dedupe key is remembered when
// a backend's DedupeTTL is zero. HubSpot redelivers for about a day.
const DefaultDedupeTTL = 72 * time.Hour

// AppendOptions tune one AppendEvents call.
type AppendOptions struct {
	// Now stamps ReceivedAt/UpdatedAt and the ULIDs; zero → the inbox clock.
	Now time.Time
}

// AppendResult says what became of each event of an AppendEvents call.
type AppendResult struct {
	// Events are the events as stored, in the order given. A duplicate
	// carries the id and status of the event it repeats.
	Events []Event
	// Duplicate[i] reports whether Events[i] repeated a remembered key.
	Duplicate []bool
	// Accepted counts new pending events, Ignored new events stored with a
	// terminal status, Duplicates the repeats.
	Accepted, Duplicates, Ignored int
}

// EventFilter selects events for ListEvents; empty fields match all.
// Since is inclusive and Until exclusive on ReceivedAt.
type EventFilter struct {
	Status  string
	AgentID string
	Type    string // plugin name, e.g. hubspot
	Since   time.Time
	Until   time.Time
	// Search narrows the list to events matching a query (search.go); a
	// page then reads at most MaxSearchScan events.
	Search Search
	Limit  int    // default 50, at most 1000
	Cursor string // NextCursor of the previous page: the last event id shown
}

// Match reports whether ev passes f's fields other than Search, Limit and
// Cursor.
func (f EventFilter) Match(ev *Event) bool {
	return (f.Since.IsZero() || !ev.ReceivedAt.Before(f.Since)) &&
		(f.Until.IsZero() || ev.ReceivedAt.Before(f.Until)) &&
		(f.Status == "" || ev.Status == f.Status) && (f.AgentID == "" || ev.AgentID == f.AgentID) &&
		(f.Type == "" || ev.Type == f.Type)
}

// PageLimit is f.Limit with its default and bound applied.
func (f EventFilter) PageLimit() int { return pageLimit(f.Limit) }

func pageLimit(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, 1000)
}

// DedupeKey is the key under which an event is remembered: one agent, one
// integration, the plugin's key. The same CRM event sent to two agents is
// two events; sent twice to one agent it is one.
func DedupeKey(ev Event) string {
	if ev.Key == "" {
		return ""
	}
	return ev.AgentID + "\x1f" + ev.Integration + "\x1f" + ev.Key
}

// NewEvent is ev as AppendEvents stores it: with its id, received and
// updated at now, pending unless a terminal status came with it.
func NewEvent(ev Event, id string, now time.Time) Event {
	ev.ID = id
	ev.ReceivedAt, ev.UpdatedAt = now, now
	if ev.Status == "" || ev.Status == EventPending {
		ev.Status, ev.Reason = EventPending, ""
	}
	return ev
}

// Replayable reports whether an event with this status may be replayed.
func Replayable(status string) bool {
	switch status {
	case EventFailed, EventSkipped, EventIgnored, EventBlocked:
		return true
	}
	return false
}

// CanReplay reports whether ev may be replayed: a replayable status and
// the person's data not erased.
func CanReplay(ev Event) bool { return ev.ErasedAt == nil && Replayable(ev.Status) }

// Replay puts ev back in the queue, as ReplayEvent stores it: status
// pending, reason, tries and NotBefore cleared, the old outcome kept in
// History. An erased event, or one pending or called, gives
// ErrNotReplayable and is left as it was.
func Replay(ev *Event, now time.Time) error {
	if ev.ErasedAt != nil {
		return fmt.Errorf("event %s: the person's data was erased: %w", ev.ID, ErrNotReplayable)
	}
	if !Replayable(ev.Status) {
		return fmt.Errorf("event %s is %s: %w (only failed, skipped, ignored or blocked events are)", ev.ID, ev.Status, ErrNotReplayable)
	}
	ev.History = append(ev.History, fmt.Sprintf("%s %s: %s", ev.UpdatedAt.UTC().Format(time.RFC3339), ev.Status, ev.Reason))
	ev.Status, ev.Reason, ev.Attempts, ev.NotBefore, ev.UpdatedAt = EventPending, "", 0, time.Time{}, now.UTC()
	return nil
}

// WaitsForConfig reports whether a pending ev waits, past now, for an
// agent or integration missing from the config (OrphanedAt set): the
// events WakeOrphans makes due when they come back.
func WaitsForConfig(ev Event, now time.Time) bool {
	return !ev.OrphanedAt.IsZero() && ev.NotBefore.After(now)
}

// Wake makes an event waiting for its agent or integration due at now.
func Wake(ev *Event, now time.Time) { ev.NotBefore = now.UTC() }

// Events' views and bulk replays.

// EventView is an event as an operator reads it: with the current status
// and reason of the call it became. An event's own status says what the
// pipeline did ("called": it became a call); the call's says what
// happened since (completed, dropped, retry_scheduled …).
type EventView struct {
	Event
	CallStatus string `json:"call_status,omitempty"`
	CallReason string `json:"call_reason,omitempty"`
	// CallTimezone is the call's policy timezone, for showing times.
	CallTimezone string `json:"-"`
}

// ViewOf joins ev with its call (nil: the event has none, or it is gone).
func ViewOf(ev Event, c *Call) EventView {
	v := EventView{Event: ev}
	if c != nil {
		v.CallStatus, v.CallReason, v.CallTimezone = c.Status, c.Reason, c.Policy.Timezone
	}
	return v
}

// ShownStatus is the status to show: the call's when the event became
// one, else the event's.
func (v EventView) ShownStatus() string {
	if v.CallStatus != "" {
		return v.CallStatus
	}
	return v.Status
}

// ShownReason is the reason to show with ShownStatus.
func (v EventView) ShownReason() string {
	if v.CallStatus != "" {
		return v.CallReason
	}
	return v.Reason
}

// MaxBulkReplay bounds how many events one ReplayEvents call replays; a
// filter matching more leaves the rest for the next call (Truncated).
const MaxBulkReplay = 10000

// BulkReplay is what ReplayEvents did.
type BulkReplay struct {
	// Replayed events went back to pending.
	Replayed int `json:"replayed"`
	// Skipped events matched the filter but may not be replayed: pending,
	// called, or erased.
	Skipped int `json:"skipped"`
	// Truncated is set when more than MaxBulkReplay events matched: the
	// rest are left as they were.
	Truncated bool `json:"truncated,omitempty"`
}
