package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// testWebhooks sends the dashboard's test webhooks: the contact.creation
// HubSpot would post for a contact, signed with the integration's client
// secret, handed to ingest as a CRM's request is, without an API key (an
// admin asked). The plugin checks the signature and the event takes the
// webhook's whole path: inbox, pipeline, fetch, rules, scheduler.
type testWebhooks struct {
	ingest *ingest.Handler
	cfg    func() *config.Config
}

// statusError is an error answered with its own HTTP status.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string   { return e.msg }
func (e *statusError) StatusCode() int { return e.code }

func (t testWebhooks) SendTestWebhook(ctx context.Context, agentID, contactID string) (api.TestWebhookResult, error) {
	cfg := t.cfg()
	ag, ok := cfg.Agents[agentID]
	if !ok {
		return api.TestWebhookResult{}, &statusError{http.StatusNotFound, fmt.Sprintf("agent %q is not in the config", agentID)}
	}
	integ := hubspotIntegration(cfg, ag)
	if integ == nil {
		return api.TestWebhookResult{}, &statusError{http.StatusBadRequest, fmt.Sprintf(
			"agent %q has no HubSpot integration: test webhooks are HubSpot's contact.creation (use callgate webhook send --file for other CRMs)", agentID)}
	}
	id, err := strconv.ParseInt(contactID, 10, 64)
	if err != nil || id <= 0 {
		return api.TestWebhookResult{}, &statusError{http.StatusBadRequest, "contact_id: HubSpot record ids are positive whole numbers"}
	}
	base := strings.TrimSuffix(cfg.Server.PublicURL, "/")
	if base == "" {
		base = "http://" + cfg.Server.Listen
	}
	// The URL HubSpot would call: what ingest rebuilds and the plugin checks.
	target := base + "/call/crm-webhook?" + url.Values{"agent_id": {agentID}, "type": {integ.Type}}.Encode()
	body, header := hubspottest.ContactCreation(hubspottest.Webhook{
		Secret: integ.Credentials[hubspot.CredClientSecret], URL: target, ObjectIDs: []int64{id}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return api.TestWebhookResult{}, err
	}
	req.Header = header
	res, err := t.ingest.AcceptAs(req, agentID)
	if err != nil {
		return api.TestWebhookResult{}, err
	}
	return api.TestWebhookResult{Status: res.Status, Message: res.Message, Accepted: res.Accepted,
		Duplicates: res.Duplicates, Ignored: res.Ignored, Failed: res.Failed}, nil
}

// hubspotIntegration is the agent's first integration of type hubspot
// (any such integration when the agent lists none), or nil.
func hubspotIntegration(cfg *config.Config, ag *config.Agent) *config.Integration {
	names := ag.Integrations
	if len(names) == 0 {
		for n := range cfg.Integrations {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	for _, n := range names {
		if in, ok := cfg.Integrations[n]; ok && in.Type == "hubspot" {
			return in
		}
	}
	return nil
}
