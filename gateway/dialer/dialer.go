// Package dialer places calls on voice platforms and reads back what became
// of them. A Dialer sends one attempt (Dial) and verifies and parses the
// platform's status callback (ParseOutcome); the scheduler owns everything
// around it: when to dial, retries, leases and crash recovery.
//
// Three kinds ship: "http" (callgate's generic contract, docs/dialers.md),
// "callkaro" (the hosted callkaro.ai outbound API and its call_ended
// webhook) and "log" (writes the call to the log and completes it, for
// trials). Errors say what the scheduler should do: ErrTransport means the
// platform was not reached and the attempt may be re-sent later without
// spending one of the contact's attempts; ErrRejected means the platform
// refused this attempt.
package dialer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
)

// Request is one attempt to place.
type Request struct {
	CallID            string
	Attempt           int // 1 for the first attempt
	AgentID           string
	ToNumber          string // E.164
	Variables         map[string]string
	ContactType       string // the CRM object type or source, e.g. "contact"
	ObjectID          string // the CRM record id, if any
	StatusCallbackURL string // where the platform posts the outcome
	// IdempotencyKey is "<call id>-<attempt n>" when empty.
	IdempotencyKey string
	// BatchID, Priority (−100…100) and Language (ISO 639-1) come from
	// /call/outbound; dialers whose platform takes them pass them on.
	BatchID  string
	Priority int
	Language string
}

// Key is the idempotency key the request is sent with.
func (r Request) Key() string {
	if r.IdempotencyKey != "" {
		return r.IdempotencyKey
	}
	return fmt.Sprintf("%s-%d", r.CallID, r.Attempt)
}

// Placed is what a platform said when it accepted an attempt.
type Placed struct {
	ProviderCallID string
	// Outcome is set when the platform answered synchronously with the
	// attempt's final status (the log dialer always does).
	Outcome *Outcome
}

// Outcome is what became of one attempt.
type Outcome struct {
	CallID         string
	Attempt        int
	Status         string // one of the store.Outcome* constants
	ProviderCallID string
	DurationS      float64
	Reason         string
	// Report is what the platform said about the conversation, when it
	// said anything: recording, transcript, summary, disposition, …
	Report
}

// Error classes. Dial and ParseOutcome wrap one of these; test with errors.Is.
var (
	// ErrTransport: the platform could not be reached, timed out, answered
	// 5xx or 429. Re-send later with backoff; no attempt is spent.
	ErrTransport = errors.New("voice platform unreachable")
	// ErrRejected: the platform refused this attempt (4xx); the attempt failed.
	ErrRejected = errors.New("voice platform rejected the call")
	// ErrBadSignature: a status callback is not authentic; answer 401.
	ErrBadSignature = errors.New("status callback signature invalid")
	// ErrBadCallback: a status callback is authentic but malformed; answer 400.
	ErrBadCallback = errors.New("status callback malformed")
)

// Dialer places attempts on one voice platform.
type Dialer interface {
	// Name is the dialer block's name.
	Name() string
	// Idempotent reports whether the platform honours the idempotency key,
	// so an attempt left in flight by a crash may be sent again.
	Idempotent() bool
	// Dial sends one attempt. Errors wrap ErrTransport or ErrRejected.
	Dial(ctx context.Context, r Request) (Placed, error)
	// ParseOutcome verifies and parses a status callback posted to
	// /call/status/{dialer}. body is the raw request body. Errors wrap
	// ErrBadSignature or ErrBadCallback.
	ParseOutcome(r *http.Request, body []byte) (Outcome, error)
}

// Options are the dependencies a dialer is built with.
type Options struct {
	HTTPClient *http.Client // default: a client with cfg.Timeout
	Logger     hclog.Logger // default: hclog.NewNullLogger()
	// Clock is the time source for dialers that stamp times; the shipped
	// ones take every time from the platform. Default time.Now.
	Clock func() time.Time
}

// DefaultTimeout bounds one Dial when the dialer block sets no timeout.
const DefaultTimeout = 10 * time.Second

// New builds the dialer a dialer block describes.
func New(cfg *config.Dialer, opts Options) (Dialer, error) {
	if cfg == nil {
		return nil, errors.New("dialer: no dialer block given")
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: timeout}
	}
	log := opts.Logger.Named("dialer").With("dialer", cfg.Name)
	switch cfg.Type {
	case "http":
		return newHTTP(cfg, opts.HTTPClient, timeout, log)
	case "callkaro":
		return newCallkaro(cfg, opts.HTTPClient, timeout, log)
	case "log":
		return &Log{name: cfg.Name, log: log}, nil
	}
	return nil, fmt.Errorf("dialer %q: unknown type %q: use one of http, callkaro, log", cfg.Name, cfg.Type)
}

// validStatus reports whether s is one of our attempt outcomes.
func validStatus(s string) bool {
	switch s {
	case store.OutcomeCompleted, store.OutcomeNoAnswer, store.OutcomeBusy,
		store.OutcomeFailed, store.OutcomeVoicemail, store.OutcomeCanceled:
		return true
	}
	return false
}

// maskNumber keeps a phone number's country prefix and last two digits.
func maskNumber(n string) string {
	if len(n) <= 6 {
		return "****"
	}
	keep := 3
	out := []byte(n[:keep])
	for range n[keep : len(n)-2] {
		out = append(out, '*')
	}
	return string(append(out, n[len(n)-2:]...))
}
