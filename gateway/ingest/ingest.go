// Package ingest serves the endpoints through which work enters callgate:
// POST /call/crm-webhook (a CRM's webhook, verified and parsed by its
// plugin), POST /call/outbound and POST /call/delete-schedule-call (the
// hosted service's scheduling API).
//
// Its guarantee: a 200 from /call/crm-webhook means every event of the
// request is committed (fsync'd) to the inbox. When the inbox is over its
// high-water mark or the store fails, callers get 503 with Retry-After and
// nothing is half-accepted.
package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/throttle"
	"github.com/callgate/callgate/sdk"
)

// Inbox is where accepted events are committed (store.Store).
type Inbox interface {
	AppendEvents(ctx context.Context, evs []store.Event, o store.AppendOptions) (store.AppendResult, error)
	PendingEvents(ctx context.Context) (int, error)
}

// Plugins finds a CRM plugin and its manifest by name (*pluginhost.Host).
// Manifest answers false while a plugin has never described itself; its
// webhooks then go to the plugin unchecked (and fail while it is down).
type Plugins interface {
	CRM(name string) (sdk.CRM, bool)
	Manifest(name string) (sdk.Manifest, bool)
	Names() []string
}

// Scheduler takes calls from /call/outbound and cancels them for
// /call/delete-schedule-call (*scheduler.Scheduler).
type Scheduler interface {
	Submit(ctx context.Context, sub scheduler.Submission) (scheduler.Submitted, error)
	CancelNumber(ctx context.Context, agentID, number, reason string) (int, error)
}

// DND says whether a number is on the do-not-call list (store.Store).
type DND interface {
	IsDND(ctx context.Context, number string) (bool, error)
}

// Config configures New.
type Config struct {
	Config    func() *config.Config // the current config (it may be reloaded)
	Inbox     Inbox
	Plugins   Plugins
	Scheduler Scheduler // for /call/outbound and delete-schedule-call; nil: those answer 503
	DND       DND       // for /call/outbound; nil: no check here (the scheduler checks again)
	Logger    hclog.Logger
	Now       func() time.Time
	// Registerer receives the ingest metrics; nil: a private registry.
	Registerer prometheus.Registerer
	// Accepted is called after a commit that added pending events (wakes
	// the pipeline); may be nil.
	Accepted func()
	// PluginTimeout bounds one HandleWebhook call (default 10s).
	PluginTimeout time.Duration
	// RetryAfter is what 503 answers ask callers to wait (default 5s).
	RetryAfter time.Duration
	// KeyThrottle counts invalid API keys per client address. Default: one
	// built from the config's auth_fail_burst, auth_fail_rate and
	// trusted_proxies.
	KeyThrottle *throttle.Throttle
}

// Handler serves the ingest endpoints.
type Handler struct {
	cfg Config
	log hclog.Logger
	m   *metrics
}

// New builds the ingest handlers.
func New(cfg Config) (*Handler, error) {
	if cfg.Config == nil || cfg.Inbox == nil || cfg.Plugins == nil {
		return nil, errors.New("ingest: Config, Inbox and Plugins are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PluginTimeout <= 0 {
		cfg.PluginTimeout = 10 * time.Second
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 5 * time.Second
	}
	if cfg.KeyThrottle == nil {
		l := cfg.Config().Server.Limits
		log := cfg.Logger.Named("ingest")
		cfg.KeyThrottle = throttle.New(throttle.Config{Burst: l.AuthFailBurst, Rate: l.AuthFailRate,
			TrustedProxies: l.TrustedProxies, Now: cfg.Now, OnThrottled: func(addr string) {
				log.Warn("too many invalid API keys: the address gets 429 until its budget refills (server.auth_fail_burst, auth_fail_rate)", "remote", addr)
			}})
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	m, err := newMetrics(cfg.Registerer, cfg.Inbox)
	if err != nil {
		return nil, fmt.Errorf("ingest: register metrics: %w", err)
	}
	return &Handler{cfg: cfg, log: cfg.Logger.Named("ingest"), m: m}, nil
}

// Paths of the endpoints.
const (
	WebhookPath        = "/call/crm-webhook"
	OutboundPath       = "/call/outbound"
	DeleteSchedulePath = "/call/delete-schedule-call"
)

// Mount registers the three endpoints with handle (server.Server.Handle).
func (h *Handler) Mount(handle func(method, path string, hh http.Handler)) {
	handle(http.MethodPost, WebhookPath, http.HandlerFunc(h.ServeWebhook))
	handle(http.MethodPost, OutboundPath, http.HandlerFunc(h.ServeOutbound))
	handle(http.MethodPost, DeleteSchedulePath, http.HandlerFunc(h.ServeDeleteSchedule))
}

// httpError is a reply decided deep in a handler.
type httpError struct {
	code       int
	msg        string
	retryAfter time.Duration // for 429 and 503; 0: Config.RetryAfter
}

func (e *httpError) Error() string { return e.msg }

// StatusCode is the HTTP status the error is answered with.
func (e *httpError) StatusCode() int { return e.code }

func fail(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// apiKey returns the key the request carries: header X-API-KEY or query
// x_api_key. Copies that differ (two headers, two query values, or a
// header and a query value) are refused with 400 rather than one picked:
// the caller meant one of them, and callgate cannot tell which.
// Identical copies count as one.
func apiKey(r *http.Request, q url.Values) (string, error) {
	key := ""
	for _, vals := range [][]string{r.Header.Values("X-API-KEY"), q["x_api_key"]} {
		for _, k := range vals {
			switch {
			case k == "":
			case key == "":
				key = k
			case subtle.ConstantTimeCompare([]byte(k), []byte(key)) != 1:
				return "", fail(http.StatusBadRequest, "Conflicting API keys: the X-API-KEY header and the x_api_key query parameter (or two copies of one) differ; send the key once")
			}
		}
	}
	return key, nil
}

// authenticate finds the api_key block of the request's key (sha256,
// constant-time). Wrong keys are counted per client address
// (Config.KeyThrottle): an address past its budget gets 429 with
// Retry-After before its key is looked at. A missing key is 403 and is
// not counted (it guesses nothing).
func (h *Handler) authenticate(r *http.Request, cfg *config.Config) (*config.APIKey, error) {
	return h.authenticateQuery(r, r.URL.Query(), cfg)
}

// authenticateQuery is authenticate with the request's query already parsed.
func (h *Handler) authenticateQuery(r *http.Request, q url.Values, cfg *config.Config) (*config.APIKey, error) {
	key, err := apiKey(r, q)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fail(http.StatusForbidden, "Missing X-API-KEY in headers (or x_api_key in the query)")
	}
	if wait, ok := h.cfg.KeyThrottle.Allow(r); !ok {
		return nil, &httpError{code: http.StatusTooManyRequests, retryAfter: wait,
			msg: "Too many invalid API keys from this address: retry later"}
	}
	sum := sha256.Sum256([]byte(key))
	got := []byte(hex.EncodeToString(sum[:]))
	var match *config.APIKey
	for i := range cfg.APIKeys {
		if subtle.ConstantTimeCompare(got, []byte(strings.ToLower(cfg.APIKeys[i].SHA256))) == 1 {
			match = &cfg.APIKeys[i]
		}
	}
	if match == nil {
		return nil, fail(http.StatusForbidden, "Invalid API key")
	}
	h.cfg.KeyThrottle.Succeeded(r)
	return match, nil
}

// agentFor returns agentID's agent, which must exist and which key must
// be allowed to trigger: missing agent_id 400, unknown agent 404, key not
// allowed 403.
func agentFor(cfg *config.Config, key *config.APIKey, agentID string) (*config.Agent, error) {
	if agentID == "" {
		return nil, fail(http.StatusBadRequest, "Missing agent_id in request query")
	}
	ag, ok := cfg.Agents[agentID]
	if !ok {
		return nil, fail(http.StatusNotFound, "Agent %s not found: use one of %s", reply.Quote(agentID), knownAgents(cfg, key))
	}
	if len(key.Agents) > 0 && !slices.Contains(key.Agents, agentID) {
		return nil, fail(http.StatusForbidden, "API key %q may not trigger agent %s", key.Name, reply.Quote(agentID))
	}
	return ag, nil
}

// knownAgents lists the agents key may trigger (every agent for a key
// without a list), sorted, the first twenty of a long list: the key has
// been checked, so this tells its holder nothing they could not use.
func knownAgents(cfg *config.Config, key *config.APIKey) string {
	names := key.Agents
	if len(names) == 0 {
		for n := range cfg.Agents {
			names = append(names, n)
		}
	}
	names = slices.Sorted(slices.Values(names))
	if len(names) == 0 {
		return "(none: add an agent block to the config)"
	}
	if len(names) > 20 {
		return strings.Join(names[:20], ", ") + ", …"
	}
	return strings.Join(names, ", ")
}

// writeErr answers err. Every error answer closes the connection: most
// come before the body is read (a wrong key, a conflicting parameter), and
// net/http would otherwise read the rest of the body before replying,
// however slowly the client sends it.
func (h *Handler) writeErr(w http.ResponseWriter, err error) {
	w.Header().Set("Connection", "close")
	var he *httpError
	if errors.As(err, &he) {
		if he.code == http.StatusServiceUnavailable || he.code == http.StatusTooManyRequests {
			after := he.retryAfter
			if after <= 0 {
				after = h.cfg.RetryAfter
			}
			reply.RetryLater(w, he.code, after, he.msg)
			return
		}
		reply.Error(w, he.code, he.msg)
		return
	}
	var pe *ParamError
	if errors.As(err, &pe) {
		reply.Error(w, http.StatusBadRequest, pe.Msg)
		return
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		reply.Errorf(w, http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes", mbe.Limit)
		return
	}
	h.log.Error("request failed", "error", err)
	reply.Error(w, http.StatusInternalServerError, "Internal server error")
}
