package api

import (
	"encoding/json"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// The events API (GET /api/v1/events and its replays) is served by
// gateway/pipeline, which this package imports and so cannot be imported
// by; these are its answers as clients read them.

// EventList is the body of GET /api/v1/events. Each event carries its
// call's current call_status and call_reason when it became a call.
type EventList struct {
	Events     []EventView `json:"events"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// EventView is an event with its call's current status and reason: an
// item of GET /api/v1/events and the body of GET /api/v1/events/{id}.
type EventView struct {
	Event
	CallStatus string `json:"call_status,omitempty"`
	CallReason string `json:"call_reason,omitempty"`
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

// Event is one CRM event accepted into the inbox, with what became of
// it: the body of POST /api/v1/events/{id}/replay.
type Event struct {
	ID                string          `json:"id"`
	Key               string          `json:"key"`
	AgentID           string          `json:"agent_id"`
	Type              string          `json:"type"`
	Integration       string          `json:"integration"`
	EventType         string          `json:"event_type"`
	Kind              string          `json:"kind"`
	ObjectType        string          `json:"object_type"`
	ObjectID          string          `json:"object_id"`
	Account           string          `json:"account,omitempty"`
	Property          string          `json:"property,omitempty"`
	Value             string          `json:"value,omitempty"`
	ChangeSource      string          `json:"change_source,omitempty"`
	SourceID          string          `json:"source_id,omitempty"`
	RelatedObjectType string          `json:"related_object_type,omitempty"`
	RelatedObjectID   string          `json:"related_object_id,omitempty"`
	OccurredAt        time.Time       `json:"occurred_at"`
	ReceivedAt        time.Time       `json:"received_at"`
	Overrides         json.RawMessage `json:"overrides,omitempty"`
	Record            json.RawMessage `json:"record,omitempty"`
	Reconciled        bool            `json:"reconciled,omitempty"`
	Status            string          `json:"status"`
	Reason            string          `json:"reason,omitempty"`
	CallID            string          `json:"call_id,omitempty"`
	Attempts          int             `json:"attempts"`
	// NotBefore is written even when zero (0001-01-01T00:00:00Z), as it
	// always was.
	NotBefore  time.Time  `json:"not_before,omitempty"`
	OrphanedAt time.Time  `json:"orphaned_at,omitzero"`
	UpdatedAt  time.Time  `json:"updated_at"`
	History    []string   `json:"history,omitempty"`
	ErasedAt   *time.Time `json:"erased_at,omitempty"`
}

// BulkReplay is the body of POST /api/v1/events/replay.
type BulkReplay struct {
	Replayed  int  `json:"replayed"`
	Skipped   int  `json:"skipped"`
	Truncated bool `json:"truncated,omitempty"`
}

// NewEventView converts an event joined with its call.
func NewEventView(v store.EventView) EventView {
	return EventView{Event: NewEvent(v.Event), CallStatus: v.CallStatus, CallReason: v.CallReason}
}

// NewEvent converts a stored event.
func NewEvent(e store.Event) Event {
	return Event{ID: e.ID, Key: e.Key, AgentID: e.AgentID, Type: e.Type, Integration: e.Integration,
		EventType: e.EventType, Kind: e.Kind, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Account: e.Account,
		Property: e.Property, Value: e.Value, ChangeSource: e.ChangeSource, SourceID: e.SourceID,
		RelatedObjectType: e.RelatedObjectType, RelatedObjectID: e.RelatedObjectID,
		OccurredAt: e.OccurredAt, ReceivedAt: e.ReceivedAt, Overrides: e.Overrides, Record: e.Record,
		Reconciled: e.Reconciled, Status: e.Status, Reason: e.Reason, CallID: e.CallID, Attempts: e.Attempts,
		NotBefore: e.NotBefore, OrphanedAt: e.OrphanedAt, UpdatedAt: e.UpdatedAt, History: e.History, ErasedAt: e.ErasedAt}
}

// NewBulkReplay converts the result of a bulk replay.
func NewBulkReplay(b store.BulkReplay) BulkReplay {
	return BulkReplay{Replayed: b.Replayed, Skipped: b.Skipped, Truncated: b.Truncated}
}
