// Package api serves callgate's admin JSON API (docs/cli.md lists its routes): call history
// and cancel, the DND list, the configured agents, plugin status, the
// rules dry run, the hot backup and the notification outbox (dead letters
// and their retry). Handlers are plain http.Handlers listed by Routes; the
// server mounts them behind its admin bearer auth. The package reaches the
// store, scheduler and plugin host only through the small interfaces
// below, so tests and a second store backend can supply their own.
//
// Every error is the {"status":"error","message":…} envelope; bad input is
// a 400 whose message names the offending field.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
)

// Calls reads call history (store.Store implements it).
type Calls interface {
	GetCall(ctx context.Context, id string) (store.Call, error)
	ListCalls(ctx context.Context, f store.CallFilter) (calls []store.Call, nextCursor string, err error)
}

// Canceler cancels pending calls (*scheduler.Scheduler implements it).
type Canceler interface {
	Cancel(ctx context.Context, id, reason string) (store.Call, error)
	// CancelNumber cancels the pending calls to number (every agent's when
	// agentID is empty) and reports how many it canceled.
	CancelNumber(ctx context.Context, agentID, number, reason string) (int, error)
}

// DND is the do-not-disturb list (store.Store implements it).
type DND interface {
	AddDND(ctx context.Context, number, note string, now time.Time) error
	RemoveDND(ctx context.Context, number string) error
	ListDND(ctx context.Context) ([]store.DNDEntry, error)
}

// PluginStatus is one plugin process as the plugin host sees it.
type PluginStatus struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Source    string    `json:"source"` // "builtin" or the binary's path
	State     string    `json:"state"`  // e.g. running, restarting, failed
	Restarts  int       `json:"restarts"`
	PID       int       `json:"pid"`
	LastError string    `json:"last_error,omitempty"`
	Manifest  *Manifest `json:"manifest,omitempty"`
}

// Manifest is what a plugin says about itself (sdk.Manifest).
type Manifest struct {
	DisplayName      string            `json:"display_name,omitempty"`
	ProtocolVersion  int               `json:"protocol_version"`
	EventTypes       []string          `json:"event_types"`
	CredentialFields []CredentialField `json:"credential_fields"`
	Capabilities     []string          `json:"capabilities"`
	ContentTypes     []string          `json:"content_types"` // webhook media types it parses (none listed: application/json)
	PhoneFields      []string          `json:"phone_fields"`  // tried when an agent sets none
}

// CredentialField is one credential a plugin needs.
type CredentialField struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Secret      bool   `json:"secret"`
	Required    bool   `json:"required"`
}

// Plugins reports plugin processes.
type Plugins interface {
	Status() []PluginStatus
}

// CredentialChecker makes a cheap authenticated call to an integration's
// CRM with its configured credentials.
type CredentialChecker interface {
	CheckCredentials(ctx context.Context, integration string) error
}

// RulesTester dry-runs an agent's rules on a record: no call is placed.
// A request with a RecordID reads the record through the integration's
// plugin first; an error the plugin classed (sdk.Error) is answered by its
// class, as field listings are.
type RulesTester interface {
	TestRules(ctx context.Context, req RulesTest) (RulesReport, error)
}

// RulesTest is the body of POST /api/v1/rules/test: a record given as
// JSON (record) or the id of one to read from the CRM (record_id).
type RulesTest struct {
	AgentID string          `json:"agent_id"`
	Record  json.RawMessage `json:"record,omitempty"` // {"object_id":…, "fields":{…}} or a plain field map
	// RecordID is a record to read through the plugin, with the fields
	// the pipeline would ask for, instead of Record.
	RecordID string `json:"record_id,omitempty"`
	// Integration is the integration RecordID is read from; empty: the
	// agent's only one.
	Integration string          `json:"integration,omitempty"`
	Event       json.RawMessage `json:"event,omitempty"` // optional; defaults to a created event
}

// Options configure New.
type Options struct {
	Config      func() *config.Config // the current config (it may be reloaded)
	Calls       Calls
	Canceler    Canceler
	DND         DND
	Plugins     Plugins           // nil: no plugins listed
	Manifests   Manifests         // nil: agents without phone_fields show none
	Credentials CredentialChecker // nil: no credential checks
	Fields      FieldLister       // nil: field listings answer 503
	// FieldWarnings are the latest field check's warnings (nil: agents
	// show none).
	FieldWarnings FieldWarnings
	Refusals      Refusals // nil: no refusals are listed
	// TestWebhooks sends the dashboard's test webhooks (nil: 500 saying
	// they are not wired).
	TestWebhooks TestWebhooker
	Rules        RulesTester   // nil: rules test answers 501
	Backup       Backuper      // nil: /api/v1/backup answers 501 (a PostgreSQL store)
	Outbox       Outbox        // nil: no /api/v1/outbox routes
	Eraser       Eraser        // nil: no /api/v1/contacts/erase route
	Stats        Stats         // nil: no /api/v1/overview route
	Pending      PendingEvents // nil: the overview counts no pending events
	// Auditor computes GET /api/v1/audit (nil: no route);
	// Reconciliations adds the last reconciliation passes to it.
	Auditor         Auditor
	Reconciliations Reconciliations
	// OverviewTTL is how long the overview's call statistics are reused
	// (default 10s).
	OverviewTTL time.Duration
	Logger      hclog.Logger
	Now         func() time.Time
	// CredentialTTL is how long a credential check result is reused
	// (default 5m): checks cost a CRM API call each.
	CredentialTTL time.Duration
}

// API holds the admin handlers.
type API struct {
	opts     Options
	creds    *credentialCache
	overview overviewCache
}

// New checks opts and returns the API.
func New(opts Options) (*API, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("api: Options.Config is required")
	case opts.Calls == nil:
		return nil, errors.New("api: Options.Calls is required")
	case opts.Canceler == nil:
		return nil, errors.New("api: Options.Canceler is required")
	case opts.DND == nil:
		return nil, errors.New("api: Options.DND is required")
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OverviewTTL == 0 {
		opts.OverviewTTL = 10 * time.Second
	}
	if opts.CredentialTTL == 0 {
		opts.CredentialTTL = 5 * time.Minute
	}
	a := &API{opts: opts}
	a.creds = newCredentialCache(opts.Credentials, opts.CredentialTTL, opts.Now)
	return a, nil
}

// Route is one admin endpoint. Path uses gorilla/mux syntax ({id}).
type Route struct {
	Method  string
	Path    string
	Handler http.Handler
}

// Routes lists the endpoints this package serves.
func (a *API) Routes() []Route {
	routes := []Route{
		{http.MethodGet, "/api/v1/calls", http.HandlerFunc(a.listCalls)},
		{http.MethodGet, "/api/v1/calls/{id}", http.HandlerFunc(a.showCall)},
		{http.MethodPost, "/api/v1/calls/{id}/cancel", http.HandlerFunc(a.cancelCall)},
		{http.MethodGet, "/api/v1/dnd", http.HandlerFunc(a.listDND)},
		{http.MethodPost, "/api/v1/dnd", http.HandlerFunc(a.addDND)},
		{http.MethodDelete, "/api/v1/dnd", http.HandlerFunc(a.removeDND)},
		{http.MethodGet, "/api/v1/agents", http.HandlerFunc(a.listAgents)},
		{http.MethodGet, "/api/v1/plugins", http.HandlerFunc(a.listPlugins)},
		{http.MethodGet, "/api/v1/integrations/{name}/fields", http.HandlerFunc(a.listFields)},
		{http.MethodPost, "/api/v1/integrations/{name}/check", http.HandlerFunc(a.checkCredentials)},
		{http.MethodGet, "/api/v1/refusals", http.HandlerFunc(a.listRefusals)},
		{http.MethodPost, "/api/v1/agents/{id}/test-webhook", http.HandlerFunc(a.testWebhook)},
		{http.MethodPost, "/api/v1/rules/test", http.HandlerFunc(a.testRules)},
		{http.MethodGet, "/api/v1/backup", http.HandlerFunc(a.backup)},
	}
	if a.opts.Stats != nil {
		routes = append(routes, Route{http.MethodGet, "/api/v1/overview", http.HandlerFunc(a.showOverview)})
	}
	if a.opts.Auditor != nil {
		routes = append(routes, Route{http.MethodGet, "/api/v1/audit", http.HandlerFunc(a.showAudit)})
	}
	if a.opts.Eraser != nil {
		routes = append(routes, Route{http.MethodPost, "/api/v1/contacts/erase", http.HandlerFunc(a.eraseContact)})
	}
	if a.opts.Outbox != nil {
		routes = append(routes,
			Route{http.MethodGet, "/api/v1/outbox", http.HandlerFunc(a.listOutbox)},
			Route{http.MethodPost, "/api/v1/outbox/{id}/retry", http.HandlerFunc(a.retryOutbox)})
	}
	return routes
}

// Handler is a router over Routes alone, for tests and for servers that
// mount the API under one prefix.
func (a *API) Handler() http.Handler {
	r := mux.NewRouter()
	for _, rt := range a.Routes() {
		r.Handle(rt.Path, rt.Handler).Methods(rt.Method)
	}
	return r
}

// pathVar reads a path variable whichever router matched the request:
// gorilla/mux, net/http's patterns, or neither (the last path segment
// before a known suffix).
func pathVar(r *http.Request, name string) string {
	if v := mux.Vars(r)[name]; v != "" {
		return v
	}
	if v := r.PathValue(name); v != "" {
		return v
	}
	for _, p := range [][2]string{{"/api/v1/calls/", "/cancel"}, {"/api/v1/outbox/", "/retry"}} {
		rest := strings.TrimPrefix(r.URL.Path, p[0])
		rest = strings.TrimSuffix(rest, p[1])
		if rest != r.URL.Path && rest != "" && !strings.Contains(rest, "/") {
			return rest
		}
	}
	return ""
}

// badRequest is a 400 naming the field at fault.
type badRequest struct {
	field string
	msg   string
}

func (e *badRequest) Error() string { return e.field + ": " + e.msg }

func fieldError(field, format string, args ...any) error {
	return &badRequest{field: field, msg: fmt.Sprintf(format, args...)}
}
