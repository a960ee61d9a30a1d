// Package dialertest runs fake voice platforms on 127.0.0.1 for tests: one
// speaking callgate's http dialer contract and one speaking the hosted
// callkaro.ai API. Each records what it was sent, can be told to be slow,
// to fail with 5xx, to reject with 4xx or to drop the connection after
// taking a call, and posts status callbacks (signed right or wrong, once
// or several times) the way the real platforms do.
package dialertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
)

// Flavor picks the API a Platform speaks.
type Flavor int

const (
	// HTTP speaks the http dialer's contract (docs/dialers.md): POST / with Idempotency-Key, callbacks
	// signed with X-Callgate-Signature.
	HTTP Flavor = iota
	// Callkaro speaks the hosted API: POST /call/outbound with X-API-KEY,
	// call_ended webhooks to a URL carrying ?token=.
	Callkaro
)

// Dial is one request the platform received.
type Dial struct {
	Key            string // Idempotency-Key header ("" for callkaro)
	APIKey         string // X-API-KEY header
	Headers        http.Header
	Body           []byte
	ToNumber       string
	ProviderCallID string
	// Placed is false when the platform answered with an error, or when the
	// request repeated an Idempotency-Key already placed.
	Placed bool
}

// Platform is a fake voice platform on 127.0.0.1.
type Platform struct {
	URL    string // base URL; the http dialer posts here, callkaro to URL+"/call/outbound"
	flavor Flavor
	apiKey string
	srv    *httptest.Server

	mu       sync.Mutex
	dials    []Dial
	byKey    map[string]string // idempotency key → provider call id
	delay    time.Duration
	failures []failure
	sync     string // http flavor: answer with this outcome synchronously
	seq      int
}

type failure struct {
	code int    // HTTP status, or 0 to drop the connection after taking the call
	body string // answer body
}

// New starts a platform of flavor; it stops when the test ends. For
// Callkaro, apiKey is the X-API-KEY it accepts.
func New(tb testing.TB, flavor Flavor, apiKey string) *Platform {
	tb.Helper()
	p := &Platform{flavor: flavor, apiKey: apiKey, byKey: map[string]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	tb.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	return p
}

// Client is an HTTP client for this platform.
func (p *Platform) Client() *http.Client { return p.srv.Client() }

// SetDelay makes every answer wait d (or until the caller gives up).
func (p *Platform) SetDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// FailNext answers the next n dials with code and body instead of placing
// them. Code 0 takes the call (it counts as placed) and then drops the
// connection without an answer, as a crash or network cut would.
func (p *Platform) FailNext(n, code int, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		p.failures = append(p.failures, failure{code: code, body: body})
	}
}

// AnswerSync makes the http flavor answer each dial with this final status
// in the 2xx body, as a synchronous platform does ("" turns it off).
func (p *Platform) AnswerSync(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sync = status
}

// Dials returns every request received, in order.
func (p *Platform) Dials() []Dial {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Dial(nil), p.dials...)
}

// Placed counts the calls actually placed to each number: with a faithful
// idempotent platform, a re-sent attempt does not call again.
func (p *Platform) Placed() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := map[string]int{}
	for _, d := range p.dials {
		if d.Placed {
			n[d.ToNumber]++
		}
	}
	return n
}

func (p *Platform) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	delay := p.delay
	p.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"status": "error", "message": "method not allowed"})
		return
	}
	if p.flavor == Callkaro {
		p.serveCallkaro(w, r, body)
		return
	}
	p.serveHTTP(w, r, body)
}

func (p *Platform) serveHTTP(w http.ResponseWriter, r *http.Request, body []byte) {
	var req dialer.HTTPDialRequest
	if err := json.Unmarshal(body, &req); err != nil || req.ToNumber == "" || req.CallID == "" {
		p.record(Dial{Key: r.Header.Get("Idempotency-Key"), Headers: r.Header.Clone(), Body: body})
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must carry call_id and to_number"})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	d := Dial{Key: key, Headers: r.Header.Clone(), Body: body, ToNumber: req.ToNumber}
	p.mu.Lock()
	if f, ok := p.nextFailure(); ok {
		if f.code == 0 {
			d.Placed, d.ProviderCallID = true, p.newID()
			if key != "" {
				p.byKey[key] = d.ProviderCallID
			}
		}
		p.dials = append(p.dials, d)
		p.mu.Unlock()
		p.fail(w, f)
		return
	}
	if id, seen := p.byKey[key]; seen && key != "" {
		d.ProviderCallID = id // a repeat: answered like the first, nobody called again
	} else {
		d.Placed, d.ProviderCallID = true, p.newID()
		if key != "" {
			p.byKey[key] = d.ProviderCallID
		}
	}
	syncStatus := p.sync
	p.dials = append(p.dials, d)
	p.mu.Unlock()
	resp := map[string]any{"provider_call_id": d.ProviderCallID, "status": "queued"}
	if syncStatus != "" {
		resp["status"], resp["duration_s"] = syncStatus, 42.5
	}
	writeJSON(w, http.StatusAccepted, resp)
}

func (p *Platform) serveCallkaro(w http.ResponseWriter, r *http.Request, body []byte) {
	d := Dial{APIKey: r.Header.Get("X-API-KEY"), Headers: r.Header.Clone(), Body: body}
	if r.URL.Path != "/call/outbound" {
		p.record(d)
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "error", "message": "Not found"})
		return
	}
	if d.APIKey == "" || d.APIKey != p.apiKey {
		p.record(d)
		writeJSON(w, http.StatusForbidden, map[string]string{"status": "error", "message": "Missing X-API-KEY in headers"})
		return
	}
	var req dialer.CallkaroOutbound
	if err := json.Unmarshal(body, &req); err != nil || req.ToNumber == "" || req.AgentID == "" {
		p.record(d)
		writeJSON(w, http.StatusBadRequest, map[string]string{"status": "error", "message": "Missing to_number or agent_id in request"})
		return
	}
	d.ToNumber = req.ToNumber
	p.mu.Lock()
	f, failing := p.nextFailure()
	if !failing || f.code == 0 {
		// The hosted API has no idempotency key: every request queues a call.
		d.Placed, d.ProviderCallID = true, p.newID()
	}
	p.dials = append(p.dials, d)
	p.mu.Unlock()
	if failing {
		p.fail(w, f)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "done", "message": "Call queued successfully", "call_sid": d.ProviderCallID})
}

func (p *Platform) record(d Dial) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dials = append(p.dials, d)
}

// nextFailure pops a scripted failure; p.mu is held.
func (p *Platform) nextFailure() (failure, bool) {
	if len(p.failures) == 0 {
		return failure{}, false
	}
	f := p.failures[0]
	p.failures = p.failures[1:]
	return f, true
}

// newID returns a provider call id; p.mu is held.
func (p *Platform) newID() string {
	p.seq++
	return "pc-" + strconv.Itoa(p.seq)
}

func (p *Platform) fail(w http.ResponseWriter, f failure) {
	if f.code == 0 {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("dialertest: response writer cannot be hijacked")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.code)
	io.WriteString(w, f.body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// PostOutcome posts an http-flavor status callback to url, signed with
// secret (pass a wrong secret to test rejection), times times (duplicates,
// as platforms redeliver). It returns the status code of each post.
func PostOutcome(ctx context.Context, client *http.Client, url, secret string, cb dialer.HTTPCallback, times int) ([]int, error) {
	body, err := json.Marshal(cb)
	if err != nil {
		return nil, err
	}
	return post(ctx, client, url, body, map[string]string{dialer.SignatureHeader: dialer.Sign(secret, body)}, times)
}

// CallEnded builds a callkaro call_ended webhook body for a call the
// callkaro dialer placed (call_metadata carries callgate's ids).
func CallEnded(callID string, attempt int, callSid, hangup, disposition string, durationS float64) []byte {
	data := map[string]any{
		"callSid":             callSid,
		"name":                "outbound",
		"agent":               "agent-1",
		"versionId":           "v1",
		"from":                "919876543210",
		"to":                  "918765432109",
		"recordingUrl":        "https://example.com/r.mp3",
		"call_duration":       durationS,
		"time":                "2025-12-19 16:01:07",
		"transcription":       "…",
		"batchId":             "",
		"hangup_reason":       hangup,
		"call_metadata":       map[string]any{dialer.MetaCallID: callID, dialer.MetaAttempt: strconv.Itoa(attempt), "name": "Jatin"},
		"try_count":           0,
		"post_call":           map[string]any{},
		"post_call_detail":    map[string]any{},
		"functions_called":    []any{},
		"disposition_reason":  disposition,
		"conversion_status":   false,
		"next_call_scheduled": false,
		"call_link":           "https://callkaro.ai/dashboard/call-history?call_id=" + callSid,
	}
	body, _ := json.Marshal(map[string]any{"event": "call_ended", "data": data})
	return body
}

// PostCallEnded posts a call_ended webhook body to url (which should carry
// ?token=…) times times, as the hosted service does. It returns the status
// code of each post.
func PostCallEnded(ctx context.Context, client *http.Client, url string, body []byte, times int) ([]int, error) {
	return post(ctx, client, url, body, nil, times)
}

func post(ctx context.Context, client *http.Client, url string, body []byte, headers map[string]string, times int) ([]int, error) {
	var codes []int
	for range times {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return codes, err
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return codes, fmt.Errorf("post callback: %w", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	return codes, nil
}

// Finish ends the i-th dial (0-based, as in Dials) the way an http-flavor
// platform does: it posts a status callback with the dial's call_id,
// attempt and provider call id to the status_callback_url the dial
// carried, signed with secret, times times. It returns each post's status.
func (p *Platform) Finish(ctx context.Context, client *http.Client, i int, status, secret string, times int) ([]int, error) {
	d, err := p.dial(i)
	if err != nil {
		return nil, err
	}
	var req dialer.HTTPDialRequest
	if err := json.Unmarshal(d.Body, &req); err != nil || req.StatusCallbackURL == "" {
		return nil, fmt.Errorf("dialertest: dial %d carries no status_callback_url", i)
	}
	cb := dialer.HTTPCallback{CallID: req.CallID, Attempt: req.Attempt, Status: status, ProviderCallID: d.ProviderCallID}
	if status == "completed" {
		cb.DurationS = 42.5
	}
	return PostOutcome(ctx, client, req.StatusCallbackURL, secret, cb, times)
}

// EndCall ends the i-th dial the way the hosted callkaro service does: a
// call_ended webhook whose call_metadata echoes the metadata the dial sent,
// posted to webhookURL (the URL configured in callkaro's dashboard, with
// its ?token=) times times. It returns each post's status.
func (p *Platform) EndCall(ctx context.Context, client *http.Client, i int, webhookURL, hangup, disposition string, durationS float64, times int) ([]int, error) {
	d, err := p.dial(i)
	if err != nil {
		return nil, err
	}
	var req struct {
		AgentID  string         `json:"agent_id"`
		ToNumber string         `json:"to_number"`
		Metadata map[string]any `json:"metadata"`
	}
	if err := json.Unmarshal(d.Body, &req); err != nil {
		return nil, fmt.Errorf("dialertest: dial %d: %w", i, err)
	}
	body, err := json.Marshal(map[string]any{"event": "call_ended", "data": map[string]any{
		"callSid": d.ProviderCallID, "name": "outbound", "agent": req.AgentID,
		"from": "919876543210", "to": strings.TrimPrefix(req.ToNumber, "+"),
		"call_duration": durationS, "time": time.Now().UTC().Format("2006-01-02 15:04:05"),
		"hangup_reason": hangup, "disposition_reason": disposition,
		"call_metadata": req.Metadata, "try_count": 0, "next_call_scheduled": false,
		"call_link": "https://callkaro.ai/dashboard/call-history?call_id=" + d.ProviderCallID,
	}})
	if err != nil {
		return nil, err
	}
	return PostCallEnded(ctx, client, webhookURL, body, times)
}

func (p *Platform) dial(i int) (Dial, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i < 0 || i >= len(p.dials) {
		return Dial{}, fmt.Errorf("dialertest: no dial %d (got %d)", i, len(p.dials))
	}
	if !p.dials[i].Placed {
		return Dial{}, fmt.Errorf("dialertest: dial %d was not placed", i)
	}
	return p.dials[i], nil
}
