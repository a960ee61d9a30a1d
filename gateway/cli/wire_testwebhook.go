package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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

func (t testWebhooks) SendTestWebhook(ctx context.Context, agentID, contactID string) (ingest.WebhookReply, error) {
	cfg := t.cfg()
	ag, ok := cfg.Agents[agentID]
	if !ok {
		return ingest.WebhookReply{}, &statusError{http.StatusNotFound, fmt.Sprintf("agent %q is not in the config", agentID)}
	}
	integ, ok := cfg.IntegrationFor(ag, "hubspot")
	if !ok {
		return ingest.WebhookReply{}, &statusError{http.StatusBadRequest, fmt.Sprintf(
			"agent %q has no HubSpot integration: test webhooks are HubSpot's contact.creation (use callgate webhook send --file for other CRMs)", agentID)}
	}
	id, err := strconv.ParseInt(contactID, 10, 64)
	if err != nil || id <= 0 {
		return ingest.WebhookReply{}, &statusError{http.StatusBadRequest, "contact_id: HubSpot record ids are positive whole numbers"}
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
		return ingest.WebhookReply{}, err
	}
	req.Header = header
	return t.ingest.AcceptAs(req, agentID)
}
