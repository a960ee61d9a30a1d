package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// Demo secrets: printed on purpose, valid only for the demo's own
// temporary gateway on 127.0.0.1.
const (
	demoAdminToken   = "demo-admin-token"
	demoAPIKey       = "demo-api-key"
	demoClientSecret = "demo-client-secret"
)

// demoOptions are the flags of `callgate demo`.
type demoOptions struct {
	Once    bool
	Listen  string
	Verbose bool
	Timeout time.Duration
}

func newDemoCmd(o *rootOptions) *cobra.Command {
	var d demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Place a first call end to end with a fake HubSpot and the log dialer",
		Long: "Starts a gateway on a temporary data dir with an in-process fake HubSpot and\n" +
			"the log dialer, sends a correctly signed contact.creation webhook for a sample\n" +
			"contact, waits for the call and prints it with its variables and the dashboard\n" +
			"URL. It keeps serving until Ctrl-C (--once: exits after printing). Nothing\n" +
			"leaves this machine and nobody is called.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, o, d)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&d.Once, "once", false, "exit after the call is printed")
	f.StringVar(&d.Listen, "listen", "127.0.0.1:0", "address for the demo gateway (port 0: any free port)")
	f.BoolVar(&d.Verbose, "verbose", false, "show the gateway's log")
	f.DurationVar(&d.Timeout, "timeout", 30*time.Second, "give up when no call is placed within this time")
	return cmd
}

// demoConfig is the demo gateway's configuration.
func demoConfig(addr, dataDir, hubspotURL, hubspotToken string) string {
	sum := func(s string) string { b := sha256.Sum256([]byte(s)); return hex.EncodeToString(b[:]) }
	return fmt.Sprintf(`
server {
  listen             = %q
  public_url         = "http://%s"
  data_dir           = %q
  default_timezone   = "Asia/Kolkata"
  default_region     = "IN"
  admin_token_sha256 = [%q]
  log_level          = "info"
}
api_key "demo" {
  sha256 = %q
  agents = ["sales-intro"]
}
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
}
dialer "log" {
  type = "log"
}
agent "sales-intro" {
  dialer       = "log"
  integrations = ["hubspot"]
  when         = "event.kind == 'created'"
  variables = {
    firstname = "title(contact.firstname) ?? 'there'"
    company   = "contact.company ?? ''"
    city      = "contact.city ?? ''"
  }
  required_variables = ["firstname"]
}
`, addr, addr, dataDir, sum(demoAdminToken), sum(demoAPIKey), hubspotToken, demoClientSecret, hubspotURL)
}

func runDemo(ctx context.Context, o *rootOptions, d demoOptions) error {
	fake := hubspottest.New(hubspottest.Options{})
	defer fake.Close()
	contactID := fake.AddContact("", map[string]any{
		"firstname": "ada", "lastname": "Lovelace", "company": "Analytical Engines",
		"city": "Bengaluru", "mobilephone": "+91 98765 43210", "email": "ada@example.com",
	})

	ln, err := net.Listen("tcp", d.Listen)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w (pick another with --listen)", d.Listen, err)
	}
	var logOut io.Writer = io.Discard
	if d.Verbose {
		logOut = o.Stderr
	}
	gw, err := startLocalGateway(ctx, localOptions{Name: "demo", Listener: ln, Log: logOut, Level: hclog.Info,
		Config: func(addr, dataDir string) string { return demoConfig(addr, dataDir, fake.URL, fake.Token()) }})
	if err != nil {
		return err
	}

	base := gw.Base
	fmt.Fprintf(o.Stdout, "callgate demo: gateway on %s, fake HubSpot on %s, data in %s\n", base, fake.URL, gw.DataDir)
	call, err := demoPlaceCall(ctx, gw.store, base, contactID, d.Timeout)
	if err != nil {
		gw.Close()
		return err
	}
	printDemoCall(o, call, base, d.Once)
	if !d.Once {
		fmt.Fprintln(o.Stdout, "\nServing until Ctrl-C.")
		<-ctx.Done()
	}
	if err := gw.Close(); err != nil {
		return fmt.Errorf("demo: gateway: %w", err)
	}
	return nil
}

// demoPlaceCall waits for the gateway to be ready, posts a signed
// contact.creation webhook as HubSpot would, and waits for the call to
// reach a final status.
func demoPlaceCall(ctx context.Context, db store.Calls, base, contactID string, timeout time.Duration) (store.Call, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	if err := waitReady(ctx, client, base+"/readyz"); err != nil {
		return store.Call{}, fmt.Errorf("demo: the gateway did not become ready: %w", err)
	}
	id, _ := strconv.ParseInt(contactID, 10, 64)
	url := base + "/call/crm-webhook?type=hubspot&agent_id=sales-intro&x_api_key=" + demoAPIKey
	body, header := hubspottest.ContactCreation(hubspottest.Webhook{Secret: demoClientSecret, URL: url, ObjectIDs: []int64{id}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return store.Call{}, err
	}
	req.Header = header
	resp, err := client.Do(req)
	if err != nil {
		return store.Call{}, fmt.Errorf("demo: post the webhook: %w", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return store.Call{}, fmt.Errorf("demo: the webhook was answered %d: %s", resp.StatusCode, answer)
	}
	for {
		calls, _, err := db.ListCalls(ctx, store.CallFilter{AgentID: "sales-intro", Limit: 1})
		if err != nil {
			return store.Call{}, fmt.Errorf("demo: read calls: %w", err)
		}
		if len(calls) == 1 && store.Final(calls[0].Status) {
			return calls[0], nil
		}
		select {
		case <-ctx.Done():
			return store.Call{}, fmt.Errorf("demo: no call was completed within %s; run with --verbose to see the gateway's log", timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitReady(ctx context.Context, client *http.Client, url string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("timed out waiting for " + url)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func printDemoCall(o *rootOptions, c store.Call, base string, once bool) {
	fmt.Fprintf(o.Stdout, "\nA signed contact.creation webhook for contact %s became this call:\n\n", c.Source.ObjectID)
	t := newTable(o)
	t.row("  call", c.ID)
	t.row("  status", c.Status+" ("+c.Reason+")")
	t.row("  to", c.ToNumber)
	t.row("  dialer", c.Dialer+" (writes the call to the log instead of phoning)")
	names := make([]string, 0, len(c.Variables))
	for k := range c.Variables {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t.row("  variable "+k, c.Variables[k])
	}
	_ = t.flush()
	if once {
		// The gateway stops with the command: its links would lead nowhere.
		fmt.Fprintf(o.Stdout, "\nThe demo gateway has stopped. To look around its dashboard, run %s demo without --once.\n", o.self())
		return
	}
	fmt.Fprintf(o.Stdout, "\nDashboard: %s/ui/  (sign in with the admin token %q)\n", base, demoAdminToken)
	fmt.Fprintf(o.Stdout, "CLI:       CALLGATE_ADDR=%s CALLGATE_TOKEN=%s %s calls show %s\n", base, demoAdminToken, o.self(), c.ID)
}
