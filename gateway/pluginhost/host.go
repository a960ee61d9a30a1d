// Package pluginhost runs callgate's CRM plugins as child processes over
// hashicorp/go-plugin and gRPC, one process per plugin, and supervises them.
//
// Built-in plugins are the callgate binary itself re-executed as
// `callgate plugin NAME`; external plugins are binaries named in `plugin`
// config blocks and refused unless their sha256 matches. Plugins get AutoMTLS
// and a minimal environment (never the gateway's secrets), log into the
// gateway's log under their name, and are restarted with capped exponential
// backoff when they crash or hang. No plugin outlives the gateway: on Linux
// the kernel kills them when the gateway dies, even by SIGKILL, and a plugin
// built with sdk.Serve also exits when it is re-parented.
//
// Host.CRM hands out clients that survive restarts: while a plugin is down
// their calls fail fast with sdk.Transient errors, so callers retry.
package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// Sources of a plugin.
const (
	SourceBuiltin  = "builtin"
	SourceExternal = "external"
)

// States of a plugin.
const (
	StateRunning    = "running"    // started, described, answering health checks
	StateRestarting = "restarting" // down, waiting for its next start attempt
	StateFailed     = "failed"     // the last start attempt failed; retried with backoff
)

// Config configures a Host. Zero durations take the defaults shown.
type Config struct {
	// Executable is the callgate binary that serves built-in plugins as
	// `Executable plugin NAME`. Default: os.Executable().
	Executable string
	// Builtins are the names of the built-in plugins to run.
	Builtins []string
	// External are the configured external plugin binaries.
	External []*config.Plugin
	// Env is extra KEY=VALUE pairs for every plugin's environment. Plugins
	// get only PATH, TZ, SSL_CERT_FILE, SSL_CERT_DIR, GOGC, GOMEMLIMIT (when set),
	// GOMAXPROCS=1 and these (which win over the defaults): never the
	// gateway's whole environment.
	Env []string
	// Logger receives the host's and the plugins' log lines. Default: null.
	Logger hclog.Logger
	// Registerer registers the per-plugin metrics. Nil: not registered.
	Registerer prometheus.Registerer

	StartTimeout   time.Duration // handshake + Describe at start (10s)
	HealthInterval time.Duration // how often a running plugin is pinged (10s)
	HealthTimeout  time.Duration // a ping slower than this means hung (5s)
	ExitPoll       time.Duration // how often a process exit is looked for (250ms)
	BackoffInitial time.Duration // first restart delay (250ms)
	BackoffMax     time.Duration // restart delay cap (30s)
	// StableAfter resets the backoff once a plugin has run this long (1m).
	StableAfter time.Duration
}

func (c *Config) defaults() error {
	if c.Executable == "" && len(c.Builtins) > 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("pluginhost: find the callgate binary to serve built-in plugins: %w", err)
		}
		c.Executable = exe
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.StartTimeout, 10*time.Second)
	def(&c.HealthInterval, 10*time.Second)
	def(&c.HealthTimeout, 5*time.Second)
	def(&c.ExitPoll, 250*time.Millisecond)
	def(&c.BackoffInitial, 250*time.Millisecond)
	def(&c.BackoffMax, 30*time.Second)
	def(&c.StableAfter, time.Minute)
	return nil
}

// Status is a plugin's state, for /api/v1/plugins, the CLI and /readyz.
type Status struct {
	Name        string
	Version     string
	DisplayName string
	Source      string // builtin | external
	State       string // running | restarting | failed
	Restarts    int
	PID         int // 0 while down
	Manifest    sdk.Manifest
	LastError   string
}

// Host runs and supervises the plugins.
type Host struct {
	cfg     Config
	metrics *metrics
	procs   map[string]*process
	names   []string

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New checks cfg and builds a Host; Start starts the plugins.
func New(cfg Config) (*Host, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	h := &Host{cfg: cfg, metrics: m, procs: map[string]*process{}}
	add := func(p *process) error {
		if p.name == "" {
			return fmt.Errorf("pluginhost: a plugin has no name")
		}
		if _, dup := h.procs[p.name]; dup {
			return fmt.Errorf("pluginhost: plugin %q is configured twice (built-in and plugin block?); rename one", p.name)
		}
		h.procs[p.name] = p
		h.names = append(h.names, p.name)
		return nil
	}
	for _, name := range cfg.Builtins {
		if err := add(newProcess(h, name, SourceBuiltin, cfg.Executable, []string{"plugin", name}, "")); err != nil {
			return nil, err
		}
	}
	for _, pc := range cfg.External {
		if pc == nil {
			continue
		}
		if pc.Path == "" || pc.SHA256 == "" {
			return nil, fmt.Errorf("pluginhost: plugin %q needs both path and sha256", pc.Name)
		}
		if err := add(newProcess(h, pc.Name, SourceExternal, pc.Path, nil, pc.SHA256)); err != nil {
			return nil, err
		}
	}
	sort.Strings(h.names)
	return h, nil
}

// Start starts every plugin, describes it and checks its manifest, then
// supervises them until Close. ctx bounds the start only. If any plugin
// cannot start (bad checksum, wrong name, unsupported protocol, crash), the
// ones started are stopped and the error names each failure.
func (h *Host) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.started || h.closed {
		h.mu.Unlock()
		return errors.New("pluginhost: Start called twice or after Close")
	}
	h.started = true
	life, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.mu.Unlock()

	errs := make([]error, len(h.names))
	var wg sync.WaitGroup
	for i, name := range h.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.procs[name].start(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = h.Close()
		return err
	}
	for _, name := range h.names {
		p := h.procs[name]
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			p.supervise(life)
		}()
	}
	return nil
}

// Close stops supervision and every plugin process. It is safe to call
// more than once.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	cancel := h.cancel
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	h.wg.Wait()
	var wg sync.WaitGroup
	for _, p := range h.procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop("gateway shutting down")
		}()
	}
	wg.Wait()
	return nil
}

// Names returns the plugin names, sorted.
func (h *Host) Names() []string {
	return append([]string(nil), h.names...)
}

// CRM returns a client for the named plugin. It stays valid across plugin
// restarts; while the plugin is down its calls return sdk.Transient errors.
func (h *Host) CRM(name string) (sdk.CRM, bool) {
	p, ok := h.procs[name]
	if !ok {
		return nil, false
	}
	return p.client, true
}

// Manifest returns the named plugin's manifest as it last described
// itself (kept while it restarts); false when there is no such plugin or
// it has never started.
func (h *Host) Manifest(name string) (sdk.Manifest, bool) {
	p, ok := h.procs[name]
	if !ok {
		return sdk.Manifest{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.manifest, p.manifest.Name != ""
}

// Status returns every plugin's status, sorted by name.
func (h *Host) Status() []Status {
	out := make([]Status, 0, len(h.names))
	for _, name := range h.names {
		out = append(out, h.procs[name].status())
	}
	return out
}

// Ready returns nil when every plugin is running, else an error naming the
// plugins that are down and why.
func (h *Host) Ready() error {
	var down []string
	for _, s := range h.Status() {
		if s.State != StateRunning {
			d := s.Name + " (" + s.State
			if s.LastError != "" {
				d += ": " + s.LastError
			}
			down = append(down, d+")")
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("plugins down: %s", strings.Join(down, "; "))
	}
	return nil
}
