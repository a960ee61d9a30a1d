package api

import (
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// CallList is the body of GET /api/v1/calls.
type CallList struct {
	Calls      []Call `json:"calls"`
	NextCursor string `json:"next_cursor"`
}

// Call is a call as the admin API shows it (docs/architecture.md, "The
// call record"): GET /api/v1/calls/{id} and the cancel's answer.
type Call struct {
	ID                string            `json:"id"`
	AgentID           string            `json:"agent_id"`
	Status            string            `json:"status"`
	Reason            string            `json:"reason"`
	ToNumber          string            `json:"to_number"`
	Variables         map[string]string `json:"variables"`
	Source            Source            `json:"source"`
	Policy            Policy            `json:"policy"`
	Dialer            string            `json:"dialer"`
	NextAttemptAt     *time.Time        `json:"next_attempt_at"`
	LeaseUntil        *time.Time        `json:"lease_until,omitempty"`
	TransportFailures int               `json:"transport_failures,omitempty"`
	Attempts          []Attempt         `json:"attempts"`
	DuplicateOf       string            `json:"duplicate_of,omitempty"`
	CreatedAt         time.Time         `json:"created_at"`
	UpdatedAt         time.Time         `json:"updated_at"`
	Fields            map[string]any    `json:"fields,omitempty"`
	ErasedAt          *time.Time        `json:"erased_at,omitempty"`
	BatchID           string            `json:"batch_id,omitempty"`
	Priority          int               `json:"priority,omitempty"`
	Language          string            `json:"language,omitempty"`
}

// Source says where a call came from.
type Source struct {
	Type        string `json:"type"`
	Integration string `json:"integration,omitempty"`
	ObjectID    string `json:"object_id,omitempty"`
	ObjectType  string `json:"object_type,omitempty"`
	EventID     string `json:"event_id,omitempty"`
	Account     string `json:"account,omitempty"`
}

// Policy is when and how often a call may be attempted (a call's, or an
// agent's in GET /api/v1/agents).
type Policy struct {
	Timezone     string      `json:"timezone"`
	TimezoneNote string      `json:"timezone_note,omitempty"`
	Window       *Window     `json:"window,omitempty"`
	Retry        RetryPolicy `json:"retry"`
}

// Window is the daily period in which calls may be placed.
type Window struct {
	Start     string   `json:"start"`
	End       string   `json:"end"`
	CarryOver bool     `json:"carry_over"`
	Days      []string `json:"days,omitempty"`
}

// RetryPolicy says how many extra attempts follow the first and when.
type RetryPolicy struct {
	Max  int        `json:"max"`
	Gaps []Duration `json:"gaps"`
	On   []string   `json:"on"`
}

// Attempt is one try at reaching the person, with what the platform
// reported about the conversation and what the CRM logged.
type Attempt struct {
	N              int            `json:"n"`
	StartedAt      time.Time      `json:"started_at"`
	PlacedAt       *time.Time     `json:"placed_at,omitempty"`
	EndedAt        *time.Time     `json:"ended_at,omitempty"`
	Outcome        string         `json:"outcome,omitempty"`
	Reason         string         `json:"reason,omitempty"`
	ProviderCallID string         `json:"provider_call_id,omitempty"`
	DurationS      float64        `json:"duration_s,omitempty"`
	NeedsOperator  bool           `json:"needs_operator,omitempty"`
	RecordingURL   string         `json:"recording_url,omitempty"`
	Transcript     []Turn         `json:"transcript,omitempty"`
	Summary        string         `json:"summary,omitempty"`
	Disposition    string         `json:"disposition,omitempty"`
	FromNumber     string         `json:"from_number,omitempty"`
	Data           map[string]any `json:"data,omitempty"`
	Activity       *Activity      `json:"activity,omitempty"`
}

// Turn is one utterance of a transcript.
type Turn struct {
	Speaker string     `json:"speaker,omitempty"`
	Text    string     `json:"text"`
	At      *time.Time `json:"at,omitempty"`
}

// Activity is the CRM's record of an attempt.
type Activity struct {
	ID       string    `json:"id"`
	TaskIDs  []string  `json:"task_ids,omitempty"`
	Updated  []string  `json:"updated,omitempty"`
	LoggedAt time.Time `json:"logged_at"`
}

// NewCalls converts calls (already CallRecord'ed), never nil.
func NewCalls(calls []store.Call) []Call {
	out := make([]Call, len(calls))
	for i, c := range calls {
		out[i] = NewCall(c)
	}
	return out
}

// NewCall converts a stored call field by field; CallRecord first turns
// its absent lists into empty ones.
func NewCall(c store.Call) Call {
	return Call{
		ID: c.ID, AgentID: c.AgentID, Status: c.Status, Reason: c.Reason, ToNumber: c.ToNumber,
		Variables: c.Variables, Source: NewSource(c.Source), Policy: NewPolicy(c.Policy), Dialer: c.Dialer,
		NextAttemptAt: c.NextAttemptAt, LeaseUntil: c.LeaseUntil, TransportFailures: c.TransportFailures,
		Attempts: convertAll(c.Attempts, NewAttempt), DuplicateOf: c.DuplicateOf,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Fields: c.Fields, ErasedAt: c.ErasedAt,
		BatchID: c.BatchID, Priority: c.Priority, Language: c.Language,
	}
}

// NewSource converts a call's source.
func NewSource(s store.Source) Source {
	return Source{Type: s.Type, Integration: s.Integration, ObjectID: s.ObjectID, ObjectType: s.ObjectType,
		EventID: s.EventID, Account: s.Account}
}

// NewPolicy converts a call's policy.
func NewPolicy(p store.Policy) Policy {
	out := Policy{Timezone: p.Timezone, TimezoneNote: p.TimezoneNote,
		Retry: RetryPolicy{Max: p.Retry.Max, Gaps: convertAll(p.Retry.Gaps, func(d store.Duration) Duration { return Duration(d) }),
			On: p.Retry.On}}
	if w := p.Window; w != nil {
		out.Window = &Window{Start: w.Start, End: w.End, CarryOver: w.CarryOver, Days: w.Days}
	}
	return out
}

// NewAttempt converts one attempt.
func NewAttempt(a store.Attempt) Attempt {
	out := Attempt{N: a.N, StartedAt: a.StartedAt, PlacedAt: a.PlacedAt, EndedAt: a.EndedAt, Outcome: a.Outcome,
		Reason: a.Reason, ProviderCallID: a.ProviderCallID, DurationS: a.DurationS, NeedsOperator: a.NeedsOperator,
		RecordingURL: a.RecordingURL, Summary: a.Summary, Disposition: a.Disposition, FromNumber: a.FromNumber,
		Data: a.Data,
		Transcript: convertAll(a.Transcript, func(t store.Turn) Turn {
			return Turn{Speaker: t.Speaker, Text: t.Text, At: t.At}
		})}
	if ac := a.Activity; ac != nil {
		out.Activity = &Activity{ID: ac.ID, TaskIDs: ac.TaskIDs, Updated: ac.Updated, LoggedAt: ac.LoggedAt}
	}
	return out
}

// Who names the person the call is for, by store.Call's rule
// (docs/dashboard.md, "Who").
func (c Call) Who() string {
	return store.Call{Variables: c.Variables, Fields: c.Fields,
		Source: store.Source{Type: c.Source.Type, ObjectID: c.Source.ObjectID, ObjectType: c.Source.ObjectType}}.Who()
}
