package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/reply"
)

// TestWebhooker sends an agent a HubSpot-shaped contact.creation webhook
// for a contact, signed with the integration's client secret, through the
// same plugin and inbox as a CRM's request (no API key: the caller is an
// admin).
type TestWebhooker interface {
	SendTestWebhook(ctx context.Context, agentID, contactID string) (ingest.WebhookReply, error)
}

// TestWebhookRequest is the body of POST /api/v1/agents/{id}/test-webhook.
type TestWebhookRequest struct {
	ContactID string `json:"contact_id"`
}

// SendTestWebhook checks the request and sends it; an error that knows
// its HTTP status (the webhook's own refusal) keeps it.
func (a *API) SendTestWebhook(ctx context.Context, agentID, contactID string) (ingest.WebhookReply, error) {
	if a.opts.TestWebhooks == nil {
		return ingest.WebhookReply{}, errors.New("test webhooks are not wired in this gateway")
	}
	contactID = strings.TrimSpace(contactID)
	if contactID == "" {
		return ingest.WebhookReply{}, fieldError("contact_id", "give the id of a contact in the CRM (HubSpot's record id)")
	}
	for _, c := range contactID {
		if c < '0' || c > '9' {
			return ingest.WebhookReply{}, fieldError("contact_id", "%s is not a HubSpot record id (digits only)", reply.Quote(contactID))
		}
	}
	return a.opts.TestWebhooks.SendTestWebhook(ctx, agentID, contactID)
}

func (a *API) testWebhook(w http.ResponseWriter, r *http.Request) {
	var req TestWebhookRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		reply.Error(w, http.StatusBadRequest, `body: want {"contact_id":"…"}`)
		return
	}
	res, err := a.SendTestWebhook(r.Context(), pathVar(r, "id"), req.ContactID)
	var withStatus interface{ StatusCode() int }
	switch {
	case err == nil:
		reply.JSON(w, http.StatusOK, res)
	case errors.As(err, &withStatus):
		reply.Error(w, withStatus.StatusCode(), err.Error())
	default:
		a.WriteError(w, err)
	}
}
