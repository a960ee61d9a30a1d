package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// emptyDatabase creates a database of its own for one test on the server
// CALLGATE_TEST_POSTGRES names, unmigrated, and drops it when the test
// ends. Without the variable the test skips, unless
// CALLGATE_REQUIRE_POSTGRES=1 (as .ci/run sets), where that is a failure.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CALLGATE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CALLGATE_REQUIRE_POSTGRES") == "1" {
			t.Fatal("CALLGATE_REQUIRE_POSTGRES=1 but CALLGATE_TEST_POSTGRES is unset")
		}
		t.Skip("PostgreSQL tests need CALLGATE_TEST_POSTGRES=postgres://… (see README, \"Tests on PostgreSQL\")")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect %s: %v", redactPassword(base), err)
	}
	defer admin.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := "e2e_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func redactPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// withStore adds a store block for the PostgreSQL URL to a config.
func withStore(cfg, dbURL string) string {
	return cfg + fmt.Sprintf("\nstore {\n  backend = \"postgres\"\n  url     = %q\n}\n", dbURL)
}

// migrateUp runs `callgate migrate up` for a config, as an operator would
// before starting replicas.
func migrateUp(t *testing.T, configText string) string {
	t.Helper()
	dir := t.TempDir()
	path := dir + "/callgate.hcl"
	text := strings.NewReplacer("{{.Listen}}", "127.0.0.1:1", "{{.PublicURL}}", "http://127.0.0.1:1", "{{.DataDir}}", dir+"/data").Replace(configText)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "migrate", "up", "--config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("callgate migrate up: %v\n%s", err, out)
	}
	return string(out)
}

// cutProxy forwards TCP to a database and can cut it: every open
// connection is closed and new ones are refused until Restore, which is
// what callgate sees when its database restarts or its network drops
// (without stopping the server other tests share).
type cutProxy struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

func (p *cutProxy) Addr() string { return p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *cutProxy) pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Cut closes every connection and refuses new ones.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore accepts connections again.
func (p *cutProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// viaProxy returns dbURL with its host replaced by the proxy's address.
func viaProxy(t *testing.T, dbURL string) (*cutProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	if !strings.Contains(host, ":") {
		host += ":5432"
	}
	p := newCutProxy(t, host)
	u.Host = p.Addr()
	return p, u.String()
}
