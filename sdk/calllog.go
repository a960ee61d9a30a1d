package sdk

import (
	"context"
	"strconv"
	"time"
)

// CapabilityLogCall says the plugin implements CallLogger: it can log a
// call attempt as an activity on the CRM record (a HubSpot Call object on
// the contact's timeline, a LeadSquared activity on the lead), with the
// follow-ups rules decided.
const CapabilityLogCall = "log_call"

// CallLogger is the optional interface of plugins that log calls. It is
// apart from CRM so that plugins written before it compile and run
// unchanged: the host calls LogCall only when the manifest declares
// CapabilityLogCall, and falls back to UpdateRecord (capability
// "writeback") otherwise.
//
// LogCall must log each Key at most once, however often it is called: the
// host retries after timeouts and crashes, and an operator may replay a
// write-back. A plugin finds what an earlier try created (by a property
// carrying the key) before it creates anything.
type CallLogger interface {
	LogCall(ctx context.Context, req LogCallRequest) (LogCallResult, error)
}

// Call directions.
const (
	DirectionOutbound = "outbound"
	DirectionInbound  = "inbound"
)

// LogCallRequest logs one call attempt on one record.
type LogCallRequest struct {
	Credentials Credentials
	ObjectType  string // e.g. contact
	ObjectID    string
	// Key is the idempotency key, "<call id>-<attempt n>" (the dialers'
	// Idempotency-Key): equal keys log one call.
	Key   string
	Call  LoggedCall
	Tasks []FollowUpTask
	// Properties are record fields to set, decided by follow-up rules.
	Properties map[string]Value
	// CheckOnly asks only whether the credentials allow this logging
	// (HubSpot: the token's scopes); nothing is written. The error names
	// what is missing.
	CheckOnly bool
}

// LoggedCall is what the CRM activity shows.
type LoggedCall struct {
	Direction string // DirectionOutbound for callgate's calls
	// Outcome is callgate's: completed, no_answer, busy, failed,
	// voicemail or canceled.
	Outcome string
	// Disposition is the CRM's own value chosen by the agent's config
	// (a HubSpot disposition GUID, say); empty: the plugin maps Outcome.
	Disposition string
	// PlatformDisposition is the voice platform's word ("interested").
	PlatformDisposition string
	Duration            time.Duration
	ToNumber            string // E.164
	FromNumber          string
	RecordingURL        string
	Title               string
	Body                string // plain text; a plugin converts it as its CRM needs
	StartedAt           time.Time
	ProviderCallID      string
}

// FollowUpTask is a task for a person, associated to the record.
type FollowUpTask struct {
	Title string
	Body  string
	Due   time.Time
	Owner string // the CRM's user id; empty: the CRM's default
}

// LogCallResult holds the CRM's ids of what LogCall created or found.
type LogCallResult struct {
	ActivityID string
	TaskIDs    []string
	Updated    []string // properties set
}

// TaskKey is the idempotency key of the i-th follow-up task of a logged
// call: a plugin stores it on the task (or finds the task by it).
func TaskKey(key string, i int) string {
	return key + "/task-" + strconv.Itoa(i+1)
}
