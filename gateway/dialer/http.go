package dialer

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
)

// SignatureHeader carries the HMAC of a status callback's raw body (and of
// every notification callgate sends).
const SignatureHeader = "X-Callgate-Signature"

// Sign returns the SignatureHeader value for body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is a valid Sign(secret, body), compared in
// constant time.
func Verify(secret string, body []byte, header string) bool {
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	sum, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(sum, m.Sum(nil))
}

// HTTPDialRequest is the JSON body the http dialer POSTs (docs/dialers.md, "The dial request").
type HTTPDialRequest struct {
	CallID            string            `json:"call_id"`
	Attempt           int               `json:"attempt"`
	AgentID           string            `json:"agent_id"`
	ToNumber          string            `json:"to_number"`
	Variables         map[string]string `json:"variables"`
	Contact           HTTPContact       `json:"contact"`
	StatusCallbackURL string            `json:"status_callback_url"`
	// From /call/outbound, when the caller gave them.
	BatchID  string `json:"batch_id,omitempty"`
	Priority int    `json:"priority,omitempty"`
	Language string `json:"language,omitempty"`
}

// HTTPContact names the CRM record a call is for.
type HTTPContact struct {
	Type     string `json:"type"`
	ObjectID string `json:"object_id"`
}

// HTTPDialResponse is what a platform may answer with a 2xx.
type HTTPDialResponse struct {
	ProviderCallID string  `json:"provider_call_id"`
	Status         string  `json:"status"` // synchronous platforms: the outcome
	DurationS      float64 `json:"duration_s"`
	Reason         string  `json:"reason"`

	// With a synchronous status, the conversation as in HTTPCallback.
	RecordingURL string         `json:"recording_url,omitempty"`
	Transcript   Transcript     `json:"transcript,omitempty"`
	Summary      string         `json:"summary,omitempty"`
	Disposition  string         `json:"disposition,omitempty"`
	FromNumber   string         `json:"from_number,omitempty"`
	Data         map[string]any `json:"data,omitempty"`
}

// HTTPCallback is the status callback body a platform posts. The fields
// after reason describe the conversation (docs/dialers.md, "Outcome
// fields"); all are optional.
type HTTPCallback struct {
	CallID         string  `json:"call_id"`
	Attempt        int     `json:"attempt"`
	Status         string  `json:"status"`
	ProviderCallID string  `json:"provider_call_id"`
	DurationS      float64 `json:"duration_s"`
	Reason         string  `json:"reason"`

	RecordingURL string         `json:"recording_url,omitempty"`
	Transcript   Transcript     `json:"transcript,omitempty"`
	Summary      string         `json:"summary,omitempty"`
	Disposition  string         `json:"disposition,omitempty"`
	FromNumber   string         `json:"from_number,omitempty"`
	Data         map[string]any `json:"data,omitempty"`
}

// HTTP is the generic dialer: callgate's own contract, which any voice
// platform (or a small adapter in front of one) can implement.
type HTTP struct {
	name    string
	url     string
	headers map[string]string
	secret  string
	client  *http.Client
	timeout time.Duration
	log     hclog.Logger
}

func newHTTP(cfg *config.Dialer, client *http.Client, timeout time.Duration, log hclog.Logger) (*HTTP, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("dialer %q: type http needs url", cfg.Name)
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("dialer %q: type http needs secret: status callbacks are verified with it", cfg.Name)
	}
	return &HTTP{name: cfg.Name, url: cfg.URL, headers: cfg.Headers, secret: cfg.Secret,
		client: client, timeout: timeout, log: log}, nil
}

// Name is the dialer block's name.
func (d *HTTP) Name() string { return d.name }

// Idempotent is true: the platform is told the Idempotency-Key.
func (d *HTTP) Idempotent() bool { return true }

// Dial POSTs the attempt with its Idempotency-Key.
func (d *HTTP) Dial(ctx context.Context, r Request) (Placed, error) {
	body, err := json.Marshal(HTTPDialRequest{
		CallID: r.CallID, Attempt: r.Attempt, AgentID: r.AgentID, ToNumber: r.ToNumber,
		Variables: nonNil(r.Variables), Contact: HTTPContact{Type: r.ContactType, ObjectID: r.ObjectID},
		StatusCallbackURL: r.StatusCallbackURL, BatchID: r.BatchID, Priority: r.Priority, Language: r.Language,
	})
	if err != nil {
		return Placed{}, fmt.Errorf("dialer %s: encode request: %w", d.name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return Placed{}, fmt.Errorf("dialer %s: build request: %w (check the dialer url)", d.name, errors.Join(err, ErrRejected))
	}
	for k, v := range d.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", r.Key())
	raw, _, err := post(d.client, req, d.name)
	if err != nil {
		return Placed{}, err
	}
	var resp HTTPDialResponse
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &resp); err != nil {
			// The platform accepted the call; an unreadable body must not
			// make the scheduler send it again.
			d.log.Warn("2xx with a body that is not JSON; call taken as placed", "call", r.CallID, "attempt", r.Attempt)
			return Placed{}, nil
		}
	}
	p := Placed{ProviderCallID: resp.ProviderCallID}
	if resp.Status != "" && resp.Status != "queued" && resp.Status != "placed" {
		if !validStatus(resp.Status) {
			d.log.Warn("2xx with an unknown status; waiting for the callback", "call", r.CallID, "status", clip(resp.Status, 40))
			return p, nil
		}
		rep := Report{RecordingURL: resp.RecordingURL, Transcript: resp.Transcript, Summary: resp.Summary,
			Disposition: resp.Disposition, FromNumber: resp.FromNumber, Data: resp.Data}
		if err := rep.validate(); err != nil {
			// The call happened; a bad field must not undo its outcome.
			d.log.Warn("2xx with a malformed outcome field; the conversation is not kept", "call", r.CallID, "error", err)
			rep = Report{}
		}
		p.Outcome = &Outcome{CallID: r.CallID, Attempt: r.Attempt, Status: resp.Status,
			ProviderCallID: resp.ProviderCallID, DurationS: resp.DurationS, Reason: resp.Reason, Report: rep}
	}
	return p, nil
}

// ParseOutcome checks X-Callgate-Signature against the raw body and parses it.
func (d *HTTP) ParseOutcome(r *http.Request, body []byte) (Outcome, error) {
	if !Verify(d.secret, body, r.Header.Get(SignatureHeader)) {
		return Outcome{}, fmt.Errorf("dialer %s: %w: %s must be sha256=<hex HMAC-SHA256(secret, raw body)>", d.name, ErrBadSignature, SignatureHeader)
	}
	return ParseHTTPCallback(body)
}

// ParseHTTPCallback parses an http dialer status callback body (already
// verified).
func ParseHTTPCallback(body []byte) (Outcome, error) {
	var cb HTTPCallback
	if err := json.Unmarshal(body, &cb); err != nil {
		return Outcome{}, fmt.Errorf("%w: %w", ErrBadCallback, decodeError(err))
	}
	switch {
	case cb.CallID == "":
		return Outcome{}, fmt.Errorf("%w: call_id is missing", ErrBadCallback)
	case cb.Attempt < 1:
		return Outcome{}, fmt.Errorf("%w: attempt must be 1 or more, got %d", ErrBadCallback, cb.Attempt)
	case !validStatus(cb.Status):
		return Outcome{}, fmt.Errorf("%w: unknown status %q: use completed, no_answer, busy, failed, voicemail or canceled", ErrBadCallback, clip(cb.Status, 40))
	case cb.DurationS < 0:
		return Outcome{}, fmt.Errorf("%w: duration_s is negative", ErrBadCallback)
	}
	rep := Report{RecordingURL: cb.RecordingURL, Transcript: cb.Transcript, Summary: cb.Summary,
		Disposition: cb.Disposition, FromNumber: cb.FromNumber, Data: cb.Data}
	if err := rep.validate(); err != nil {
		return Outcome{}, fmt.Errorf("%w: %w", ErrBadCallback, err)
	}
	return Outcome{CallID: cb.CallID, Attempt: cb.Attempt, Status: cb.Status,
		ProviderCallID: cb.ProviderCallID, DurationS: cb.DurationS, Reason: clip(cb.Reason, 500), Report: rep}, nil
}

// maxResponse caps how much of a platform's answer is read.
const maxResponse = 64 << 10

// post sends req and sorts the answer into the error classes: 2xx returns
// the body, 4xx (but 408 and 429) ErrRejected with the platform's message,
// anything else ErrTransport. code is the HTTP status, 0 when no answer
// came.
func post(client *http.Client, req *http.Request, name string) (body []byte, code int, err error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("dialer %s: POST %s: %w: %w", name, redactURL(req), ErrTransport, scrub(err, req))
	}
	defer resp.Body.Close()
	code = resp.StatusCode
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil && code >= 200 && code < 300 {
		// The platform said yes; a broken body does not undo that.
		return nil, code, nil
	}
	switch {
	case code >= 200 && code < 300:
		return raw, code, nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return nil, code, fmt.Errorf("dialer %s: platform answered %d, will retry: %w", name, code, ErrTransport)
	case code >= 400 && code < 500:
		return nil, code, fmt.Errorf("dialer %s: platform answered %d: %s: %w", name, code, platformMessage(raw), ErrRejected)
	default:
		return nil, code, fmt.Errorf("dialer %s: platform answered %d, will retry: %w", name, code, ErrTransport)
	}
}

// platformMessage pulls a human message out of an error body: the
// "message" or "error" field of a JSON object, else the text itself.
func platformMessage(raw []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   any    `json:"error"`
		Detail  string `json:"detail"`
	}
	if json.Unmarshal(raw, &m) == nil {
		switch {
		case m.Message != "":
			return clip(m.Message, 200)
		case m.Detail != "":
			return clip(m.Detail, 200)
		case m.Error != nil:
			if s, ok := m.Error.(string); ok {
				return clip(s, 200)
			}
		}
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "no message"
	}
	return clip(s, 200)
}

// redactURL is the request URL without its query, which may hold tokens.
func redactURL(req *http.Request) string {
	u := *req.URL
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}

// scrub replaces the full URL in a client error (which would carry query
// tokens) with its redacted form.
func scrub(err error, req *http.Request) error {
	full := req.URL.String()
	if msg := err.Error(); strings.Contains(msg, full) {
		return errors.New(strings.ReplaceAll(msg, full, redactURL(req)))
	}
	return err
}

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
