package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store/bolt"
)

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

func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func appConfigText(dataDir, token string) string {
	return "server {\n  data_dir = \"" + dataDir + "\"\n  admin_token_sha256 = [\"" + digest(token) + "\"]\n}\n" +
		"dialer \"log\" {\n  type = \"log\"\n}\n"
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

func TestAppReloadAndShutdown(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	path := writeFile(t, dir, "callgate.hcl", appConfigText(dataDir, "token-a"))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(appConfig{Config: cfg, Path: path, Logger: newLogger(logs, "text", "debug"), Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	a.http.HandleAdmin("GET", "/ping", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply.JSON(w, 200, reply.Envelope{Status: "ok", Message: "pong"})
	}))
	var reloaded []*config.Config
	var mu sync.Mutex
	a.onReload("test part", func(c *config.Config) error {
		mu.Lock()
		defer mu.Unlock()
		reloaded = append(reloaded, c)
		return nil
	})
	workerStopped := make(chan struct{})
	a.goRun("test worker", func(ctx context.Context) error {
		<-ctx.Done()
		close(workerStopped)
		return ctx.Err()
	})

	signals := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() { done <- a.run(context.Background(), signals) }()

	url := "http://" + ln.Addr().String()
	status := func(token string) int {
		req, _ := http.NewRequest("GET", url+"/api/v1/ping", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("token-a"); got != 200 {
		t.Fatalf("token-a before reload = %d", got)
	}

	t.Run("good file swaps admin tokens and calls hooks", func(t *testing.T) {
		writeFile(t, dir, "callgate.hcl", appConfigText(dataDir, "token-b"))
		signals <- syscall.SIGHUP
		eventually(t, "token-b accepted", func() bool { return status("token-b") == 200 })
		eventually(t, "hooks called", func() bool { mu.Lock(); defer mu.Unlock(); return len(reloaded) > 0 })
		if got := status("token-a"); got != 401 {
			t.Errorf("token-a after reload = %d", got)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reloaded) != 1 || reloaded[0].Server.AdminTokenSHA256[0] != digest("token-b") {
			t.Errorf("reload hook saw %v", reloaded)
		}
	})

	t.Run("bad file is refused, every problem logged, old config stays", func(t *testing.T) {
		writeFile(t, dir, "callgate.hcl", "server {\n  listen = \"x\"\n  default_region = \"QQ\"\n}\n")
		signals <- syscall.SIGHUP
		eventually(t, "refusal logged", func() bool { return strings.Contains(logs.String(), "config reload refused") })
		out := logs.String()
		for _, want := range []string{"callgate.hcl:2:12: listen", "callgate.hcl:3:20: default_region"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if got := status("token-b"); got != 200 {
			t.Errorf("token-b after a refused reload = %d", got)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reloaded) != 1 {
			t.Errorf("hooks called for a refused config: %d", len(reloaded))
		}
	})

	signals <- syscall.SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after SIGTERM")
	}
	select {
	case <-workerStopped:
	default:
		t.Error("background work not stopped")
	}
	// The store was closed: another process (here, another Open) can take it at once.
	db, err := bolt.Open(bolt.Options{Dir: dataDir, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("store still held after shutdown: %v", err)
	}
	db.Close()
}

func TestAppStopsWhenAPartFails(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Server.DataDir = filepath.Join(dir, "data")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(appConfig{Config: cfg, Logger: hclog.NewNullLogger(), Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("lost the database")
	a.goRun("pipeline", func(context.Context) error { return boom })
	err = a.run(context.Background(), make(chan os.Signal))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "pipeline: lost the database") {
		t.Fatalf("run = %v", err)
	}
}

func TestAppRefusesALockedDataDir(t *testing.T) {
	dir := t.TempDir()
	held, err := bolt.Open(bolt.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cfg := config.Default()
	cfg.Server.DataDir = dir
	cfg.Server.Listen = "127.0.0.1:0"
	_, err = newApp(appConfig{Config: cfg, Logger: hclog.NewNullLogger()})
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
}
