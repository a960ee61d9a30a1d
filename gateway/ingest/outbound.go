package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

// OutboundRequest is the body of POST /call/outbound, as the hosted API
// takes it. Numbers and booleans may also arrive as strings.
type OutboundRequest struct {
	ToNumber          string          `json:"to_number"`
	AgentID           string          `json:"agent_id"`
	Metadata          map[string]any  `json:"metadata"`
	ScheduleAt        string          `json:"schedule_at"` // YYYY-MM-DDTHH:MM:SS in the agent's timezone
	MinTriggerTime    string          `json:"min_trigger_time"`
	MaxTriggerTime    string          `json:"max_trigger_time"`
	CarryOver         json.RawMessage `json:"carry_over"`
	NumberOfRetries   json.RawMessage `json:"number_of_retries"`
	GapBetweenRetries json.RawMessage `json:"gap_between_retries"` // minutes: a number or an array
	Timezone          string          `json:"timezone"`            // IANA name, "callee" or "contact" (falls back: no record)
	BatchID           string          `json:"batch_id"`            // the campaign the call belongs to
	Priority          json.RawMessage `json:"priority"`            // −100…100, higher first
	Language          string          `json:"language"`            // ISO 639-1
}

// OutboundReply is the 200 body of /call/outbound.
type OutboundReply struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	CallSID string `json:"call_sid"`
}

// ServeOutbound is POST /call/outbound: queue one call with the hosted
// API's body. Its policy fields go through ParsePolicyParams like the
// webhook's query (gaps here are minutes, as the hosted API has them).
func (h *Handler) ServeOutbound(w http.ResponseWriter, r *http.Request) {
	out, err := h.outbound(r)
	if err != nil {
		h.writeErr(w, err)
		return
	}
	reply.JSON(w, http.StatusOK, out)
}

func (h *Handler) outbound(r *http.Request) (OutboundReply, error) {
	cfg := h.cfg.Config()
	// The key first: a caller without one gets 403 before callgate reads
	// (or waits for) its body.
	key, err := h.authenticate(r, cfg)
	if err != nil {
		return OutboundReply{}, err
	}
	if err := singleValues(r.URL.Query(), "agent_id"); err != nil {
		return OutboundReply{}, err
	}
	var req OutboundRequest
	if err := decodeJSON(r, cfg, &req); err != nil {
		return OutboundReply{}, err
	}
	if q := r.URL.Query().Get("agent_id"); req.AgentID == "" {
		req.AgentID = q
	} else if q != "" && q != req.AgentID {
		return OutboundReply{}, paramErr("agent_id", "Conflicting agent_id: the body says %s and the query %s; send one", reply.Quote(req.AgentID), reply.Quote(q))
	}
	if req.AgentID == "" {
		return OutboundReply{}, fail(http.StatusBadRequest, "Missing agent_id in request body")
	}
	ag, err := agentFor(cfg, key, req.AgentID)
	if err != nil {
		return OutboundReply{}, err
	}
	if strings.TrimSpace(req.ToNumber) == "" {
		return OutboundReply{}, fail(http.StatusBadRequest, "Missing to_number in request")
	}
	number, err := callee.Normalize(req.ToNumber, ag.Region)
	if err != nil {
		return OutboundReply{}, fail(http.StatusBadRequest, "Invalid to_number: %v", err)
	}
	vals, err := outboundValues(req)
	if err != nil {
		return OutboundReply{}, err
	}
	over, err := ParsePolicyParams(vals)
	if err != nil {
		return OutboundReply{}, err
	}
	extras, err := parseOutboundExtras(req)
	if err != nil {
		return OutboundReply{}, err
	}
	policy := over.Apply(AgentPolicy(ag))
	zone, err := callee.Resolve(policy.Timezone, callee.Facts{Number: number, NoRecord: true, Agent: ag.Timezone, Default: cfg.Server.DefaultTimezone})
	if err != nil {
		return OutboundReply{}, fmt.Errorf("agent %s: %w", ag.Name, err)
	}
	policy.Timezone, policy.TimezoneNote = zone.Name, zone.Note
	var notBefore time.Time
	if req.ScheduleAt != "" {
		notBefore, err = time.ParseInLocation("2006-01-02T15:04:05", req.ScheduleAt, zone.Location)
		if err != nil {
			return OutboundReply{}, fail(http.StatusBadRequest, "Invalid schedule_at %s: use YYYY-MM-DDTHH:MM:SS without an offset, in the agent's timezone (%s)", reply.Quote(req.ScheduleAt), policy.Timezone)
		}
	}
	if h.cfg.Scheduler == nil {
		return OutboundReply{}, fail(http.StatusServiceUnavailable, "The scheduler is not running: retry later")
	}
	if h.cfg.DND != nil {
		dnd, err := h.cfg.DND.IsDND(r.Context(), number)
		if err != nil {
			return OutboundReply{}, fail(http.StatusServiceUnavailable, "Could not read the DND list: retry later")
		}
		if dnd {
			return OutboundReply{}, fail(http.StatusBadRequest, "DND_NUMBER: %s is on the DND list and will not be called", number)
		}
	}
	vars := make(map[string]string, len(req.Metadata))
	for k, v := range req.Metadata {
		vars[k] = plainString(v)
	}
	got, err := h.cfg.Scheduler.Submit(r.Context(), scheduler.Submission{
		Call: store.Call{AgentID: ag.Name, ToNumber: number, Variables: vars, Policy: policy, Dialer: ag.Dialer,
			Source: store.Source{Type: "api"}, BatchID: extras.BatchID, Priority: extras.Priority, Language: extras.Language},
		ContactKey: "api:" + number,
		NotBefore:  notBefore,
	})
	if err != nil {
		h.log.Error("outbound submit failed", "agent", ag.Name, "error", err)
		return OutboundReply{}, fail(http.StatusServiceUnavailable, "Could not queue the call: retry later")
	}
	msg := "Call queued successfully"
	switch {
	case got.Duplicate:
		msg = "Call already queued for this number"
	case got.Call.Status == store.CallDropped:
		// Recorded (call_sid finds it) but never dialed: say so, with why.
		msg = "Call not queued: " + got.Call.Reason
	}
	return OutboundReply{Status: "done", Message: msg, CallSID: got.Call.ID}, nil
}

// outboundValues turns the body's policy fields into ParsePolicyParams'
// values; gap_between_retries minutes become durations.
func outboundValues(req OutboundRequest) (url.Values, error) {
	v := url.Values{}
	v.Set("min_trigger_time", req.MinTriggerTime)
	v.Set("max_trigger_time", req.MaxTriggerTime)
	v.Set("timezone", req.Timezone)
	if s, ok := scalar(req.CarryOver); ok {
		v.Set("carry_over", s)
	} else {
		return nil, paramErr("carry_over", "invalid carry_over: use true or false")
	}
	if s, ok := scalar(req.NumberOfRetries); ok {
		v.Set("number_of_retries", s)
	} else {
		return nil, paramErr("number_of_retries", "invalid number_of_retries: use a whole number from 0 to %d", MaxRetries)
	}
	if len(bytes.TrimSpace(req.GapBetweenRetries)) > 0 && string(bytes.TrimSpace(req.GapBetweenRetries)) != "null" {
		var mins []float64
		var one float64
		if err := json.Unmarshal(req.GapBetweenRetries, &one); err == nil {
			mins = []float64{one}
		} else if err := json.Unmarshal(req.GapBetweenRetries, &mins); err != nil || len(mins) == 0 {
			return nil, paramErr("gap_between_retries", "invalid gap_between_retries: use minutes as a number (30) or an array ([30, 60])")
		}
		parts := make([]string, len(mins))
		for i, m := range mins {
			if m <= 0 || m != m {
				return nil, paramErr("gap_between_retries", "invalid gap_between_retries: each gap must be more than 0 minutes")
			}
			parts[i] = time.Duration(m * float64(time.Minute)).String()
		}
		v.Set("gap_between_retries", strings.Join(parts, ","))
	}
	return v, nil
}

// scalar reads a JSON bool, number or string as text; absent or null is "".
func scalar(raw json.RawMessage) (string, bool) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return "", true
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, true
	}
	if s == "true" || s == "false" {
		return s, true
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s, true
	}
	return "", false
}

// plainString formats a metadata value for a call variable.
func plainString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// readBody reads the request body up to server.max_body_bytes; over it the
// error is the *http.MaxBytesError that writeErr answers 413.
func readBody(r *http.Request, cfg *config.Config) ([]byte, error) {
	limit := cfg.Server.MaxBodyBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fail(http.StatusBadRequest, "Could not read the request body: %v", err)
	}
	return body, nil
}

// decodeJSON reads a JSON body into dst with the server's size limit.
func decodeJSON(r *http.Request, cfg *config.Config, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return fail(http.StatusUnsupportedMediaType, "Unsupported Content-Type %s: send application/json", reply.Quote(ct))
		}
	}
	body, err := readBody(r, cfg)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fail(http.StatusBadRequest, "Malformed JSON body: %v", err)
	}
	return nil
}

// ServeDeleteSchedule is POST /call/delete-schedule-call?agent_id=…: cancel
// the calls waiting for (agent, to_number). The body is JSON
// {"to_number": …} or a form with to_number.
func (h *Handler) ServeDeleteSchedule(w http.ResponseWriter, r *http.Request) {
	if err := h.deleteSchedule(r); err != nil {
		h.writeErr(w, err)
		return
	}
	reply.JSON(w, http.StatusOK, reply.Envelope{Status: "success", Message: "Scheduled call deleted successfully"})
}

func (h *Handler) deleteSchedule(r *http.Request) error {
	cfg := h.cfg.Config()
	agentID := r.URL.Query().Get("agent_id")
	if agentID == "" {
		return fail(http.StatusBadRequest, "Missing agent_id in request query")
	}
	key, err := h.authenticate(r, cfg)
	if err != nil {
		return err
	}
	if err := singleValues(r.URL.Query(), "agent_id"); err != nil {
		return err
	}
	ag, err := agentFor(cfg, key, agentID)
	if err != nil {
		return err
	}
	var number string
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<16)
		if err := r.ParseMultipartForm(1 << 16); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return fail(http.StatusBadRequest, "Malformed form body: %v", err)
		}
		number = r.PostFormValue("to_number")
	} else {
		var body struct {
			ToNumber json.RawMessage `json:"to_number"`
		}
		if err := decodeJSON(r, cfg, &body); err != nil {
			return err
		}
		number, _ = scalar(body.ToNumber)
	}
	if strings.TrimSpace(number) == "" {
		return fail(http.StatusBadRequest, "Missing to_number in request")
	}
	e164, err := callee.Normalize(number, ag.Region)
	if err != nil {
		return fail(http.StatusBadRequest, "Invalid to_number: %v", err)
	}
	if h.cfg.Scheduler == nil {
		return fail(http.StatusServiceUnavailable, "The scheduler is not running: retry later")
	}
	n, err := h.cfg.Scheduler.CancelNumber(r.Context(), ag.Name, e164, "deleted through /call/delete-schedule-call")
	if err != nil {
		h.log.Error("delete-schedule-call failed", "agent", ag.Name, "error", err)
		return fail(http.StatusInternalServerError, "Internal server error")
	}
	if n == 0 {
		return fail(http.StatusNotFound, "No scheduled call for %s with agent %s", e164, ag.Name)
	}
	return nil
}
