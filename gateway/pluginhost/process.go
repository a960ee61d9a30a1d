package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/callgate/callgate/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// process is one plugin: its current child process and its supervision.
type process struct {
	h      *Host
	name   string
	source string
	path   string
	args   []string
	sha256 string // external plugins only, lower-case hex
	logger hclog.Logger
	client *client
	kick   chan struct{} // a call failed: look at the process now

	mu        sync.Mutex
	pc        *plugin.Client
	crm       sdk.CRM
	manifest  sdk.Manifest
	state     string
	restarts  int
	pid       int
	lastErr   string
	startedAt time.Time
}

func newProcess(h *Host, name, source, path string, args []string, sum string) *process {
	p := &process{
		h: h, name: name, source: source, path: path, args: args,
		sha256: strings.ToLower(strings.TrimSpace(sum)),
		logger: h.cfg.Logger.Named("plugin").Named(name),
		kick:   make(chan struct{}, 1),
		state:  StateRestarting, lastErr: "not started",
	}
	p.client = newClient(p, h.metrics)
	return p
}

func (p *process) status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Status{
		Name: p.name, Version: p.manifest.Version, DisplayName: p.manifest.DisplayName,
		Source: p.source, State: p.state, Restarts: p.restarts, PID: p.pid,
		Manifest: p.manifest, LastError: p.lastErr,
	}
}

// current returns the live CRM, or a transient error saying why there is none.
func (p *process) current() (sdk.CRM, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != StateRunning || p.crm == nil {
		msg := fmt.Sprintf("plugin %s is %s", p.name, p.state)
		if p.lastErr != "" {
			msg += " (" + p.lastErr + ")"
		}
		return nil, &sdk.Error{Class: sdk.ClassTransient, Message: msg + "; retry shortly"}
	}
	return p.crm, nil
}

// nudge asks the supervisor to check the process now.
func (p *process) nudge() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// verifyChecksum refuses a binary whose sha256 differs from the config's.
func (p *process) verifyChecksum() error {
	if p.source != SourceExternal {
		return nil
	}
	f, err := os.Open(p.path)
	if err != nil {
		return fmt.Errorf("plugin %s: open %s: %w (check the plugin block's path)", p.name, p.path, err)
	}
	defer f.Close()
	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		return fmt.Errorf("plugin %s: read %s: %w", p.name, p.path, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != p.sha256 {
		return fmt.Errorf("plugin %s: refusing to start %s: its sha256 is %s but the plugin block says %s; "+
			"if you rebuilt it on purpose, put the new `sha256sum` in the config", p.name, p.path, got, p.sha256)
	}
	return nil
}

// env is the plugin's whole environment: nothing of the gateway's but the
// few variables a well-behaved HTTP client needs.
func (p *process) env() []string {
	var env []string
	// GOGC and GOMEMLIMIT pass through so an operator's GC settings reach
	// the plugins too (they override the built-ins' defaults, cli/gc.go).
	for _, k := range []string{"PATH", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR", "GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	// One P per plugin: plugin work is I/O and small parses, and on a small
	// machine a second P mostly spins against the gateway for a core
	// (docs/performance.md: ~25 % less CPU and latency per call). Config.Env
	// may override it; the last value of a key wins.
	env = append(env, sdk.EnvLogLevel+"="+logLevelName(p.h.cfg.Logger), "GOMAXPROCS=1")
	return append(env, p.h.cfg.Env...)
}

func logLevelName(l hclog.Logger) string {
	switch {
	case l.IsTrace():
		return "trace"
	case l.IsDebug():
		return "debug"
	case l.IsInfo():
		return "info"
	case l.IsWarn():
		return "warn"
	}
	return "error"
}

// start launches the process, describes it and checks the manifest. On
// success the plugin is running; on failure it is failed, with the reason.
func (p *process) start(ctx context.Context) error {
	err := p.launch(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.state, p.lastErr = StateFailed, err.Error()
		p.h.metrics.up.WithLabelValues(p.name).Set(0)
		return err
	}
	p.h.metrics.up.WithLabelValues(p.name).Set(1)
	return nil
}

func (p *process) launch(ctx context.Context) error {
	if err := p.verifyChecksum(); err != nil {
		return err
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = p.env()
	cmd.SysProcAttr = dieWithParent()
	var secure *plugin.SecureConfig
	if p.source == SourceExternal {
		sum, _ := hex.DecodeString(p.sha256)
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	logger := fixedName{p.logger}
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.VersionedPlugins(nil),
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     p.h.cfg.StartTimeout,
		Logger:           logger,
		SyncStdout:       logger.StandardWriter(&hclog.StandardLoggerOptions{ForceLevel: hclog.Info}),
		SyncStderr:       logger.StandardWriter(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
		GRPCDialOptions:  sdk.GRPCDialOptions(),
	})
	fail := func(err error) error {
		pc.Kill()
		return err
	}
	rpc, err := pc.Client()
	if err != nil {
		return fail(fmt.Errorf("plugin %s: start %s: %w", p.name, p.path, err))
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return fail(fmt.Errorf("plugin %s: %w", p.name, err))
	}
	crm, ok := raw.(sdk.CRM)
	if !ok {
		return fail(fmt.Errorf("plugin %s: dispensed %T, not a CRM", p.name, raw))
	}
	dctx, cancel := context.WithTimeout(ctx, p.h.cfg.StartTimeout)
	defer cancel()
	m, err := crm.Describe(dctx)
	if err != nil {
		return fail(fmt.Errorf("plugin %s: describe: %w", p.name, err))
	}
	if m.Name != p.name {
		return fail(fmt.Errorf("plugin %s: %s says its name is %q; name the plugin block %q or use the right binary", p.name, p.path, m.Name, m.Name))
	}
	if m.ProtocolVersion != sdk.ProtocolVersion {
		return fail(fmt.Errorf("plugin %s: speaks protocol %d, this gateway speaks %d; rebuild the plugin with a matching sdk", p.name, m.ProtocolVersion, sdk.ProtocolVersion))
	}
	pid := 0
	if rc := pc.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	p.mu.Lock()
	p.pc, p.crm, p.manifest, p.pid = pc, crm, m, pid
	p.state, p.lastErr, p.startedAt = StateRunning, "", time.Now()
	p.mu.Unlock()
	p.logger.Info("plugin started", "version", m.Version, "pid", pid, "source", p.source)
	return nil
}

// stop kills the process, if any, and marks the plugin down with reason.
func (p *process) stop(reason string) {
	p.mu.Lock()
	pc := p.pc
	p.pc, p.crm, p.pid = nil, nil, 0
	if p.state == StateRunning {
		p.state = StateRestarting
	}
	p.lastErr = reason
	p.mu.Unlock()
	p.h.metrics.up.WithLabelValues(p.name).Set(0)
	if pc != nil {
		pc.Kill()
	}
}

// supervise watches the running plugin and restarts it with capped
// exponential backoff when it exits or stops answering, until ctx ends.
func (p *process) supervise(ctx context.Context) {
	backoff := p.h.cfg.BackoffInitial
	for {
		if reason := p.watch(ctx); reason != "" {
			p.logger.Warn("plugin down, restarting", "reason", reason, "in", backoff)
			p.stop(reason)
			p.h.metrics.restarts.WithLabelValues(p.name).Inc()
			p.mu.Lock()
			p.restarts++
			if !p.startedAt.IsZero() && time.Since(p.startedAt) >= p.h.cfg.StableAfter {
				backoff = p.h.cfg.BackoffInitial
			}
			p.mu.Unlock()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, p.h.cfg.BackoffMax)
			sctx, cancel := context.WithTimeout(ctx, p.h.cfg.StartTimeout)
			err := p.start(sctx)
			cancel()
			if ctx.Err() != nil {
				p.stop("gateway shutting down")
				return
			}
			if err == nil {
				break
			}
			p.logger.Error("plugin restart failed", "error", err, "retry_in", backoff)
		}
	}
}

// watch returns why the running plugin must be restarted, or "" when ctx
// ends.
func (p *process) watch(ctx context.Context) string {
	poll := time.NewTicker(p.h.cfg.ExitPoll)
	defer poll.Stop()
	health := time.NewTicker(p.h.cfg.HealthInterval)
	defer health.Stop()
	for {
		p.mu.Lock()
		pc, crm := p.pc, p.crm
		p.mu.Unlock()
		if pc == nil || pc.Exited() {
			return "process exited"
		}
		select {
		case <-ctx.Done():
			return ""
		case <-poll.C:
			continue
		case <-p.kick:
		case <-health.C:
		}
		hctx, cancel := context.WithTimeout(ctx, p.h.cfg.HealthTimeout)
		_, err := crm.Describe(hctx)
		cancel()
		if ctx.Err() != nil {
			return ""
		}
		if pc.Exited() {
			return "process exited"
		}
		if err != nil && sdk.ClassOf(err) == sdk.ClassTransient {
			return "health check failed: " + err.Error()
		}
	}
}

// fixedName keeps go-plugin's sub-loggers (named after the binary, which
// is "callgate" for every built-in) under the plugin's own name.
type fixedName struct{ hclog.Logger }

func (f fixedName) Named(string) hclog.Logger { return f }
