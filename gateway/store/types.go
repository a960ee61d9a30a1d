package store

import (
	"encoding/json"
	"time"
)

// Event statuses. An event is pending until the pipeline takes it to a
// terminal status; every terminal status carries a reason.
const (
	EventPending = "pending" // committed, waiting for a worker
	EventCalled  = "called"  // became a call (CallID set); or a duplicate of one
	EventIgnored = "ignored" // the agent's rules (or the event kind) said no
	EventSkipped = "skipped" // record not found, no valid phone, missing variable
	EventBlocked = "blocked" // number on the DND list
	EventFailed  = "failed"  // auth or permanent error; replayable
)

// Event is one CRM event accepted into the inbox, with what became of it.
type Event struct {
	ID          string `json:"id"`  // ULID, assigned at commit
	Key         string `json:"key"` // the plugin's dedupe key
	AgentID     string `json:"agent_id"`
	Type        string `json:"type"`        // plugin name, e.g. hubspot
	Integration string `json:"integration"` // integration block name
	EventType   string `json:"event_type"`  // raw, e.g. contact.creation
	Kind        string `json:"kind"`
	ObjectType  string `json:"object_type"`
	ObjectID    string `json:"object_id"`
	Account     string `json:"account,omitempty"`
	Property    string `json:"property,omitempty"`
	Value       string `json:"value,omitempty"`
	// ChangeSource and SourceID say what made the change (HubSpot: CRM_UI,
	// IMPORT, INTEGRATION, …; userId:123); rules read event.change_source.
	ChangeSource string `json:"change_source,omitempty"`
	SourceID     string `json:"source_id,omitempty"`
	// RelatedObjectType and RelatedObjectID name an association's other side.
	RelatedObjectType string          `json:"related_object_type,omitempty"`
	RelatedObjectID   string          `json:"related_object_id,omitempty"`
	OccurredAt        time.Time       `json:"occurred_at"`
	ReceivedAt        time.Time       `json:"received_at"`
	Overrides         json.RawMessage `json:"overrides,omitempty"` // the request's policy parameters, as parsed by ingest
	Record            json.RawMessage `json:"record,omitempty"`    // an inline record (sdk.Record as JSON), if the plugin sent one
	// Reconciled is set on an event reconciliation made for a record no
	// webhook brought (gateway/reconcile).
	Reconciled bool `json:"reconciled,omitempty"`

	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	CallID    string    `json:"call_id,omitempty"`
	Attempts  int       `json:"attempts"`             // pipeline tries (fetch retries)
	NotBefore time.Time `json:"not_before,omitempty"` // pending: do not retry before
	// OrphanedAt is when the pipeline first found the event's agent or
	// integration missing from the config; the event waits
	// server.orphan_grace from then for it to come back.
	OrphanedAt time.Time `json:"orphaned_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at"`
	// History keeps earlier outcomes of a replayed event ("<time> <status>: <reason>").
	History []string `json:"history,omitempty"`
	// ErasedAt is set once the person's data in the event was erased
	// (erase.go); such an event is never replayed.
	ErasedAt *time.Time `json:"erased_at,omitempty"`
}

// Call statuses (docs/scheduling.md, "Statuses and reasons").
const (
	CallScheduled      = "scheduled"
	CallDialing        = "dialing"
	CallRetryScheduled = "retry_scheduled"
	CallCompleted      = "completed"
	CallFailed         = "failed"
	CallSkipped        = "skipped"
	CallBlocked        = "blocked"
	CallDropped        = "dropped"
	CallCanceled       = "canceled"
)

// Final reports whether a call status is terminal.
func Final(status string) bool {
	switch status {
	case CallCompleted, CallFailed, CallSkipped, CallBlocked, CallDropped, CallCanceled:
		return true
	}
	return false
}

// Call is one person to call for one agent, with every attempt made.
type Call struct {
	ID            string            `json:"id"` // ULID
	AgentID       string            `json:"agent_id"`
	Status        string            `json:"status"`
	Reason        string            `json:"reason"`
	ToNumber      string            `json:"to_number"` // E.164
	Variables     map[string]string `json:"variables"`
	Source        Source            `json:"source"`
	Policy        Policy            `json:"policy"`
	Dialer        string            `json:"dialer"`
	NextAttemptAt *time.Time        `json:"next_attempt_at"`
	// LeaseUntil is set while dialing: by then the attempt's outcome is due,
	// or the attempt fails with "no outcome".
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	// TransportFailures counts dial tries in a row that never reached the
	// dialer (they spend no attempt; they set the backoff).
	TransportFailures int       `json:"transport_failures,omitempty"`
	Attempts          []Attempt `json:"attempts"`
	DuplicateOf       string    `json:"duplicate_of,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	// Fields are the record's fields the rules used, for the operator view.
	Fields map[string]any `json:"fields,omitempty"`
	// ErasedAt is set once the person's data in the call was erased
	// (erase.go): number, variables, fields and quoted values in reasons.
	ErasedAt *time.Time `json:"erased_at,omitempty"`
	// BatchID, Priority (−100…100, higher first) and Language (ISO 639-1)
	// come from /call/outbound and are passed to dialers that take them.
	BatchID  string `json:"batch_id,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Language string `json:"language,omitempty"`
}

// Source says where a call came from.
type Source struct {
	Type        string `json:"type"` // plugin name, or "api" for /call/outbound
	Integration string `json:"integration,omitempty"`
	ObjectID    string `json:"object_id,omitempty"`
	// ObjectType is the CRM object type (e.g. contact, lead) for write-back; "" means contact.
	ObjectType string `json:"object_type,omitempty"`
	EventID    string `json:"event_id,omitempty"`
	Account    string `json:"account,omitempty"`
}

// Policy is when and how often a call may be attempted.
type Policy struct {
	Timezone string `json:"timezone"` // IANA name, resolved ("callee" and "contact" already applied)
	// TimezoneNote says why the call is not in the zone its setting asked
	// for ("callee: +18005551234 is in several timezones; called in the
	// agent's timezone …"); empty when it is.
	TimezoneNote string      `json:"timezone_note,omitempty"`
	Window       *Window     `json:"window,omitempty"`
	Retry        RetryPolicy `json:"retry"`
}

// Window is the daily period in which calls may be placed.
type Window struct {
	Start     string   `json:"start"` // HH:MM
	End       string   `json:"end"`   // HH:MM; End < Start crosses midnight
	CarryOver bool     `json:"carry_over"`
	Days      []string `json:"days,omitempty"` // mon..sun; empty = every day
}

// RetryPolicy says how many extra attempts follow the first and when.
type RetryPolicy struct {
	Max  int        `json:"max"`
	Gaps []Duration `json:"gaps"`
	On   []string   `json:"on"`
}

// Duration is a time.Duration that reads and writes JSON as "2h0m0s".
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Attempt outcomes.
const (
	OutcomeCompleted = "completed"
	OutcomeNoAnswer  = "no_answer"
	OutcomeBusy      = "busy"
	OutcomeFailed    = "failed"
	OutcomeVoicemail = "voicemail"
	OutcomeCanceled  = "canceled"
)

// Attempt is one try at reaching the person.
type Attempt struct {
	N         int       `json:"n"`
	StartedAt time.Time `json:"started_at"`
	// PlacedAt is when the dialer accepted the attempt; nil while the dial
	// request is in flight (what crash recovery looks at).
	PlacedAt       *time.Time `json:"placed_at,omitempty"`
	EndedAt        *time.Time `json:"ended_at,omitempty"`
	Outcome        string     `json:"outcome,omitempty"`
	Reason         string     `json:"reason,omitempty"`
	ProviderCallID string     `json:"provider_call_id,omitempty"`
	DurationS      float64    `json:"duration_s,omitempty"`
	// NeedsOperator is set when a crash left this attempt dialing on a
	// dialer that cannot deduplicate: re-sending might call twice.
	NeedsOperator bool `json:"needs_operator,omitempty"`

	// What the platform reported about the conversation (docs/dialers.md,
	// "Outcome fields"); all optional, all personal data for erasure.
	RecordingURL string `json:"recording_url,omitempty"`
	Transcript   []Turn `json:"transcript,omitempty"` // a plain-string transcript is one Turn without a speaker
	Summary      string `json:"summary,omitempty"`
	Disposition  string `json:"disposition,omitempty"` // the platform's own word, e.g. "interested"
	FromNumber   string `json:"from_number,omitempty"`
	// Data is the platform's post-call extraction, as it sent it.
	Data map[string]any `json:"data,omitempty"`

	// Activity is what the CRM write-back logged for this attempt; a retry
	// or replay that finds it logs nothing twice.
	Activity *Activity `json:"activity,omitempty"`
}

// Turn is one utterance of a transcript.
type Turn struct {
	Speaker string     `json:"speaker,omitempty"` // e.g. agent, user
	Text    string     `json:"text"`
	At      *time.Time `json:"at,omitempty"`
}

// Activity is the CRM's record of an attempt: the logged call (a HubSpot
// Call object, a LeadSquared activity) and the follow-ups rules created.
type Activity struct {
	ID       string    `json:"id"`                 // the CRM's id of the logged call
	TaskIDs  []string  `json:"task_ids,omitempty"` // follow-up tasks created
	Updated  []string  `json:"updated,omitempty"`  // contact properties set by follow-up rules
	LoggedAt time.Time `json:"logged_at"`
}
