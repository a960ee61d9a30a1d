package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

// WebhookReply is the 200 body of /call/crm-webhook.
type WebhookReply struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"`
	Ignored    int    `json:"ignored"`
	// Failed counts events the plugin could not use (malformed, no object
	// id), stored failed with the reason; the rest of the batch is accepted.
	Failed int `json:"failed"`
}

// ServeWebhook is POST /call/crm-webhook (docs/webhooks.md). The query is
// parsed once here and handed down.
func (h *Handler) ServeWebhook(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	typ := q.Get("type")
	res, err := h.webhook(r, q, typ)
	if err != nil {
		label := typ
		if _, known := h.cfg.Plugins.CRM(typ); !known {
			label = "unknown" // keep the metric's label set bounded
		}
		h.m.rejected.WithLabelValues(label).Inc()
		h.writeErr(w, err)
		return
	}
	writeWebhookReply(w, res)
}

func (h *Handler) webhook(r *http.Request, q url.Values, typ string) (WebhookReply, error) {
	cfg := h.cfg.Config()
	key, err := h.authenticateQuery(r, q, cfg)
	if err != nil {
		return WebhookReply{}, err
	}
	if err := singleValues(q, "agent_id", "type"); err != nil {
		return WebhookReply{}, err
	}
	ag, err := agentFor(cfg, key, q.Get("agent_id"))
	if err != nil {
		return WebhookReply{}, err
	}
	return h.accept(r, q, cfg, ag, typ)
}

// AcceptAs takes a webhook for agentID from a caller authorized another
// way (an admin's test webhook from the dashboard): no API key is asked
// for; the plugin, its signature check and the inbox commit are the same
// as for a CRM's request to /call/crm-webhook with r's query.
func (h *Handler) AcceptAs(r *http.Request, agentID string) (WebhookReply, error) {
	cfg := h.cfg.Config()
	ag, ok := cfg.Agents[agentID]
	if !ok {
		return WebhookReply{}, fail(http.StatusNotFound, "Agent %s not found", reply.Quote(agentID))
	}
	q := r.URL.Query()
	return h.accept(r, q, cfg, ag, q.Get("type"))
}

// accept is a webhook after its caller was authorized for ag.
func (h *Handler) accept(r *http.Request, q url.Values, cfg *config.Config, ag *config.Agent, typ string) (WebhookReply, error) {
	if typ == "" {
		return WebhookReply{}, fail(http.StatusBadRequest, "Missing type in request query: use one of %s", strings.Join(h.cfg.Plugins.Names(), ", "))
	}
	crm, ok := h.cfg.Plugins.CRM(typ)
	if !ok {
		return WebhookReply{}, fail(http.StatusBadRequest, "Unknown type %s: use one of %s", reply.Quote(typ), strings.Join(h.cfg.Plugins.Names(), ", "))
	}
	integ, ok := cfg.IntegrationFor(ag, typ)
	if !ok {
		return WebhookReply{}, fail(http.StatusBadRequest, "Agent %q has no %s integration: add an integration block of type %q to the config and list it in the agent's integrations", ag.Name, typ, typ)
	}
	over, err := ParsePolicyParams(q)
	if err != nil {
		return WebhookReply{}, err
	}
	if m, ok := h.cfg.Plugins.Manifest(typ); ok {
		if err := checkContentType(typ, r.Header.Get("Content-Type"), m.ContentTypes); err != nil {
			return WebhookReply{}, err
		}
	}
	body, err := readWebhookBody(r, cfg)
	if err != nil {
		return WebhookReply{}, err
	}
	// Refuse before the plugin's work, not after: a full inbox is the
	// CRM's cue to retry later, and retries are deduplicated.
	if hw := cfg.Server.InboxHighWater; hw > 0 {
		n, err := h.cfg.Inbox.PendingEvents(r.Context())
		if err != nil {
			return WebhookReply{}, fail(http.StatusServiceUnavailable, "Could not read the inbox's depth: retry later")
		}
		if n >= hw {
			return WebhookReply{}, fail(http.StatusServiceUnavailable, "Inbox is full (%d events waiting): retry later", n)
		}
	}
	now := h.cfg.Now().UTC()
	wr, err := h.handleWebhook(r.Context(), crm, sdk.WebhookRequest{
		Method:      r.Method,
		URL:         signedURL(cfg.Server.PublicURL, cfg.Server.Listen, r),
		Headers:     pluginHeaders(r.Header),
		Body:        body,
		Credentials: sdk.Credentials(integ.Credentials),
		ReceivedAt:  now,
	})
	if err != nil {
		return WebhookReply{}, pluginError(typ, err)
	}
	h.m.received.WithLabelValues(typ).Add(float64(len(wr.Events)))
	evs, err := toStoreEvents(wr.Events, ag.Name, typ, integ.Name, over)
	if err != nil {
		return WebhookReply{}, err
	}
	res, err := h.cfg.Inbox.AppendEvents(r.Context(), evs, store.AppendOptions{Now: now})
	if err != nil {
		h.log.Error("inbox commit failed", "agent", ag.Name, "type", typ, "events", len(evs), "error", err)
		return WebhookReply{}, fail(http.StatusServiceUnavailable, "Could not store the events: retry later")
	}
	h.m.accepted.WithLabelValues(typ).Add(float64(res.Accepted))
	h.m.duplicate.WithLabelValues(typ).Add(float64(res.Duplicates))
	h.m.ignored.WithLabelValues(typ).Add(float64(res.Ignored))
	if res.Accepted > 0 && h.cfg.Accepted != nil {
		h.cfg.Accepted()
	}
	h.log.Debug("webhook accepted", "agent", ag.Name, "type", typ, "accepted", res.Accepted, "duplicates", res.Duplicates, "ignored", res.Ignored)
	failed := 0
	for i, ev := range res.Events {
		if !res.Duplicate[i] && ev.Status == store.EventFailed {
			failed++
		}
	}
	return WebhookReply{Status: "done", Message: message(res), Accepted: res.Accepted, Duplicates: res.Duplicates, Ignored: res.Ignored - failed, Failed: failed}, nil
}

// boundedWebhooks is a plugin client that bounds a webhook call by a
// timeout without a timer per call (pluginhost's coalescing client).
type boundedWebhooks interface {
	HandleWebhookWithin(ctx context.Context, req sdk.WebhookRequest, d time.Duration) (sdk.WebhookResult, error)
}

// handleWebhook calls the plugin bounded by Config.PluginTimeout.
func (h *Handler) handleWebhook(ctx context.Context, crm sdk.CRM, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	if b, ok := crm.(boundedWebhooks); ok {
		return b.HandleWebhookWithin(ctx, req, h.cfg.PluginTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.PluginTimeout)
	defer cancel()
	return crm.HandleWebhook(ctx, req)
}

func message(res store.AppendResult) string {
	n := len(res.Events)
	if n == 1 {
		return "1 event received"
	}
	return fmt.Sprintf("%d events received", n)
}

// checkContentType refuses (415) a media type the plugin does not
// declare in its manifest; declaring none means application/json. An
// absent Content-Type is left to the plugin.
func checkContentType(typ, ct string, accepted []string) error {
	if ct == "" {
		return nil
	}
	if len(accepted) == 0 {
		accepted = []string{sdk.DefaultContentType}
	}
	if slices.Contains(accepted, ct) {
		return nil // the common case, a bare media type: nothing to parse
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		return fail(http.StatusUnsupportedMediaType, "Unreadable Content-Type %s: the %s plugin accepts %s", reply.Quote(ct), typ, strings.Join(accepted, ", "))
	case slices.Contains(accepted, mt):
		return nil
	}
	return fail(http.StatusUnsupportedMediaType, "Unsupported Content-Type %s: the %s plugin accepts %s", reply.Quote(mt), typ, strings.Join(accepted, ", "))
}

// gatewayCredentials are the headers that authenticate to callgate itself,
// in canonical form: plugins never see them.
var gatewayCredentials = []string{"X-Api-Key", "Authorization", "Cookie"}

// pluginHeaders is the request's headers without those that authenticate
// to callgate itself. The value slices are shared with the request, not
// copied: the plugin gets them through the protocol (a copy in its own
// process), and nothing here writes to them.
func pluginHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if !slices.Contains(gatewayCredentials, k) {
			out[k] = v
		}
	}
	return out
}

// signedURL is the URL the CRM signed: public_url (or http://listen) plus
// the path and raw query exactly as received — re-encoding would break
// HubSpot's v2/v3 signatures.
func signedURL(publicURL, listen string, r *http.Request) string {
	base := strings.TrimSuffix(publicURL, "/")
	if base == "" {
		base = "http://" + listen
	}
	u := base + r.URL.EscapedPath()
	if r.URL.RawPath != "" {
		u = base + r.URL.RawPath
	}
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return u
}

// pluginError maps a HandleWebhook error's class to the reply.
func pluginError(typ string, err error) error {
	var se *sdk.Error
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Message
	}
	switch sdk.ClassOf(err) {
	case sdk.ClassInvalidSignature:
		return fail(http.StatusUnauthorized, "Invalid signature: %s", msg)
	case sdk.ClassBadRequest:
		return fail(http.StatusBadRequest, "Malformed %s webhook: %s", typ, msg)
	case sdk.ClassAuth, sdk.ClassPermanent:
		return fail(http.StatusBadRequest, "The %s plugin refused the webhook: %s", typ, msg)
	case sdk.ClassRateLimited:
		return fail(http.StatusTooManyRequests, "The %s plugin is rate limited: retry later", typ)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fail(http.StatusServiceUnavailable, "The %s plugin did not answer in time: retry later", typ)
	}
	return fail(http.StatusServiceUnavailable, "The %s plugin is unavailable (%s): retry later", typ, msg)
}

// toStoreEvents turns the plugin's events into inbox events carrying the
// request's overrides. An event the plugin could not use (Problem set) is
// stored terminal with the problem as its reason: ignored when the plugin
// still named its type and record (a type callgate does not act on), failed
// otherwise (malformed, no object id); either way the rest of the batch is
// accepted and the pipeline never sees it. Events naming no record are
// stored ignored right away: there is nobody to call. Deletions and erasure
// requests stay pending like the rest: the pipeline cancels the record's
// calls (and erases the person's data) durably (pipeline/deletion.go).
func toStoreEvents(in []sdk.Event, agent, typ, integration string, over Overrides) ([]store.Event, error) {
	var overRaw json.RawMessage
	if !over.Empty() {
		raw, err := json.Marshal(over)
		if err != nil {
			return nil, fmt.Errorf("encode overrides: %w", err)
		}
		overRaw = raw
	}
	out := make([]store.Event, 0, len(in))
	for _, e := range in {
		ev := store.Event{
			Key: e.Key, AgentID: agent, Type: typ, Integration: integration, EventType: e.Type, Kind: e.Kind,
			ObjectType: e.ObjectType, ObjectID: e.ObjectID, Account: e.Account, Property: e.Property,
			Value: e.Value, OccurredAt: e.OccurredAt.UTC(), Overrides: overRaw,
			ChangeSource: e.ChangeSource, SourceID: e.SourceID,
			RelatedObjectType: e.RelatedObjectType, RelatedObjectID: e.RelatedObjectID,
		}
		if e.Record != nil {
			raw, err := json.Marshal(e.Record)
			if err != nil {
				return nil, fmt.Errorf("encode inline record: %w", err)
			}
			ev.Record = raw
		}
		switch {
		case e.Problem != "" && e.Type != "" && e.ObjectType != "" && e.ObjectID != "":
			ev.Status, ev.Reason = store.EventIgnored, e.Problem
			ev.Record = nil
		case e.Problem != "":
			ev.Status, ev.Reason = store.EventFailed, e.Problem
			ev.Record = nil
		case e.ObjectID == "" && e.Record == nil:
			ev.Status, ev.Reason = store.EventIgnored, "the event names no record: nothing to call"
		}
		out = append(out, ev)
	}
	return out, nil
}
