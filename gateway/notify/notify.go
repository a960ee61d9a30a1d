// Package notify tells the outside world what became of calls: lifecycle
// webhooks to the server's and the agent's notify URLs (in the shape of the
// hosted service's call_ended webhook, signed with HMAC-SHA256) and, for
// agents with writeback on, each call attempt logged on the CRM record
// through the plugin's LogCall (a HubSpot Call on the contact's timeline,
// with follow-ups) and the final status written through UpdateRecord.
//
// Delivery is durable: Items builds outbox items that the scheduler commits
// in the same transaction as the call change they report, and Run delivers
// them at least once, retrying with capped exponential backoff and jitter.
// An item that keeps failing is kept as a dead letter with its last error,
// never dropped. Receivers deduplicate on the event_id (also sent as the
// X-Callgate-Event-Id header).
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

// CRMUpdater writes fields to a CRM record; sdk.CRM (a plugin client)
// satisfies it.
type CRMUpdater interface {
	UpdateRecord(ctx context.Context, req sdk.UpdateRequest) error
}

// Store is the outbox as the notifier needs it (store.Store has it all).
type Store interface {
	NewID(t time.Time) string
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxItem, error)
	NextOutboxAt(ctx context.Context) (time.Time, bool, error)
	UpdateOutbox(ctx context.Context, it store.OutboxItem) error
	DeleteOutbox(ctx context.Context, id string) error
	OutboxDepth(ctx context.Context) (pending, dead int, err error)
	// GetCall and MutateCall read and record what a CRM write-back logged.
	GetCall(ctx context.Context, id string) (store.Call, error)
	MutateCall(ctx context.Context, id string, fn func(c *store.Call) ([]store.OutboxItem, error)) (store.Call, error)
	store.Wakeups
}

// Config configures a Notifier.
type Config struct {
	Store Store
	// Secret keys the X-Callgate-Signature HMAC (server.notify_secret).
	// Empty: webhooks go out unsigned, and New logs a warning.
	Secret     string
	ServerURLs []string                      // server.notify
	AgentURLs  func(agentID string) []string // an agent's notify; nil: none
	Writeback  func(agentID string) bool     // an agent's writeback; nil: off
	// CRM finds the plugin client and credentials of an integration block.
	CRM func(integration string) (CRMUpdater, sdk.Credentials, bool)
	// WritebackRules is an agent's writeback block; nil (or a nil
	// answer): every attempt logged with the default title and body.
	WritebackRules func(agentID string) *config.Writeback
	// Capabilities are the manifest capabilities of an integration's
	// plugin: log_call makes write-back log calls (the CRM client must
	// then be an sdk.CallLogger), writeback sets the status properties.
	// nil: status properties only.
	Capabilities func(integration string) []string
	HTTPClient   *http.Client // default: 10s timeout
	Logger       hclog.Logger
	Clock        func() time.Time
	Registerer   prometheus.Registerer // nil: metrics are not registered

	MaxAttempts int           // tries before an item becomes a dead letter; default 13 (12–24 h)
	BaseBackoff time.Duration // wait after the first failure; default 30s
	MaxBackoff  time.Duration // cap on one wait; default 8h
	Workers     int           // deliveries in flight; default 8
	Batch       int           // items read per pass; default 100
	// MaxIdle bounds the sleep when nothing is due, so items written by
	// another path are found even without Wake; default 1m.
	MaxIdle time.Duration
	// Lease is how long a pass holds the items it claimed (ClaimOutbox):
	// no other pass, here or on another replica, takes them meanwhile, and
	// an item whose deliverer died is due again when it ends. It must
	// outlast a pass (Batch/Workers deliveries one after another); default
	// 5m.
	Lease time.Duration
}

// Notifier builds and delivers call notifications.
type Notifier struct {
	cfg  Config
	db   Store
	log  hclog.Logger
	now  func() time.Time
	http *http.Client
	wake chan struct{}
	m    *metrics
}

// New checks cfg and builds a Notifier.
func New(cfg Config) (*Notifier, error) {
	if cfg.Store == nil {
		return nil, errors.New("notify: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 13
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 30 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 8 * time.Hour
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = time.Minute
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Minute
	}
	for _, u := range cfg.ServerURLs {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("notify: server notify URL %q must start with http:// or https://", redact(u))
		}
	}
	n := &Notifier{cfg: cfg, db: cfg.Store, log: cfg.Logger.Named("notify"), now: cfg.Clock,
		http: cfg.HTTPClient, wake: make(chan struct{}, 1)}
	m, err := newMetrics(cfg.Registerer, cfg.Store)
	if err != nil {
		return nil, err
	}
	n.m = m
	if cfg.Secret == "" && len(cfg.ServerURLs) > 0 {
		n.log.Warn("server.notify_secret is empty: notifications are sent unsigned")
	}
	return n, nil
}

// Headers on every webhook.
const (
	SignatureHeader = "X-Callgate-Signature" // sha256=<hex HMAC-SHA256(secret, body)>
	EventIDHeader   = "X-Callgate-Event-Id"  // the payload's event_id
	DeliveryHeader  = "X-Callgate-Delivery"  // the outbox item id; equal on redelivery
)

// Event names in the webhook envelope.
const (
	// EventCallEnded reports an attempt's outcome, as the hosted service's
	// call_ended does; data.final says whether the call is now over.
	EventCallEnded = "call_ended"
	// EventCallStatus reports a call that reached a final status without
	// an attempt ending (skipped, blocked, dropped, canceled, …).
	EventCallStatus = "call_status"
)

// Envelope is the body of every webhook.
type Envelope struct {
	Event string  `json:"event"`
	Data  Payload `json:"data"`
}

// Payload is a webhook's data: the hosted call_ended fields callgate can
// fill, then callgate's own.
type Payload struct {
	// Hosted call_ended fields.
	CallSid           string            `json:"callSid"`
	Name              string            `json:"name"` // call type: "outbound"
	Agent             string            `json:"agent"`
	To                string            `json:"to"` // without "+", as the hosted service sends it
	CallDuration      float64           `json:"call_duration"`
	Time              string            `json:"time,omitempty"` // "2006-01-02 15:04:05", UTC
	HangupReason      string            `json:"hangup_reason"`
	CallMetadata      map[string]string `json:"call_metadata"`
	TryCount          int               `json:"try_count"` // 0 for the first attempt
	DispositionReason string            `json:"disposition_reason"`
	NextCallScheduled bool              `json:"next_call_scheduled"`

	// callgate's fields.
	EventID        string       `json:"event_id"` // stable per change: deduplicate on it
	CallID         string       `json:"call_id"`
	Attempt        int          `json:"attempt,omitempty"`
	Outcome        string       `json:"outcome,omitempty"`
	Status         string       `json:"status"`
	Reason         string       `json:"reason"`
	Final          bool         `json:"final"`
	ToNumber       string       `json:"to_number"` // E.164
	ProviderCallID string       `json:"provider_call_id,omitempty"`
	NextAttemptAt  *time.Time   `json:"next_attempt_at,omitempty"`
	Source         store.Source `json:"source"`
	OccurredAt     time.Time    `json:"occurred_at"`

	// What the platform reported about the conversation (outcome.go).
	OutcomeFields
}

// writeback is the body of a write-back outbox item.
type writeback struct {
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	CallID     string    `json:"call_id"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason"`
	At         time.Time `json:"at"`
}

// Write-back field names set on the CRM record.
const (
	FieldStatus = "callgate_last_call_status"
	FieldAt     = "callgate_last_call_at"
	FieldReason = "callgate_last_call_reason"
	FieldCallID = "callgate_last_call_id"
)

// Items returns the outbox items that report a change of call: a webhook
// per notify URL (server and agent, each once) and, when its agent has
// writeback on, a write-back to its CRM record (writeback.go). attempt is
// the attempt that just ended, or nil.
func (n *Notifier) Items(call store.Call, attempt *store.Attempt, final bool) []store.OutboxItem {
	now := n.now().UTC()
	final = final || store.Final(call.Status)
	urls := n.urls(call.AgentID)
	var items []store.OutboxItem
	if len(urls) > 0 {
		env := n.envelope(call, attempt, final, now)
		body, err := json.Marshal(env)
		if err != nil {
			n.log.Error("encode notification; not sent", "call", call.ID, "error", err)
		} else {
			refs := urlRefs(urls)
			for i := range urls {
				items = append(items, store.OutboxItem{ID: n.db.NewID(now), Kind: store.OutboxWebhook, URL: refs[i], Body: body,
					Headers: map[string]string{EventIDHeader: env.Data.EventID},
					CallID:  call.ID, AgentID: call.AgentID, Event: env.Event, NextAt: now, CreatedAt: now})
			}
		}
	}
	items = append(items, n.writebackItems(call, attempt, final, now)...)
	return items
}

// urlRefs are what the outbox keeps of each notify URL: the URL without
// its user info, query and fragment, which may carry tokens (the data
// file and its backups must not), and "#n" when it is the n-th URL with
// that stem. resolve finds the full URL in the running config again.
func urlRefs(urls []string) []string {
	out := make([]string, len(urls))
	seen := map[string]int{}
	for i, u := range urls {
		stem := redact(u)
		seen[stem]++
		out[i] = stem
		if k := seen[stem]; k > 1 {
			out[i] = fmt.Sprintf("%s#%d", stem, k)
		}
	}
	return out
}

// errTargetGone is a webhook item whose URL left the config.
var errTargetGone = errors.New("no longer in the config")

// resolve returns the full URL a webhook item is sent to: the URL of the
// running config (server.notify, then the agent's notify) that the item's
// reference names. An item stored with its full URL (before references)
// is sent there as it is.
func (n *Notifier) resolve(it store.OutboxItem) (string, error) {
	if redact(it.URL) != stripRef(it.URL) {
		return it.URL, nil // a full URL from an older version
	}
	urls := n.urls(it.AgentID)
	for i, ref := range urlRefs(urls) {
		if ref == it.URL {
			return urls[i], nil
		}
	}
	return "", fmt.Errorf("notify URL %s is %w (server.notify, or agent %q's notify): add it back and retry the dead letter", it.URL, errTargetGone, it.AgentID)
}

// stripRef drops the "#n" urlRefs adds.
func stripRef(ref string) string {
	if i := strings.LastIndexByte(ref, '#'); i >= 0 {
		return ref[:i]
	}
	return ref
}

// urls is the server's notify URLs then the agent's, each once.
func (n *Notifier) urls(agentID string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(us []string) {
		for _, u := range us {
			if u != "" && !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	add(n.cfg.ServerURLs)
	if n.cfg.AgentURLs != nil {
		add(n.cfg.AgentURLs(agentID))
	}
	return out
}

func (n *Notifier) envelope(c store.Call, a *store.Attempt, final bool, now time.Time) Envelope {
	p := Payload{
		CallSid: c.ID, Name: "outbound", Agent: c.AgentID, To: strings.TrimPrefix(c.ToNumber, "+"),
		CallMetadata: c.Variables, CallID: c.ID, Status: c.Status, Reason: c.Reason, Final: final,
		ToNumber: c.ToNumber, Source: c.Source, OccurredAt: now,
		NextCallScheduled: !final && c.NextAttemptAt != nil,
		OutcomeFields:     outcomeFields(c, a),
	}
	if p.CallMetadata == nil {
		p.CallMetadata = map[string]string{}
	}
	if !final {
		p.NextAttemptAt = c.NextAttemptAt
	}
	ev := EventCallStatus
	if a != nil {
		ev = EventCallEnded
		p.Attempt, p.TryCount, p.Outcome = a.N, max(a.N-1, 0), a.Outcome
		p.CallDuration, p.HangupReason, p.DispositionReason = a.DurationS, a.Outcome, a.Reason
		p.ProviderCallID = a.ProviderCallID
		if a.ProviderCallID != "" {
			p.CallSid = a.ProviderCallID
		}
		if !a.StartedAt.IsZero() {
			p.Time = a.StartedAt.UTC().Format("2006-01-02 15:04:05")
		}
	}
	p.EventID = fmt.Sprintf("%s-%d-%s", c.ID, p.Attempt, c.Status)
	return Envelope{Event: ev, Data: p}
}

// lastActivity is when the call last ended an attempt, else now.
func lastActivity(c store.Call, now time.Time) time.Time {
	for i := len(c.Attempts) - 1; i >= 0; i-- {
		if e := c.Attempts[i].EndedAt; e != nil {
			return e.UTC()
		}
	}
	return now
}

// Wake tells Run that new items were committed; it never blocks.
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}
