package hubspot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// TestOverGRPC drives the plugin through the real plugin protocol: values,
// phones and error classes (with retry-after) survive the boundary.
func TestOverGRPC(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	client := sdktest.Serve(t, p)
	ctx := context.Background()

	m, err := client.Describe(ctx)
	if err != nil || m.Name != "hubspot" {
		t.Fatalf("Describe: %+v %v", m, err)
	}

	url := "https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=a"
	at := time.Now()
	body, header := hubspottest.ContactCreation(hubspottest.Webhook{Secret: "s", URL: url, Time: at, ObjectIDs: []int64{5000}})
	webhookCreds := sdk.Credentials{hubspot.CredClientSecret: "s"}
	res, err := client.HandleWebhook(ctx, sdk.WebhookRequest{Method: "POST", URL: url, Headers: header, Body: body, Credentials: webhookCreds, ReceivedAt: at})
	if err != nil || len(res.Events) != 1 || res.Events[0].ObjectID != "5000" {
		t.Fatalf("HandleWebhook: %+v %v", res, err)
	}
	_, err = client.HandleWebhook(ctx, sdk.WebhookRequest{Method: "POST", URL: url + "&x=1", Headers: header, Body: body, Credentials: webhookCreds, ReceivedAt: at})
	if sdk.ClassOf(err) != sdk.ClassInvalidSignature {
		t.Fatalf("wrong URL over gRPC: %v", err)
	}

	srv.AddContact("5000", map[string]any{"firstname": "Ada", "mobilephone": "+919876543210", "hs_email_optout": "true"})
	fr, err := client.FetchRecords(ctx, sdk.FetchRequest{Credentials: creds, ObjectType: "contact", IDs: []string{"5000", "404404"}, Fields: []string{"firstname", "hs_email_optout"}})
	if err != nil || len(fr.Records) != 1 || len(fr.Missing) != 1 {
		t.Fatalf("FetchRecords: %+v %v", fr, err)
	}
	rec := fr.Records[0]
	if rec.Fields["hs_email_optout"] != sdk.BoolValue(true) || rec.Fields["firstname"] != sdk.StringValue("Ada") || len(rec.Phones) != 1 {
		t.Errorf("record over gRPC: %+v", rec)
	}

	srv.FailNextWith(429, map[string]string{"Retry-After": "12"}, "")
	_, err = client.FetchRecords(ctx, sdk.FetchRequest{Credentials: creds, IDs: []string{"5000", "5001"}})
	var se *sdk.Error
	if !errors.As(err, &se) || se.Class != sdk.ClassRateLimited || se.RetryAfter != 12*time.Second {
		t.Fatalf("429 over gRPC: %#v", err)
	}
}
