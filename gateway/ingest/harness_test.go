package ingest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store/bolt"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

const (
	keyAny   = "key-any-0123456789"
	keySales = "key-sales-0123456789"
	secret   = "hubspot-client-secret"
)

func sum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// plugins serves plugins by name, as the plugin host does.
type plugins map[string]sdk.CRM

func (p plugins) CRM(name string) (sdk.CRM, bool) { c, ok := p[name]; return c, ok }

// Manifest describes the plugin on each call; the host keeps the
// manifest of the plugin's last start.
func (p plugins) Manifest(name string) (sdk.Manifest, bool) {
	c, ok := p[name]
	if !ok {
		return sdk.Manifest{}, false
	}
	m, err := c.Describe(context.Background())
	return m, err == nil
}
func (p plugins) Names() []string {
	var out []string
	for n := range p {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// env is a listening ingest handler over a real inbox, the real HubSpot
// plugin behind real gRPC, and a fake HubSpot.
type env struct {
	url   string // http://127.0.0.1:port
	cfg   *config.Config
	db    *bolt.Store
	inbox *bolt.Store
	hs    *hubspottest.Server
	h     *ingest.Handler
	at    time.Time // when signed webhooks are sent: equal times make redeliveries
}

func testConfig(t testing.TB, publicURL, hubspotURL string, extra string) *config.Config {
	t.Helper()
	src := fmt.Sprintf(`
server {
  public_url     = %q
  data_dir       = %q
  max_body_bytes = 65536
}
api_key "any" { sha256 = %q }
api_key "sales-only" {
  sha256 = %q
  agents = ["sales"]
}
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
}
dialer "voice" { type = "log" }
agent "sales" {
  dialer       = "voice"
  integrations = ["hubspot"]
  window {
    start = "09:00"
    end   = "18:00"
  }
  variables = { firstname = "contact.firstname ?? 'there'" }
}
agent "support" {
  dialer = "voice"
}
integration "lsq" {
  type       = "leadsquared"
  access_key = "k"
  secret_key = "s"
}
agent "lsq-only" {
  dialer       = "voice"
  integrations = ["lsq"]
}
%s
`, publicURL, t.TempDir(), sum(keyAny), sum(keySales), hubspottest.DefaultToken, secret, hubspotURL, extra)
	cfg, err := config.LoadBytes("test.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type envOptions struct {
	plugins   plugins // default: hubspot over sdktest
	scheduler ingest.Scheduler
	dnd       ingest.DND
	tweak     func(*config.Config)
	// withScheduler wires the real scheduler (log dialer, not running) and
	// the store's DND list.
	withScheduler bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	cfg := testConfig(t, url, hs.URL, "")
	if o.tweak != nil {
		o.tweak(cfg)
	}
	db, err := bolt.Open(bolt.Options{Dir: cfg.Server.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	inbox := db
	if o.withScheduler {
		voice, err := dialer.New(cfg.Dialers["voice"], dialer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sched, err := scheduler.New(scheduler.Config{Store: db, Dialers: map[string]scheduler.Dialer{"voice": voice}})
		if err != nil {
			t.Fatal(err)
		}
		o.scheduler, o.dnd = sched, db
	}
	if o.plugins == nil {
		o.plugins = plugins{"hubspot": sdktest.Serve(t, hubspot.New())}
	}
	h, err := ingest.New(ingest.Config{
		Config: func() *config.Config { return cfg }, Inbox: inbox, Plugins: o.plugins,
		Scheduler: o.scheduler, DND: o.dnd, RetryAfter: 7 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(func(method, path string, hh http.Handler) { mux.Handle(method+" "+path, hh) })
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Shutdown(context.Background())
		inbox.Close()
		db.Close()
	})
	return &env{url: url, cfg: cfg, db: db, inbox: inbox, hs: hs, h: h, at: time.Now()}
}
