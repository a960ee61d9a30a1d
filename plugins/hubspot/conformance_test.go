package hubspot_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// TestConformance runs the SDK's conformance suite on the plugin in
// process, over the real gRPC boundary, with every golden webhook payload
// signed (v3) as HubSpot would sign it.
func TestConformance(t *testing.T) {
	srv := hubspottest.New(hubspottest.Options{})
	defer srv.Close()
	const secret = "3c2d9a8e-7f41-4b6a-9c0e-5d1f2a3b4c5d"
	url := "https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=sales-intro"
	files, err := filepath.Glob("testdata/webhooks/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads: %v", err)
	}
	var webhooks []sdktest.Webhook
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		webhooks = append(webhooks, sdktest.Webhook{
			Name:    strings.TrimSuffix(filepath.Base(f), ".json"),
			Request: sdk.WebhookRequest{Method: "POST", URL: url, Body: body},
		})
	}
	// Five contacts in the listing's range (two at the same instant), one
	// before it and one at its end (excluded).
	since := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	srv.AddContactAt("7001", since.Add(-time.Second), time.Time{}, nil)
	var want []string
	for i, d := range []time.Duration{0, time.Minute, time.Minute, 2 * time.Minute, 59 * time.Minute} {
		want = append(want, srv.AddContactAt(strconv.Itoa(7010+i), since.Add(d), time.Time{}, nil))
	}
	srv.AddContactAt("7099", since.Add(time.Hour), time.Time{}, nil)
	callee := srv.AddContact("", map[string]any{"firstname": "Ada"})
	sdktest.Conformance(t, sdktest.Plugin{Impl: hubspot.New()}, sdktest.Fixtures{
		LogCall: &sdk.LogCallRequest{ObjectType: "contact", ObjectID: callee, Key: "01JDCONF-1",
			Call:  sdk.LoggedCall{Direction: sdk.DirectionOutbound, Outcome: "completed", Duration: time.Minute, StartedAt: since, Title: "AI call"},
			Tasks: []sdk.FollowUpTask{{Title: "Call back", Due: since.Add(24 * time.Hour)}}},
		Listing: &sdktest.Listing{ObjectType: "contact", Since: since, Until: since.Add(time.Hour), Want: want},
		Credentials: sdk.Credentials{
			hubspot.CredAccessToken:  srv.Token(),
			hubspot.CredClientSecret: secret,
			hubspot.CredBaseURL:      srv.URL,
		},
		Webhooks: webhooks,
		Prepare: func(req *sdk.WebhookRequest) {
			now := time.Now()
			req.Headers = hubspottest.Sign(secret, "v3", req.Method, req.URL, req.Body, now)
			req.ReceivedAt = now
		},
	})
}
