package sdktest_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// ping is a minimal well-behaved plugin: a webhook is a JSON object
// {"id": "...", "kind": "..."}; the id "boom" panics.
type ping struct{ sdk.Unimplemented }

func (ping) Describe(context.Context) (sdk.Manifest, error) {
	return sdk.Manifest{Name: "ping", Version: "1.0.0", ProtocolVersion: sdk.ProtocolVersion,
		CredentialFields: []sdk.CredentialField{{Name: "token", Secret: true}, {Name: "base_url"}},
		Capabilities:     []string{sdk.CapabilityInline}}, nil
}

func (ping) HandleWebhook(_ context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	if len(req.Body) > 1<<20 {
		return sdk.WebhookResult{}, sdk.BadRequest("body over 1 MiB")
	}
	var in struct{ ID, Kind string }
	if err := json.Unmarshal(req.Body, &in); err != nil || in.ID == "" {
		// Careless on purpose: the SDK must scrub the token from the error.
		return sdk.WebhookResult{}, sdk.BadRequest("want a JSON object with an id (token %s)", req.Credentials["token"])
	}
	if in.ID == "boom" {
		panic("boom")
	}
	return sdk.WebhookResult{Events: []sdk.Event{{Key: "ping:" + in.ID, Kind: in.Kind, ObjectType: "lead", ObjectID: in.ID}}}, nil
}

func TestConformanceInProcess(t *testing.T) {
	sdktest.Conformance(t, sdktest.Plugin{Impl: ping{}}, sdktest.Fixtures{
		Credentials: sdk.Credentials{"token": "t0ken-value"},
		Webhooks: []sdktest.Webhook{
			{Name: "created", Request: sdk.WebhookRequest{Method: "POST", Body: []byte(`{"id":"1","kind":"created"}`)}},
		},
		PanicWebhook: &sdk.WebhookRequest{Body: []byte(`{"id":"boom"}`)},
	})
}
