package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// EnvAPIKey is the webhook API key `webhook send` uses without --key.
const EnvAPIKey = "CALLGATE_API_KEY"

// webhookOptions are the flags of `callgate webhook send`.
type webhookOptions struct {
	Agent, Type, Key  string
	Contacts          []string
	File              string
	Event             string
	Secret, Signature string
	PublicURL, Query  string
	Portal            int64
	Timeout           time.Duration
}

func newWebhookCmd(o *rootOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Send test webhooks to a running gateway",
	}
	cmd.AddCommand(newWebhookSendCmd(o))
	return cmd
}

func newWebhookSendCmd(o *rootOptions) *cobra.Command {
	var w webhookOptions
	cmd := &cobra.Command{
		Use:   "send --agent AGENT (--contact ID... | --file BODY.json)",
		Short: "Post a webhook as the CRM would: signed, to the agent's /call/crm-webhook URL",
		Long: "Builds the agent's webhook URL on --addr (agent_id, type, x_api_key and any --query\n" +
			"parameters) and posts, for --type hubspot, a contact event per --contact (HubSpot's\n" +
			"JSON shape, signed with the integration's client secret when --secret is given:\n" +
			"v3 by default, --signature v2 or v1) or the body of --file as it is (signed the\n" +
			"same way). Other types post --file unsigned, as LeadSquared does. Prints the\n" +
			"gateway's answer; exits 1 unless it is 200.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("key") {
				w.Key = o.Getenv(EnvAPIKey)
			}
			return sendWebhook(cmd.Context(), o, w)
		},
	}
	f := cmd.Flags()
	f.StringVar(&w.Agent, "agent", "", "the agent_id to trigger (required)")
	f.StringVar(&w.Type, "type", "hubspot", "the CRM plugin type")
	f.StringVar(&w.Key, "key", "", "the webhook API key (env "+EnvAPIKey+")")
	f.StringSliceVar(&w.Contacts, "contact", nil, "HubSpot contact id(s), one event each")
	f.StringVar(&w.File, "file", "", "a webhook body to post instead (JSON)")
	f.StringVar(&w.Event, "event", "contact.creation", "HubSpot subscription type of the --contact events")
	f.StringVar(&w.Secret, "secret", "", "the integration's client_secret, to sign as HubSpot does")
	f.StringVar(&w.Signature, "signature", "v3", "HubSpot signature version: v3, v2 or v1")
	f.StringVar(&w.PublicURL, "public-url", "", "the gateway's server.public_url, which HubSpot signs (default --addr)")
	f.StringVar(&w.Query, "query", "", "more query parameters, e.g. 'min_trigger_time=09:00&num_of_retries=2'")
	f.Int64Var(&w.Portal, "portal", 62515, "HubSpot portal (account) id in the events")
	f.DurationVar(&w.Timeout, "timeout", 15*time.Second, "how long to wait for the gateway")
	return cmd
}

func sendWebhook(ctx context.Context, o *rootOptions, w webhookOptions) error {
	if w.Agent == "" {
		return fmt.Errorf("webhook send: --agent is required (the agent_id of the URL)")
	}
	if w.Key == "" {
		return fmt.Errorf("webhook send: --key is required (the webhook API key; or set %s)", EnvAPIKey)
	}
	if (len(w.Contacts) == 0) == (w.File == "") {
		return fmt.Errorf("webhook send: give --contact ID (one or more) or --file BODY.json")
	}
	if len(w.Contacts) > 0 && w.Type != "hubspot" {
		return fmt.Errorf("webhook send: --contact builds HubSpot events; for --type %s post a body with --file", w.Type)
	}
	if err := checkAddr(o.Addr); err != nil {
		return fmt.Errorf("webhook send: %w", err)
	}
	extra, err := url.ParseQuery(w.Query)
	if err != nil {
		return fmt.Errorf("webhook send: --query %q: %v", w.Query, err)
	}
	q := url.Values{"agent_id": {w.Agent}, "type": {w.Type}, "x_api_key": {w.Key}}
	for k, vs := range extra {
		q[k] = vs
	}
	path := "/call/crm-webhook?" + q.Encode()
	public := strings.TrimRight(w.PublicURL, "/")
	if public == "" {
		public = o.Addr
	}
	now := time.Now()
	var body []byte
	if w.File != "" {
		if body, err = os.ReadFile(w.File); err != nil {
			return fmt.Errorf("webhook send: %w", err)
		}
	} else if body, err = hubspotEvents(w, now); err != nil {
		return err
	}
	header := http.Header{"Content-Type": {"application/json"}}
	if w.Type == "hubspot" {
		switch w.Signature {
		case "v1", "v2", "v3":
		default:
			return fmt.Errorf("webhook send: --signature %q: use v3, v2 or v1", w.Signature)
		}
		// Unsigned when w.Secret is empty, as HubSpot is for an app
		// whose integration block has no client_secret.
		header = hubspottest.Sign(w.Secret, w.Signature, http.MethodPost, public+path, body, now)
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Addr+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook send: %w", err)
	}
	req.Header = header
	shown := redactKey(o.Addr+path, w.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if isConnRefused(err) {
			return fmt.Errorf("webhook send: no gateway answers at %s: start one (callgate serve) or point --addr at it", o.Addr)
		}
		return fmt.Errorf("webhook send: POST %s: %w", shown, err)
	}
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	fmt.Fprintf(o.Stdout, "POST %s\n%d %s\n", shown, resp.StatusCode, bytes.TrimSpace(answer))
	if resp.StatusCode != http.StatusOK {
		return exitError{code: 1}
	}
	fmt.Fprintf(o.Stdout, "see what became of it: %s events list (or %s/ui/events), then %s calls list --agent %s\n",
		o.self(), o.Addr, o.self(), w.Agent)
	return nil
}

// hubspotEvents builds one event of w.Event per contact id, as HubSpot's
// webhook body carries them.
func hubspotEvents(w webhookOptions, now time.Time) ([]byte, error) {
	if !strings.Contains(w.Event, ".") {
		return nil, fmt.Errorf("webhook send: --event %q: use a HubSpot subscription type such as contact.creation", w.Event)
	}
	events := make([]hubspottest.Event, 0, len(w.Contacts))
	for i, c := range w.Contacts {
		id, err := strconv.ParseInt(strings.TrimSpace(c), 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("webhook send: --contact %q: HubSpot contact ids are positive whole numbers", c)
		}
		events = append(events, hubspottest.Event{
			EventID: now.UnixNano()/1000 + int64(i), SubscriptionID: 1, PortalID: w.Portal, AppID: 1,
			OccurredAt: now.UnixMilli(), SubscriptionType: w.Event, ObjectID: id,
			ChangeSource: "CRM_UI", ChangeFlag: changeFlag(w.Event),
		})
	}
	return json.Marshal(events)
}

func changeFlag(event string) string {
	switch {
	case strings.HasSuffix(event, ".creation"):
		return "CREATED"
	case strings.HasSuffix(event, ".deletion"), strings.HasSuffix(event, ".privacyDeletion"):
		return "DELETED"
	}
	return ""
}

// redactKey hides the API key in a URL shown to the user.
func redactKey(u, key string) string {
	return strings.ReplaceAll(u, "x_api_key="+url.QueryEscape(key), "x_api_key=REDACTED")
}
