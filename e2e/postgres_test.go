package e2e

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// withStore adds a store block for the PostgreSQL URL to a config.
func withStore(cfg, dbURL string) string {
	return cfg + fmt.Sprintf("\nstore {\n  backend = \"postgres\"\n  url     = %q\n}\n", dbURL)
}

// migrateUp runs `callgate migrate up` for a config, as an operator would
// before starting replicas.
func migrateUp(t *testing.T, configText string) string {
	t.Helper()
	dir := t.TempDir()
	// Rendered as a gateway's would be; migrate reads only the store block.
	cfg := &gateway{t: t, Addr: "127.0.0.1:1", URL: "http://127.0.0.1:1", DataDir: dir + "/data", ConfigPath: dir + "/callgate.hcl"}
	cfg.WriteConfig(configText)
	out, err := exec.Command(binary, "migrate", "up", "--config", cfg.ConfigPath).CombinedOutput()
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
