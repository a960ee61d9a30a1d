package dialer

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
)

// Metadata keys the callkaro dialer adds to a call's metadata, so that the
// call_ended webhook (which echoes metadata as call_metadata) can be
// matched back to the attempt.
const (
	MetaCallID  = "callgate_call_id"
	MetaAttempt = "callgate_attempt"
)

// ErrIgnored: an authentic callback that carries no outcome for callgate (an
// event other than call_ended, or a call callgate did not place). Answer 200
// so the platform does not redeliver it, and drop it.
var ErrIgnored = errors.New("status callback is not about a callgate call")

// ErrUncertain is joined to ErrRejected when a non-idempotent platform may
// have received the attempt but its answer was lost (timeout or broken
// connection after the request was written). Sending again could call the
// person twice, so the attempt is not re-sent.
var ErrUncertain = errors.New("platform may have placed the call")

// CallkaroOutbound is the body of POST /call/outbound on the hosted API.
type CallkaroOutbound struct {
	ToNumber string            `json:"to_number"`
	AgentID  string            `json:"agent_id"`
	Metadata map[string]string `json:"metadata"`
	BatchID  string            `json:"batch_id,omitempty"`
	Priority int               `json:"priority,omitempty"`
	Language string            `json:"language,omitempty"`
}

// CallkaroQueued is the hosted API's answer to /call/outbound.
type CallkaroQueued struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	CallSid string `json:"call_sid"`
	CallID  string `json:"call_id"` // some docs name it so
}

// CallkaroEvent is the envelope of the hosted service's webhooks.
type CallkaroEvent struct {
	Event string            `json:"event"`
	Data  CallkaroCallEnded `json:"data"`
}

// CallkaroCallEnded is the data of a call_ended webhook (the fields callgate
// reads). The conversation's fields are kept raw and read one by one
// (callkaroReport), so that one the hosted service sends in an unexpected
// shape is dropped instead of losing the outcome.
type CallkaroCallEnded struct {
	CallSid           string         `json:"callSid"`
	Agent             string         `json:"agent"`
	To                string         `json:"to"`
	CallDuration      float64        `json:"call_duration"`
	HangupReason      string         `json:"hangup_reason"`
	DispositionReason string         `json:"disposition_reason"`
	CallMetadata      map[string]any `json:"call_metadata"`
	TryCount          int            `json:"try_count"`

	From             json.RawMessage `json:"from"`
	RecordingURL     json.RawMessage `json:"recordingUrl"`
	Transcription    json.RawMessage `json:"transcription"`
	PostCall         json.RawMessage `json:"post_call"`
	PostCallDetail   json.RawMessage `json:"post_call_detail"`
	ConversionStatus json.RawMessage `json:"conversion_status"`
	CallLink         json.RawMessage `json:"call_link"`
}

// Callkaro places calls through the hosted callkaro.ai outbound API. Its
// API takes no idempotency key, so it is not Idempotent.
type Callkaro struct {
	name    string
	url     string // …/call/outbound
	apiKey  string
	secret  string // the ?token= of the call_ended webhook URL
	client  *http.Client
	timeout time.Duration
	log     hclog.Logger
}

func newCallkaro(cfg *config.Dialer, client *http.Client, timeout time.Duration, log hclog.Logger) (*Callkaro, error) {
	base := cfg.URL
	if base == "" {
		base = config.DefaultCallkaroURL
	}
	if cfg.APIKey == "" {
		return nil, fmt.Errorf("dialer %q: type callkaro needs api_key (your callkaro.ai X-API-KEY)", cfg.Name)
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("dialer %q: type callkaro needs secret: the call_ended webhook is configured as /call/status/%s?token=<secret>", cfg.Name, cfg.Name)
	}
	u := strings.TrimRight(base, "/")
	if !strings.HasSuffix(u, "/call/outbound") {
		u += "/call/outbound"
	}
	return &Callkaro{name: cfg.Name, url: u, apiKey: cfg.APIKey, secret: cfg.Secret,
		client: client, timeout: timeout, log: log}, nil
}

// Name is the dialer block's name.
func (d *Callkaro) Name() string { return d.name }

// Idempotent is false: the hosted API cannot deduplicate a re-sent call.
func (d *Callkaro) Idempotent() bool { return false }

// Dial queues the call on the hosted API. The outcome comes later through
// the call_ended webhook.
func (d *Callkaro) Dial(ctx context.Context, r Request) (Placed, error) {
	meta := make(map[string]string, len(r.Variables)+2)
	for k, v := range r.Variables {
		meta[k] = v
	}
	meta[MetaCallID] = r.CallID
	meta[MetaAttempt] = strconv.Itoa(r.Attempt)
	body, err := json.Marshal(CallkaroOutbound{ToNumber: r.ToNumber, AgentID: r.AgentID, Metadata: meta,
		BatchID: r.BatchID, Priority: r.Priority, Language: r.Language})
	if err != nil {
		return Placed{}, fmt.Errorf("dialer %s: encode request: %w", d.name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	// Once the request is written, a lost answer is ambiguous: the call may
	// be queued. Without an idempotency key it must not be sent again.
	var written atomic.Bool // set on the transport's writing goroutine
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { written.Store(true) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return Placed{}, fmt.Errorf("dialer %s: build request: %w (check the dialer url)", d.name, errors.Join(err, ErrRejected))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-KEY", d.apiKey)
	raw, code, err := post(d.client, req, d.name)
	if err != nil {
		switch {
		case written.Load() && code == 0:
			return Placed{}, fmt.Errorf("dialer %s: no answer after the call was sent, not re-sent to avoid calling twice (check callkaro's call history): %w",
				d.name, errors.Join(ErrRejected, ErrUncertain))
		case code >= 500:
			// A 5xx does not say the call was not queued (the hosted API may
			// fail after queuing it, or a proxy may time out in front of it),
			// and it takes no idempotency key: re-sending could call twice.
			return Placed{}, fmt.Errorf("dialer %s: platform answered %d after the call was sent, not re-sent to avoid calling twice (check callkaro's call history): %w",
				d.name, code, errors.Join(ErrRejected, ErrUncertain))
		}
		return Placed{}, err
	}
	var q CallkaroQueued
	if err := json.Unmarshal(raw, &q); err != nil {
		d.log.Warn("2xx with a body that is not JSON; call taken as queued", "call", r.CallID, "attempt", r.Attempt)
	}
	sid := q.CallSid
	if sid == "" {
		sid = q.CallID
	}
	return Placed{ProviderCallID: sid}, nil
}

// ParseOutcome checks the ?token= in constant time and maps a call_ended
// webhook to an Outcome. Other events and calls without callgate metadata
// return ErrIgnored.
func (d *Callkaro) ParseOutcome(r *http.Request, body []byte) (Outcome, error) {
	token := r.URL.Query().Get("token")
	if subtle.ConstantTimeCompare([]byte(token), []byte(d.secret)) != 1 {
		return Outcome{}, fmt.Errorf("dialer %s: %w: the webhook URL must carry ?token=<the dialer's secret>", d.name, ErrBadSignature)
	}
	return ParseCallkaroWebhook(body)
}

// ParseCallkaroWebhook parses a call_ended webhook body (already
// authenticated) into an Outcome.
func ParseCallkaroWebhook(body []byte) (Outcome, error) {
	var ev CallkaroEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return Outcome{}, fmt.Errorf("%w: not a callkaro webhook: %v", ErrBadCallback, err)
	}
	if ev.Event != "call_ended" {
		return Outcome{}, fmt.Errorf("%w: event %q", ErrIgnored, clip(ev.Event, 40))
	}
	c := ev.Data
	callID := metaString(c.CallMetadata[MetaCallID])
	if callID == "" {
		return Outcome{}, fmt.Errorf("%w: call_metadata has no %s", ErrIgnored, MetaCallID)
	}
	attempt, err := strconv.Atoi(metaString(c.CallMetadata[MetaAttempt]))
	if err != nil || attempt < 1 {
		return Outcome{}, fmt.Errorf("%w: call_metadata.%s must be a number of 1 or more", ErrBadCallback, MetaAttempt)
	}
	if c.CallDuration < 0 {
		return Outcome{}, fmt.Errorf("%w: call_duration is negative", ErrBadCallback)
	}
	status, why := MapCallkaro(c.HangupReason, c.DispositionReason, c.CallDuration)
	return Outcome{CallID: callID, Attempt: attempt, Status: status, ProviderCallID: c.CallSid,
		DurationS: c.CallDuration, Reason: clip(why, 500), Report: callkaroReport(c)}, nil
}

// metaString reads a metadata value that may have come back as a string or
// a number.
func metaString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}

// MapCallkaro maps a call_ended webhook's hangup_reason, disposition_reason
// and call_duration to an attempt outcome and a reason (docs/dialers.md has
// the table). The hosted docs list no enum, so words are matched after
// normalising case and separators; an unrecognised hangup reason falls back
// to the duration: spoken to (> 0 s) is completed, else no_answer.
func MapCallkaro(hangup, disposition string, durationS float64) (status, reason string) {
	h := normReason(hangup)
	d := normReason(disposition)
	reason = "callkaro hangup_reason " + orNone(hangup)
	if disposition != "" {
		reason += ", disposition " + strconv.Quote(clip(disposition, 200))
	}
	has := func(s string, words ...string) bool {
		for _, w := range words {
			if strings.Contains(s, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has(h, "VOICEMAIL", "VOICE_MAIL", "MACHINE") || has(d, "VOICEMAIL", "VOICE_MAIL", "ANSWERING_MACHINE"):
		return store.OutcomeVoicemail, reason
	case has(h, "BUSY", "REJECT", "DECLINE"):
		return store.OutcomeBusy, reason
	case has(h, "NO_ANSWER", "NOANSWER", "NOT_ANSWERED", "UNANSWERED", "RING_TIMEOUT", "NOT_PICKED", "MISSED"):
		return store.OutcomeNoAnswer, reason
	case has(h, "CANCEL"):
		return store.OutcomeCanceled, reason
	case has(h, "FAIL", "ERROR", "INVALID", "UNREACHABLE", "UNAVAILABLE", "CONGESTION", "DND", "VERIFICATION"):
		return store.OutcomeFailed, reason
	case durationS > 0:
		return store.OutcomeCompleted, reason
	default:
		return store.OutcomeNoAnswer, reason + " with no talk time"
	}
}

func normReason(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '/' {
			return '_'
		}
		return r
	}, s)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(clip(s, 80))
}
