// Package web is callgate's operator dashboard at /ui/: an overview (the
// last 7 days' calls, queues, health, refusals), call history and
// detail, events with replay, agents with a rules dry run, plugins and
// integrations, and the DND list. Pages are html/template rendered on the
// server with a little vanilla JavaScript, all embedded in the binary (no
// CDN, no build step).
//
// Sign-in exchanges an admin token (checked against the configured sha256
// digests in constant time) for a random session id in an HttpOnly,
// SameSite=Strict cookie; the token never appears in a URL. Every form
// carries the session's CSRF token. Listing is paginated on the server
// with the store's cursors, so the dashboard stays quick with any number
// of calls.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/throttle"
)

// Prefix is where the dashboard is mounted.
const Prefix = "/ui/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Events is the inbox as the dashboard reads it (store.Store implements
// it).
type Events interface {
	GetEvent(ctx context.Context, id string) (store.Event, error)
	ListEvents(ctx context.Context, f store.EventFilter) (events []store.Event, nextCursor string, err error)
	ReplayEvent(ctx context.Context, id string, now time.Time) (store.Event, error)
	ViewEvents(ctx context.Context, evs []store.Event) ([]store.EventView, error)
	ReplayEvents(ctx context.Context, f store.EventFilter, now time.Time, dryRun bool) (store.BulkReplay, error)
}

// Options configure New.
type Options struct {
	Config func() *config.Config // the current config (it may be reloaded)
	API    *api.API              // shared logic: cancel, DND, rules test, plugins
	Calls  api.Calls
	Events Events
	Logger hclog.Logger
	Now    func() time.Time
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL time.Duration
	// PageSize is the number of rows per page (default 50).
	PageSize int
	// SignInThrottle counts refused sign-ins per client address; share
	// the admin API's so both together bound the guessing rate. Default:
	// one built from the config's auth_fail_burst, auth_fail_rate and
	// trusted_proxies.
	SignInThrottle *throttle.Throttle
}

// Dashboard serves the pages.
type Dashboard struct {
	opts     Options
	sessions *sessions
	pages    map[string]*template.Template
	static   http.Handler
}

// New parses the embedded templates and returns the dashboard.
func New(opts Options) (*Dashboard, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("web: Options.Config is required")
	case opts.API == nil:
		return nil, errors.New("web: Options.API is required")
	case opts.Calls == nil:
		return nil, errors.New("web: Options.Calls is required")
	case opts.Events == nil:
		return nil, errors.New("web: Options.Events is required")
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.PageSize == 0 {
		opts.PageSize = 50
	}
	if opts.SignInThrottle == nil {
		l := opts.Config().Server.Limits
		opts.SignInThrottle = throttle.New(throttle.Config{Burst: l.AuthFailBurst, Rate: l.AuthFailRate,
			TrustedProxies: l.TrustedProxies, Now: opts.Now})
	}
	d := &Dashboard{opts: opts, sessions: newSessions(opts.SessionTTL, opts.Now), pages: map[string]*template.Template{}}
	for _, name := range []string{"login", "overview", "calls", "call", "events", "event", "agents", "plugins", "fields", "dnd", "audit"} {
		t, err := template.New("layout.html").Funcs(funcs).Funcs(overviewFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		d.pages[name] = t
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	d.static = http.StripPrefix(Prefix+"static/", filesOnly(sub, http.FileServer(http.FS(sub))))
	return d, nil
}

// Handler serves every path under Prefix.
func (d *Dashboard) Handler() http.Handler {
	r := mux.NewRouter()
	r.Handle(Prefix, d.authed(d.overviewPage)).Methods(http.MethodGet)
	r.HandleFunc(Prefix+"login", d.loginPage).Methods(http.MethodGet)
	r.HandleFunc(Prefix+"login", d.login).Methods(http.MethodPost)
	r.HandleFunc(Prefix+"logout", d.logout).Methods(http.MethodPost)
	r.PathPrefix(Prefix + "static/").Handler(d.static).Methods(http.MethodGet)
	r.Handle(Prefix+"calls", d.authed(d.callsPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"calls/{id}", d.authed(d.callPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"calls/{id}/cancel", d.authed(d.cancelCall)).Methods(http.MethodPost)
	r.Handle(Prefix+"events", d.authed(d.eventsPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"events/replay", d.authed(d.replayEvents)).Methods(http.MethodPost)
	r.Handle(Prefix+"events/{id}", d.authed(d.eventPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"events/{id}/replay", d.authed(d.replayEvent)).Methods(http.MethodPost)
	r.Handle(Prefix+"agents", d.authed(d.agentsPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"agents/test", d.authed(d.testRules)).Methods(http.MethodPost)
	r.Handle(Prefix+"agents/{id}/test-webhook", d.authed(d.sendTestWebhook)).Methods(http.MethodPost)
	r.Handle(Prefix+"plugins", d.authed(d.pluginsPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"integrations/{name}/fields", d.authed(d.fieldsPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"integrations/{name}/check", d.authed(d.checkCredentials)).Methods(http.MethodPost)
	r.Handle(Prefix+"audit", d.authed(d.auditPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"dnd", d.authed(d.dndPage)).Methods(http.MethodGet)
	r.Handle(Prefix+"dnd", d.authed(d.addDND)).Methods(http.MethodPost)
	r.Handle(Prefix+"dnd/remove", d.authed(d.removeDND)).Methods(http.MethodPost)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such page", http.StatusNotFound)
	})
	return securityHeaders(r)
}

// securityHeaders keeps the pages from being framed or sniffed and
// allows scripts and styles from the dashboard itself only.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// page is what every template gets; Data is the page's own.
type page struct {
	Title  string
	Nav    string
	CSRF   string
	Flash  flash
	Error  string
	Signed bool
	// Refresh, when set, reloads the page every Refresh seconds (while
	// calls are in flight).
	Refresh int
	// Start, when set, is the first-time user's empty state: where to
	// point the CRM's webhooks.
	Start *startData
	Data  any
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, sess *session, name string, status int, p page) {
	if sess != nil {
		p.Signed = true
		p.CSRF = sess.csrf
		if p.Flash.Text == "" {
			p.Flash = d.sessions.popFlash(sess)
		}
	}
	if p.Nav == "" {
		p.Nav = name
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := d.pages[name].Execute(w, p); err != nil {
		d.opts.Logger.Error("dashboard: render failed", "page", name, "error", err)
	}
}

// fail renders an error on the page the user was on.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, sess *session, status int, err error) {
	d.opts.Logger.Warn("dashboard: request failed", "path", r.URL.Path, "error", err)
	d.render(w, r, sess, "calls", status, page{Title: "Error", Nav: "none", Error: err.Error(), Data: callsData{}})
}

// back redirects to a page after a form, leaving msg for it; err, when
// set, is the message instead and is shown as a failure.
func (d *Dashboard) back(w http.ResponseWriter, r *http.Request, sess *session, to, msg string, err error) {
	f := flash{Text: msg}
	if err != nil {
		f = flash{Text: err.Error(), Bad: true}
		d.opts.Logger.Warn("dashboard: action failed", "path", r.URL.Path, "error", err)
	}
	d.sessions.setFlash(sess, f)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// filesOnly serves the files of fsys and answers 404 for its directories,
// so the dashboard's assets cannot be listed.
func filesOnly(fsys fs.FS, files http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if info, err := fs.Stat(fsys, name); err != nil || info.IsDir() || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
