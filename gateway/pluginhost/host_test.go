package pluginhost

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// newHost starts a Host over the test plugin with quick supervision.
func newHost(t *testing.T, cfg Config) (*Host, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Executable == "" {
		cfg.Executable = testPlugin
	}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: "gateway", Level: hclog.Debug, Output: logs})
	if cfg.ExitPoll == 0 {
		cfg.ExitPoll = 20 * time.Millisecond
	}
	if cfg.BackoffInitial == 0 {
		cfg.BackoffInitial = 20 * time.Millisecond
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatalf("start: %v\nlogs:\n%s", err, logs)
	}
	return h, logs
}

func status(t *testing.T, h *Host, name string) Status {
	t.Helper()
	for _, s := range h.Status() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no status for %q", name)
	return Status{}
}

func webhook(t *testing.T, h *Host, name, body string) (sdk.WebhookResult, error) {
	t.Helper()
	crm, ok := h.CRM(name)
	if !ok {
		t.Fatalf("no plugin %q", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return crm.HandleWebhook(ctx, sdk.WebhookRequest{Body: []byte(body), ReceivedAt: time.Now()})
}

func TestStartDescribeAndCall(t *testing.T) {
	path, sum := external(t, "gamma")
	reg := prometheus.NewRegistry()
	h, logs := newHost(t, Config{
		Builtins:   []string{"beta", "alpha"},
		External:   []*config.Plugin{{Name: "gamma", Path: path, SHA256: strings.ToUpper(sum)}},
		Registerer: reg,
	})
	if got := strings.Join(h.Names(), ","); got != "alpha,beta,gamma" {
		t.Fatalf("names: %s", got)
	}
	if err := h.Ready(); err != nil {
		t.Fatalf("ready: %v", err)
	}
	for _, tc := range []struct{ name, source string }{{"alpha", SourceBuiltin}, {"beta", SourceBuiltin}, {"gamma", SourceExternal}} {
		t.Run(tc.name, func(t *testing.T) {
			s := status(t, h, tc.name)
			if s.State != StateRunning || s.Source != tc.source || s.PID <= 0 || !alive(s.PID) ||
				s.Version != "0.0.1" || s.DisplayName != "Test plugin" || s.Manifest.Name != tc.name || s.Restarts != 0 {
				t.Fatalf("status: %+v", s)
			}
			res, err := webhook(t, h, tc.name, "3")
			if err != nil || len(res.Events) != 3 || res.Events[2].ObjectID != "2" {
				t.Fatalf("webhook: %+v, %v", res, err)
			}
			crm, _ := h.CRM(tc.name)
			fr, err := crm.FetchRecords(context.Background(), sdk.FetchRequest{IDs: []string{"1", "2"}})
			if err != nil || len(fr.Records) != 2 || fr.Records[1].Fields["firstname"].String != "Ada" {
				t.Fatalf("fetch: %+v, %v", fr, err)
			}
		})
	}
	if _, ok := h.CRM("nope"); ok {
		t.Fatal("CRM of an unknown plugin")
	}
	if m, ok := h.Manifest("gamma"); !ok || m.Name != "gamma" || m.EventTypes[0] != "test.created" {
		t.Fatalf("manifest of gamma: %+v, %v", m, ok)
	}
	if _, ok := h.Manifest("nope"); ok {
		t.Fatal("manifest of an unknown plugin")
	}
	if _, err := webhook(t, h, "alpha", "not a number"); sdk.ClassOf(err) != sdk.ClassBadRequest {
		t.Fatalf("want bad_request, got %v", err)
	}
	if n := counter(t, h.metrics.errors.WithLabelValues("alpha", "HandleWebhook", "bad_request")); n != 1 {
		t.Fatalf("errors metric: %v", n)
	}
	if !gathered(t, reg, "callgate_plugin_rpc_duration_seconds") {
		t.Fatal("no latency series")
	}
	pids := []int{status(t, h, "alpha").PID, status(t, h, "gamma").PID}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		waitFor(t, 5*time.Second, "plugin exit after Close", func() bool { return !alive(pid) })
	}
	if !strings.Contains(logs.String(), "plugin.alpha: plugin started") {
		t.Fatalf("plugin lifecycle not logged under its name:\n%s", logs)
	}
}

func TestPluginEnvironmentIsMinimal(t *testing.T) {
	t.Setenv("CALLGATE_TEST_SECRET", "do-not-pass")
	h, _ := newHost(t, Config{Builtins: []string{"alpha"}, Env: []string{"EXTRA=1", "GOMAXPROCS=2"}})
	res, err := webhook(t, h, "alpha", "env")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range res.Events {
		keys = append(keys, strings.SplitN(e.Key, "=", 2)[0])
	}
	got := strings.Join(keys, ",")
	if strings.Contains(got, "CALLGATE_TEST_SECRET") || !strings.Contains(got, "EXTRA") || !strings.Contains(got, sdk.MagicCookieKey) {
		t.Fatalf("plugin environment: %s", got)
	}
	var procs []string
	for _, e := range res.Events {
		if strings.HasPrefix(e.Key, "GOMAXPROCS=") {
			procs = append(procs, e.Key)
		}
	}
	if strings.Join(procs, ",") != "GOMAXPROCS=2" {
		t.Fatalf("Config.Env should override the GOMAXPROCS=1 default: %v", procs)
	}
}

func TestPanicAndStdoutDoNotKillPlugin(t *testing.T) {
	h, logs := newHost(t, Config{Builtins: []string{"alpha"}})
	pid := status(t, h, "alpha").PID
	if _, err := webhook(t, h, "alpha", "panic"); sdk.ClassOf(err) != sdk.ClassPermanent {
		t.Fatalf("panic: want permanent error, got %v", err)
	}
	if _, err := webhook(t, h, "alpha", "print"); err != nil {
		t.Fatalf("print: %v", err)
	}
	if _, err := webhook(t, h, "alpha", "1"); err != nil {
		t.Fatalf("after panic: %v", err)
	}
	if s := status(t, h, "alpha"); s.PID != pid || s.Restarts != 0 {
		t.Fatalf("plugin was restarted: %+v", s)
	}
	waitFor(t, 5*time.Second, "plugin logs in the gateway log", func() bool {
		l := logs.String()
		return strings.Contains(l, "plugin.alpha: plugin method panicked") && strings.Contains(l, "a stray line on stdout")
	})
}

func TestKilledPluginIsRestarted(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, _ := newHost(t, Config{Builtins: []string{"alpha"}, Registerer: reg})
	pid := status(t, h, "alpha").PID

	inflight := make(chan error, 1)
	go func() {
		_, err := webhook(t, h, "alpha", "sleep")
		inflight <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the call reach the plugin
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var e *sdk.Error
	if err := <-inflight; !errors.As(err, &e) || e.Class != sdk.ClassTransient {
		t.Fatalf("in-flight call: want *sdk.Error transient, got %T %v", err, err)
	}
	waitFor(t, 10*time.Second, "restart", func() bool {
		s := status(t, h, "alpha")
		return s.State == StateRunning && s.Restarts == 1 && s.PID != pid
	})
	if res, err := webhook(t, h, "alpha", "1"); err != nil || len(res.Events) != 1 {
		t.Fatalf("call after restart: %+v %v", res, err)
	}
	if n := counter(t, h.metrics.restarts.WithLabelValues("alpha")); n != 1 {
		t.Fatalf("restarts metric: %v", n)
	}
	// A plugin that exits by itself is restarted the same way.
	if _, err := webhook(t, h, "alpha", "exit"); sdk.ClassOf(err) != sdk.ClassTransient {
		t.Fatalf("exit: %v", err)
	}
	waitFor(t, 10*time.Second, "second restart", func() bool {
		s := status(t, h, "alpha")
		return s.State == StateRunning && s.Restarts == 2
	})
}

func TestHungPluginIsRestarted(t *testing.T) {
	h, _ := newHost(t, Config{Builtins: []string{"alpha"}, HealthInterval: 50 * time.Millisecond, HealthTimeout: 300 * time.Millisecond})
	pid := status(t, h, "alpha").PID
	if _, err := webhook(t, h, "alpha", "hang"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "restart of the hung plugin", func() bool {
		s := status(t, h, "alpha")
		return s.State == StateRunning && s.Restarts >= 1
	})
	if alive(pid) {
		t.Fatal("hung process still alive")
	}
}

func TestReadyReportsDownPlugin(t *testing.T) {
	h, _ := newHost(t, Config{Builtins: []string{"alpha", "beta"}, BackoffInitial: time.Hour})
	if err := syscall.Kill(status(t, h, "beta").PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "beta down", func() bool { return status(t, h, "beta").State == StateRestarting })
	err := h.Ready()
	if err == nil || !strings.Contains(err.Error(), "beta (restarting: process exited)") || strings.Contains(err.Error(), "alpha") {
		t.Fatalf("ready: %v", err)
	}
	_, err = webhook(t, h, "beta", "1")
	if sdk.ClassOf(err) != sdk.ClassTransient || !strings.Contains(err.Error(), "plugin beta is restarting") {
		t.Fatalf("call to a down plugin: %v", err)
	}
}

func TestStartRefuses(t *testing.T) {
	path, sum := external(t, "gamma")
	tampered, tamperedSum := external(t, "delta")
	f, err := os.OpenFile(tampered, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("tampered"))
	_ = f.Close()
	cases := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"tampered external", Config{External: []*config.Plugin{{Name: "delta", Path: tampered, SHA256: tamperedSum}}},
			[]string{"refusing to start " + tampered, "plugin block says " + tamperedSum, "its sha256 is "}},
		{"wrong checksum", Config{External: []*config.Plugin{{Name: "gamma", Path: path, SHA256: strings.Repeat("0", 64)}}},
			[]string{"refusing to start", sum, strings.Repeat("0", 64)}},
		{"missing binary", Config{External: []*config.Plugin{{Name: "x", Path: path + ".nope", SHA256: sum}}},
			[]string{"no such file"}},
		{"name mismatch", Config{External: []*config.Plugin{{Name: "other", Path: path, SHA256: sum}}},
			[]string{`says its name is "gamma"`}},
		{"wrong name builtin", Config{Builtins: []string{"wrongname"}}, []string{`"somethingelse"`}},
		{"protocol", Config{Builtins: []string{"proto2"}}, []string{"speaks protocol 2"}},
		{"crash at start", Config{Builtins: []string{"crashatstart"}}, []string{"plugin crashatstart: start"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Executable = testPlugin
			tc.cfg.StartTimeout = 5 * time.Second
			h, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			err = h.Start(context.Background())
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"duplicate":   {Executable: testPlugin, Builtins: []string{"a"}, External: []*config.Plugin{{Name: "a", Path: "/x", SHA256: "00"}}},
		"no checksum": {External: []*config.Plugin{{Name: "a", Path: "/x"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

const (
	helperEnv     = "PLUGINHOST_TEST_HELPER_PLUGIN"
	helperModeEnv = "PLUGINHOST_TEST_HELPER_MODE"
)

// runHelperHost is the test binary re-executed as a gateway: it starts a
// Host (or, in mode "bare", a plain go-plugin client without the kernel's
// parent-death signal, to test sdk.Serve's own watch), prints the plugin's
// pid and waits to be killed.
func runHelperHost() {
	if os.Getenv(helperModeEnv) == "bare" {
		pc := plugin.NewClient(&plugin.ClientConfig{
			HandshakeConfig: sdk.Handshake(), VersionedPlugins: sdk.VersionedPlugins(nil),
			Cmd:              exec.Command(os.Getenv(helperEnv), "plugin", "orphan"),
			AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC}, AutoMTLS: true,
		})
		if _, err := pc.Client(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(pc.ReattachConfig().Pid)
		select {}
	}
	h, err := New(Config{Executable: os.Getenv(helperEnv), Builtins: []string{"orphan"}})
	if err == nil {
		err = h.Start(context.Background())
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(h.Status()[0].PID)
	select {}
}

func TestNoOrphanAfterGatewaySIGKILL(t *testing.T) {
	for _, mode := range []string{"host", "bare"} {
		t.Run(mode, func(t *testing.T) { testNoOrphan(t, mode) })
	}
}

func testNoOrphan(t *testing.T, mode string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+testPlugin, helperModeEnv+"="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("helper: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || !alive(pid) {
		_ = cmd.Process.Kill()
		t.Fatalf("helper said %q", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitFor(t, 5*time.Second, fmt.Sprintf("plugin %d to die with its gateway", pid), func() bool { return !alive(pid) })
}

func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func gathered(t *testing.T, reg *prometheus.Registry, name string) bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return true
		}
	}
	return false
}
