package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/server"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/throttle"
)

// DefaultConfigFile is what `serve` reads when --config is not given.
const DefaultConfigFile = "callgate.hcl"

func newServeCmd(o *rootOptions) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway",
		Long: "Runs the gateway with the config in --config (default ./" + DefaultConfigFile + " when it\n" +
			"exists, else built-in defaults). SIGHUP reloads the same file; a file with\n" +
			"problems, or one that would remove every agent, API key or admin token, is\n" +
			"refused and the running config stays. SIGTERM or SIGINT stops\n" +
			"accepting requests, lets those in flight finish, and closes the store.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, file, err := loadServeConfig(path, cmd.Flags().Changed("config"))
			if err != nil {
				printConfigError(o, err)
				return exitError{code: 1}
			}
			log := newLogger(o.Stderr, cfg.Server.LogFormat, cfg.Server.LogLevel)
			log.Debug("garbage collector", "settings", applyGCDefaults()) // gc.go; GOGC and GOMEMLIMIT win
			if file == "" {
				log.Warn("no config file: running on built-in defaults (no API keys, no agents); pass --config FILE")
			}
			signals := make(chan os.Signal, 1)
			signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
			defer signal.Stop(signals)

			a, err := newApp(appConfig{Config: cfg, Path: file, Logger: log})
			if err != nil {
				return err
			}
			return a.run(cmd.Context(), signals)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", DefaultConfigFile, "config file (HCL)")
	return cmd
}

// loadServeConfig loads the named file; without --config a missing
// ./callgate.hcl means built-in defaults (file "").
func loadServeConfig(path string, explicit bool) (*config.Config, string, error) {
	if !explicit {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return config.Default(), "", nil
		}
	}
	cfg, err := config.Load(path)
	return cfg, path, err
}

func printConfigError(o *rootOptions, err error) {
	cerr, ok := config.AsError(err)
	if !ok {
		fmt.Fprintf(o.Stderr, "callgate: %v\n", err)
		return
	}
	for _, p := range cerr.Problems() {
		fmt.Fprintln(o.Stderr, p.String())
	}
	fmt.Fprintf(o.Stderr, "callgate: the config has %d problem(s); not starting\n", len(cerr.Problems()))
}

// appConfig configures newApp.
type appConfig struct {
	Config *config.Config
	Path   string // the file Config came from; "" for built-in defaults
	Logger hclog.Logger
	// Listener, when set, is used instead of listening on server.listen.
	Listener net.Listener
}

// app is one running gateway: the config, the store, the HTTP server and
// every part wired between them. Parts register what they need from the
// app's life: background work (goRun), config reloads (onReload) and
// cleanup at shutdown (onClose).
type app struct {
	log      hclog.Logger
	path     string
	cfg      atomic.Pointer[config.Config]
	registry *prometheus.Registry
	store    store.Store
	http     *server.Server
	listener net.Listener

	workers []worker
	reloads []reloadHook
	closers []closer
	// pending counts the inbox's pending events by agent and integration,
	// for the reload check; nil until the webhook path is wired.
	pending func() (config.Pending, error)
}

type worker struct {
	name string
	run  func(context.Context) error
}

type reloadHook struct {
	name  string
	apply func(*config.Config) error
}

type closer struct {
	name  string
	close func() error
}

// startStep is one part of the gateway coming up.
type startStep struct {
	name  string
	start func(cfg *config.Config) error
}

// newApp brings the gateway up part by part, in data-flow order; if one
// part fails, those already up are closed again.
func newApp(ac appConfig) (*app, error) {
	a := &app{
		log:      ac.Logger,
		path:     ac.Path,
		registry: prometheus.NewRegistry(),
		listener: ac.Listener,
	}
	a.cfg.Store(ac.Config)
	steps := []startStep{
		{"store", a.openStore},
		{"http server", a.newServer},
		{"webhook path", a.wireWebhook},
		{"listener", a.listen},
	}
	for _, s := range steps {
		if err := s.start(ac.Config); err != nil {
			a.closeAll()
			return nil, err
		}
		a.log.Debug("started", "part", s.name)
	}
	return a, nil
}

// goRun runs fn in the background from run() until shutdown; an error
// other than the context's own ends the gateway.
func (a *app) goRun(name string, fn func(context.Context) error) {
	a.workers = append(a.workers, worker{name: name, run: fn})
}

// onReload has apply called with each new config accepted on SIGHUP.
func (a *app) onReload(name string, apply func(*config.Config) error) {
	a.reloads = append(a.reloads, reloadHook{name: name, apply: apply})
}

// onClose has fn called at shutdown, after the HTTP server and the
// background work have stopped; closers run in reverse order of
// registration, so the store (registered first) closes last.
func (a *app) onClose(name string, fn func() error) {
	a.closers = append(a.closers, closer{name: name, close: fn})
}

func (a *app) openStore(cfg *config.Config) error {
	st, err := openStore(context.Background(), cfg, a.log)
	if err != nil {
		return err
	}
	a.store = st
	a.onClose("store", st.Close)
	return nil
}

func (a *app) newServer(cfg *config.Config) error {
	srv, err := server.New(server.Config{
		Logger:           a.log.Named("http"),
		Registry:         a.registry,
		AdminTokenSHA256: cfg.Server.AdminTokenSHA256,
		MaxBodyBytes:     cfg.Server.MaxBodyBytes,

		ReadTimeout:         cfg.Server.ReadTimeout,
		IdleTimeout:         cfg.Server.IdleTimeout,
		MaxConnections:      cfg.Server.MaxConnections,
		MaxConnectionsPerIP: cfg.Server.MaxConnectionsPerIP,
		TrustedProxies:      cfg.Server.TrustedProxies,
		AdminThrottle: throttle.New(throttle.Config{Burst: cfg.Server.AuthFailBurst, Rate: cfg.Server.AuthFailRate,
			TrustedProxies: cfg.Server.TrustedProxies, OnThrottled: func(addr string) {
				a.log.Warn("too many wrong admin tokens: the address gets 429 until its budget refills (server.auth_fail_burst, auth_fail_rate)", "remote", addr)
			}}),
	})
	if err != nil {
		return err
	}
	a.http = srv
	// Ready only while the store can commit: a webhook is acknowledged
	// after its commit, so a store that cannot write cannot take traffic.
	srv.AddReadyCheck("store", func() error { return a.store.Ping(context.Background()) })
	if len(cfg.Server.AdminTokenSHA256) == 0 {
		a.log.Warn("server.admin_token_sha256 is empty: the admin API (/api/v1) refuses every request")
	}
	return nil
}

func (a *app) listen(cfg *config.Config) error {
	if a.listener != nil {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (server.listen): %w", cfg.Server.Listen, err)
	}
	a.listener = ln
	return nil
}

// run serves until ctx ends, a stop signal arrives or a part fails; SIGHUP
// reloads the config. Shutdown order: stop accepting and drain requests,
// stop background work, close parts (the store last).
func (a *app) run(ctx context.Context, signals <-chan os.Signal) error {
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	failed := make(chan error, len(a.workers))
	var wg sync.WaitGroup
	for _, w := range a.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.run(workCtx); err != nil && !errors.Is(err, context.Canceled) {
				failed <- fmt.Errorf("%s: %w", w.name, err)
			}
		}()
	}

	serveCtx, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	served := make(chan error, 1)
	go func() { served <- a.http.Serve(serveCtx, a.listener) }()

	var runErr error
	serverDone := false
wait:
	for {
		select {
		case <-ctx.Done():
			a.log.Info("shutting down", "reason", ctx.Err())
			break wait
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				a.reload()
				continue
			}
			a.log.Info("shutting down", "signal", sig.String())
			break wait
		case err := <-served:
			serverDone, runErr = true, err
			a.log.Error("http server stopped", "error", err)
			break wait
		case err := <-failed:
			runErr = err
			a.log.Error("a part of the gateway failed; shutting down", "error", err)
			break wait
		}
	}

	stopServing()
	if !serverDone {
		if err := <-served; err != nil {
			a.log.Error("http server shutdown", "error", err)
			runErr = errors.Join(runErr, err)
		}
	}
	stopWork()
	wg.Wait()
	if err := a.closeAll(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if runErr == nil {
		a.log.Info("stopped cleanly")
	}
	return runErr
}

func (a *app) closeAll() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		c := a.closers[i]
		if err := c.close(); err != nil {
			a.log.Error("close failed", "part", c.name, "error", err)
			errs = append(errs, fmt.Errorf("close %s: %w", c.name, err))
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// reload re-reads the config file. A file with problems is refused (each
// problem logged) and the running config stays.
func (a *app) reload() {
	if a.path == "" {
		a.log.Warn("SIGHUP ignored: running on built-in defaults, there is no config file to reload")
		return
	}
	next, err := config.Load(a.path)
	if err != nil {
		if cerr, ok := config.AsError(err); ok {
			for _, p := range cerr.Problems() {
				a.log.Error("config problem", "problem", p.String())
			}
		} else {
			a.log.Error("config reload", "error", err)
		}
		a.log.Error("config reload refused: the running config stays", "file", a.path)
		return
	}
	prev := a.cfg.Load()
	var pending config.Pending
	if a.pending != nil {
		if pending, err = a.pending(); err != nil {
			a.log.Error("config reload: cannot count pending events; integrations they need are not checked", "error", err)
		}
	}
	if err := config.CheckReload(prev, next, pending); err != nil {
		cerr, _ := config.AsError(err)
		for _, p := range cerr.Problems() {
			a.log.Error("config reload refused", "reason", p.String())
		}
		a.log.Error("config reload refused: the running config stays", "file", a.path)
		return
	}
	for _, c := range restartOnlyChanges(prev, next) {
		a.log.Warn("config change needs a restart to take effect", "key", c)
	}
	if err := a.http.SetAdminTokens(next.Server.AdminTokenSHA256); err != nil {
		a.log.Error("config reload refused: the running config stays", "error", err)
		return
	}
	a.http.SetMaxBodyBytes(next.Server.MaxBodyBytes)
	if lvl := hclog.LevelFromString(next.Server.LogLevel); lvl != hclog.NoLevel {
		a.log.SetLevel(lvl)
	}
	// Parts that read the running config see next before the hooks run,
	// so work a hook wakes (events of an agent that came back) finds it.
	a.cfg.Store(next)
	for _, h := range a.reloads {
		if err := h.apply(next); err != nil {
			a.log.Error("config reload: a part kept its old settings", "part", h.name, "error", err)
		}
	}
	a.log.Info("config reloaded", "file", a.path, "agents", len(next.Agents), "api_keys", len(next.APIKeys))
}

// restartOnlyChanges names the settings a reload cannot apply.
func restartOnlyChanges(prev, next *config.Config) []string {
	var out []string
	if prev.Server.Listen != next.Server.Listen {
		out = append(out, "server.listen")
	}
	if prev.Server.DataDir != next.Server.DataDir {
		out = append(out, "server.data_dir")
	}
	if prev.Server.LogFormat != next.Server.LogFormat {
		out = append(out, "server.log_format")
	}
	if !reflect.DeepEqual(prev.Server.Limits, next.Server.Limits) {
		out = append(out, "server limits (read_timeout, idle_timeout, max_connections*, auth_fail_*, trusted_proxies)")
	}
	return out
}
