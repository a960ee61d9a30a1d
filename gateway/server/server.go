// Package server is callgate's HTTP front door: the router, the middleware
// every request passes through (request id, access log with secrets
// redacted, panic recovery, body limits, metrics), the JSON 404/405
// envelopes, /healthz, /readyz, /metrics, and bearer-token auth for the
// admin API under /api/v1.
//
// Other packages hand it http.Handlers; it knows nothing of their
// internals. Handlers that read a body see an *http.MaxBytesError (check
// with errors.As) once the route's limit is passed, and answer 413. The
// request id is in the request's X-Request-Id header.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/throttle"
)

// AdminPrefix is where HandleAdmin mounts its routes.
const AdminPrefix = "/api/v1"

// Config configures New.
type Config struct {
	Logger hclog.Logger // access log and server errors; default: discard
	// Registry receives the HTTP metrics and the Go and process collectors,
	// and is what /metrics serves. Default: a new registry.
	Registry *prometheus.Registry
	// AdminTokenSHA256 are the lower-case sha256 hex digests of the bearer
	// tokens accepted on /api/v1. Empty: the admin API refuses everyone.
	AdminTokenSHA256 []string
	// MaxBodyBytes is the body limit of every route that does not set its own.
	MaxBodyBytes int64 // default 1 MiB
	// ShutdownTimeout bounds how long Serve waits for in-flight requests
	// after its context ends.
	ShutdownTimeout time.Duration // default 15s
	// ReadTimeout bounds reading one request, headers and body: a client
	// that trickles its body is cut off then.
	ReadTimeout time.Duration // default 30s
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout time.Duration // default 60s
	// MaxConnections caps open connections; past it Accept waits. 0: no cap.
	MaxConnections int
	// MaxConnectionsPerIP caps open connections from one client address
	// (trusted proxies excepted); past it new ones are closed. 0: no cap.
	MaxConnectionsPerIP int
	// TrustedProxies are exempt from MaxConnectionsPerIP (they carry many
	// clients); AdminThrottle reads X-Forwarded-For from them.
	TrustedProxies []netip.Prefix
	// AdminThrottle counts failed admin tokens per client address; a
	// throttled address gets 429 before its token is checked. The
	// dashboard's sign-in shares it. Default: throttle.New's defaults.
	AdminThrottle *throttle.Throttle
}

// Server routes requests to the handlers other packages register.
// Register every route before calling Serve.
type Server struct {
	log      hclog.Logger
	registry *prometheus.Registry
	router   *mux.Router
	handler  http.Handler
	metrics  *httpMetrics
	maxBody  atomic.Int64 // routes without their own limit read it per request
	shutdown time.Duration
	admin    *adminAuth
	conns    connLimits

	readyMu sync.Mutex
	ready   []readyCheck
}

// connLimits are Config's connection settings, applied by Serve.
type connLimits struct {
	read, idle   time.Duration
	total, perIP int
	trusted      []netip.Prefix
}

// RouteOption adjusts one route.
type RouteOption func(*route)

type route struct {
	maxBody int64
	quiet   bool
}

// WithBodyLimit sets the route's body limit in bytes instead of the server's.
func WithBodyLimit(n int64) RouteOption { return func(r *route) { r.maxBody = n } }

// WithQuietLog logs the route's requests at debug level instead of info
// (probes and scrapes that would drown the log).
func WithQuietLog() RouteOption { return func(r *route) { r.quiet = true } }

// New builds a server with /healthz, /readyz and /metrics in place.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 30 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.AdminThrottle == nil {
		cfg.AdminThrottle = throttle.New(throttle.Config{TrustedProxies: cfg.TrustedProxies})
	}
	m, err := newHTTPMetrics(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("server: register metrics: %w", err)
	}
	admin, err := newAdminAuth(cfg.AdminTokenSHA256, cfg.AdminThrottle)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{
		log:      cfg.Logger,
		registry: cfg.Registry,
		router:   mux.NewRouter(),
		metrics:  m,
		shutdown: cfg.ShutdownTimeout,
		admin:    admin,
		conns: connLimits{read: cfg.ReadTimeout, idle: cfg.IdleTimeout,
			total: cfg.MaxConnections, perIP: cfg.MaxConnectionsPerIP, trusted: cfg.TrustedProxies},
	}
	s.maxBody.Store(cfg.MaxBodyBytes)
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteRoute(w, routeNotFound, false)
		reply.Errorf(w, http.StatusNotFound, "no such endpoint: %s %s", reply.Clip(r.Method), reply.Clip(r.URL.Path))
	})
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteRoute(w, routeMethodNotAllowed, false)
		reply.Errorf(w, http.StatusMethodNotAllowed, "method %s is not allowed on %s", reply.Clip(r.Method), reply.Clip(r.URL.Path))
	})
	s.handler = s.recoverPanics(s.withRequestID(s.observe(s.router)))

	s.Handle(http.MethodGet, "/healthz", http.HandlerFunc(s.healthz), WithQuietLog())
	s.Handle(http.MethodGet, "/readyz", http.HandlerFunc(s.readyz), WithQuietLog())
	s.Handle(http.MethodGet, "/metrics", s.metricsHandler(), WithQuietLog())
	return s, nil
}

// AdminThrottle is the throttle of failed admin tokens, for the
// dashboard's sign-in to share.
func (s *Server) AdminThrottle() *throttle.Throttle { return s.admin.throttle }

// Registry is where other packages register their metrics; /metrics serves it.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Handler is the whole server as one http.Handler (middleware included).
func (s *Server) Handler() http.Handler { return s.handler }

// Handle routes method+path to h. path is a gorilla/mux template
// ("/call/status/{dialer}"); the template, not the filled-in path, labels
// the route's metrics and log lines.
func (s *Server) Handle(method, path string, h http.Handler, opts ...RouteOption) {
	s.router.Handle(path, s.wrapRoute(path, h, opts)).Methods(method)
}

// HandleAdmin routes method + AdminPrefix+path to h behind bearer-token auth.
func (s *Server) HandleAdmin(method, path string, h http.Handler, opts ...RouteOption) {
	s.Handle(method, AdminPrefix+path, s.admin.wrap(h), opts...)
}

// HandlePrefix routes every method and path under prefix to h (the
// dashboard's /ui/). The prefix is the route's label.
func (s *Server) HandlePrefix(prefix string, h http.Handler, opts ...RouteOption) {
	s.router.PathPrefix(prefix).Handler(s.wrapRoute(prefix, h, opts))
}

// SetAdminTokens replaces the accepted admin token digests (config reload).
// A malformed digest leaves the old set in place.
func (s *Server) SetAdminTokens(sha256Hex []string) error {
	return s.admin.set(sha256Hex)
}

// SetMaxBodyBytes replaces the body limit of every route that does not set
// its own (config reload); requests from then on see it. n <= 0 is ignored.
func (s *Server) SetMaxBodyBytes(n int64) {
	if n > 0 {
		s.maxBody.Store(n)
	}
}

func (s *Server) wrapRoute(label string, h http.Handler, opts []RouteOption) http.Handler {
	var rt route
	for _, o := range opts {
		o(&rt)
	}
	var fixed http.Handler
	if rt.maxBody > 0 {
		fixed = limitBody(rt.maxBody, h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteRoute(w, label, rt.quiet)
		if fixed != nil {
			fixed.ServeHTTP(w, r)
			return
		}
		// server.max_body_bytes as of this request, so a reload applies
		// here and in ingest alike.
		limitBody(s.maxBody.Load(), h).ServeHTTP(w, r)
	})
}

// Serve answers requests on ln until ctx ends, then stops accepting,
// waits for in-flight requests (up to the shutdown timeout) and returns.
// It returns nil after a graceful shutdown. The connection limits of
// Config apply to ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: min(10*time.Second, s.conns.read),
		ReadTimeout:       s.conns.read,
		IdleTimeout:       s.conns.idle,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	ln = newLimitListener(ln, s.conns.total, s.conns.perIP, s.conns.trusted, s.log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String(), "read_timeout", s.conns.read, "idle_timeout", s.conns.idle,
		"max_connections", s.conns.total, "max_connections_per_ip", s.conns.perIP)
	select {
	case err := <-errc:
		return fmt.Errorf("server: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: no new connections, waiting for requests in flight", "timeout", s.shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), s.shutdown)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("server: serve on %s: %w", ln.Addr(), serveErr)
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("server: requests still in flight after %s were cut off: %w", s.shutdown, err)
	}
	return nil
}
