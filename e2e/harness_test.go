// Package e2e drives the real callgate binary as a user would: a config
// file, HTTP requests, signals. TestMain builds the binary once
// (CALLGATE_E2E_RACE=1 builds it with -race); tests start gateways with
// startGateway and talk to them over 127.0.0.1.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// binary is the callgate binary TestMain built for this run.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "callgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "callgate")
	args := []string{"build", "-o", binary}
	if os.Getenv("CALLGATE_E2E_RACE") != "" {
		// Slower to build and run, but catches races in the real process.
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/callgate/callgate")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building callgate:", err)
		return 1
	}
	return m.Run()
}

// gatewayOptions describe one gateway process.
type gatewayOptions struct {
	// Config is the HCL config, a text/template over configVars:
	// {{.Listen}}, {{.DataDir}}, {{.PublicURL}}.
	Config string
	// DataDir is reused across restarts of the same gateway (crash tests);
	// empty means a fresh t.TempDir().
	DataDir string
	// Env adds KEY=VALUE pairs to the process environment.
	Env []string
	// NoWait skips waiting for /healthz (for starts expected to fail).
	NoWait bool
}

// configVars are what a config template may use.
type configVars struct {
	Listen    string // 127.0.0.1:<free port>
	DataDir   string
	PublicURL string // http://<Listen>
}

// gateway is a running `callgate serve`.
type gateway struct {
	t          *testing.T
	URL        string // http://127.0.0.1:port
	Addr       string // 127.0.0.1:port
	DataDir    string
	ConfigPath string

	cmd    *exec.Cmd
	output *syncBuffer // stdout and stderr interleaved
	done   chan struct{}
	err    error // from Wait, valid after done
}

// startGateway runs `callgate serve` with configText (see
// gatewayOptions.Config) on a free port and a fresh data dir, and waits
// until /healthz answers. The process is killed when the test ends.
func startGateway(t *testing.T, configText string) *gateway {
	t.Helper()
	return launch(t, gatewayOptions{Config: configText})
}

// launch is startGateway with every option.
func launch(t *testing.T, opts gatewayOptions) *gateway {
	t.Helper()
	dir := t.TempDir()
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(dir, "data")
	}
	addr := freeAddr(t)
	g := &gateway{
		t:          t,
		URL:        "http://" + addr,
		Addr:       addr,
		DataDir:    opts.DataDir,
		ConfigPath: filepath.Join(dir, "callgate.hcl"),
		output:     &syncBuffer{},
		done:       make(chan struct{}),
	}
	g.WriteConfig(opts.Config)

	g.cmd = exec.Command(binary, "serve", "--config", g.ConfigPath)
	g.cmd.Dir = dir
	g.cmd.Env = append(os.Environ(), opts.Env...)
	g.cmd.Stdout, g.cmd.Stderr = g.output, g.output
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start callgate: %v", err)
	}
	go func() {
		g.err = g.cmd.Wait()
		close(g.done)
	}()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			_ = g.cmd.Process.Kill()
			<-g.done
		}
		if t.Failed() {
			t.Logf("callgate output (%s):\n%s", g.Addr, g.Output())
		}
	})
	if !opts.NoWait {
		g.waitHealthy()
	}
	return g
}

// WriteConfig renders the config template into the gateway's config file
// (for SIGHUP reload tests, call it before Signal(syscall.SIGHUP)).
func (g *gateway) WriteConfig(text string) {
	g.t.Helper()
	tmpl, err := template.New("config").Option("missingkey=error").Parse(text)
	if err != nil {
		g.t.Fatalf("config template: %v", err)
	}
	var buf bytes.Buffer
	vars := configVars{Listen: g.Addr, DataDir: g.DataDir, PublicURL: g.URL}
	if err := tmpl.Execute(&buf, vars); err != nil {
		g.t.Fatalf("config template: %v", err)
	}
	if err := os.WriteFile(g.ConfigPath, buf.Bytes(), 0o600); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gateway) waitHealthy() {
	g.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-g.done:
			g.t.Fatalf("callgate exited before answering /healthz: %v\n%s", g.err, g.Output())
		default:
		}
		resp, err := http.Get(g.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.t.Fatalf("callgate did not answer /healthz within 15s\n%s", g.Output())
}

// Output is everything the process printed so far.
func (g *gateway) Output() string { return g.output.String() }

// WaitForOutput waits until the output holds want (log lines are written
// after the response they describe).
func (g *gateway) WaitForOutput(want string) {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(g.Output(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	g.t.Fatalf("output never held %q:\n%s", want, g.Output())
}

// Signal sends sig to the process.
func (g *gateway) Signal(sig syscall.Signal) {
	g.t.Helper()
	if err := g.cmd.Process.Signal(sig); err != nil {
		g.t.Fatalf("signal %v: %v", sig, err)
	}
}

// Wait waits for the process to exit and returns its exit code
// (-1 when killed by a signal).
func (g *gateway) Wait(timeout time.Duration) int {
	g.t.Helper()
	select {
	case <-g.done:
	case <-time.After(timeout):
		g.t.Fatalf("callgate still running after %s\n%s", timeout, g.Output())
	}
	return g.cmd.ProcessState.ExitCode()
}

// Stop sends SIGTERM and returns the exit code.
func (g *gateway) Stop() int {
	g.t.Helper()
	g.Signal(syscall.SIGTERM)
	return g.Wait(20 * time.Second)
}

// Crash kills the process with SIGKILL, as a power cut would.
func (g *gateway) Crash() {
	g.t.Helper()
	g.Signal(syscall.SIGKILL)
	g.Wait(10 * time.Second)
}

// Do sends a request to the gateway and returns the status and body.
func (g *gateway) Do(method, path string, body io.Reader, header http.Header) (int, []byte) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, g.URL+path, body)
	if err != nil {
		g.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// cliResult is one run of a callgate command.
type cliResult struct {
	Code           int
	Stdout, Stderr string
}

// runCLI runs the callgate binary with args (and extra KEY=VALUE env) and
// waits for it.
func runCLI(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("callgate %v: %v", args, err)
	}
	return cliResult{Code: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String()}
}

// freeAddr finds a free port on 127.0.0.1.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
