package main

import (
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"testing"

	"github.com/callgate/callgate/plugins/hubspot"
)

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestHubSpotProjectExample checks the sample HubSpot project app that
// docs/hubspot.md walks through: the files are where HubSpot's project
// layout wants them, the target URL is callgate's webhook URL with the
// parameters it needs, every subscription is one the HubSpot plugin
// understands, and the app asks for the scope contacts are read with.
func TestHubSpotProjectExample(t *testing.T) {
	const dir = "examples/hubspot-project/"
	var project struct {
		Name            string `json:"name"`
		SrcDir          string `json:"srcDir"`
		PlatformVersion string `json:"platformVersion"`
	}
	readJSON(t, dir+"hsproject.json", &project)
	if project.SrcDir != "src" || project.PlatformVersion == "" || project.Name == "" {
		t.Errorf("hsproject.json = %+v", project)
	}

	var app struct {
		UID    string `json:"uid"`
		Type   string `json:"type"`
		Config struct {
			Name         string `json:"name"`
			Distribution string `json:"distribution"`
			Auth         struct {
				Type           string   `json:"type"`
				RequiredScopes []string `json:"requiredScopes"`
			} `json:"auth"`
		} `json:"config"`
	}
	readJSON(t, dir+"src/app/app-hsmeta.json", &app)
	if app.Type != "app" || app.UID == "" || app.Config.Name == "" {
		t.Errorf("app-hsmeta.json: uid %q type %q name %q", app.UID, app.Type, app.Config.Name)
	}
	// A static token (the access_token callgate reads with) needs private distribution.
	if app.Config.Auth.Type != "static" || app.Config.Distribution != "private" {
		t.Errorf("app-hsmeta.json: auth %q, distribution %q; want static, private", app.Config.Auth.Type, app.Config.Distribution)
	}
	for _, scope := range []string{"crm.objects.contacts.read", "crm.schemas.contacts.read"} {
		if !slices.Contains(app.Config.Auth.RequiredScopes, scope) {
			t.Errorf("app-hsmeta.json does not require %s", scope)
		}
	}

	var hooks struct {
		UID    string `json:"uid"`
		Type   string `json:"type"`
		Config struct {
			Settings struct {
				TargetURL             string `json:"targetUrl"`
				MaxConcurrentRequests int    `json:"maxConcurrentRequests"`
			} `json:"settings"`
			Subscriptions map[string][]struct {
				SubscriptionType string `json:"subscriptionType"`
				ObjectType       string `json:"objectType"`
				PropertyName     string `json:"propertyName"`
				Active           bool   `json:"active"`
			} `json:"subscriptions"`
		} `json:"config"`
	}
	readJSON(t, dir+"src/app/webhooks/webhooks-hsmeta.json", &hooks)
	if hooks.Type != "webhooks" || hooks.UID == "" || hooks.UID == app.UID {
		t.Errorf("webhooks-hsmeta.json: uid %q (the app's: %q), type %q", hooks.UID, app.UID, hooks.Type)
	}
	u, err := url.Parse(hooks.Config.Settings.TargetURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "https" || u.Path != "/call/crm-webhook" || q.Get("type") != "hubspot" || q.Get("agent_id") == "" || q.Get("x_api_key") == "" {
		t.Errorf("targetUrl %q is not callgate's webhook URL (https, /call/crm-webhook, type=hubspot, agent_id, x_api_key)", u)
	}
	if hooks.Config.Settings.MaxConcurrentRequests < 1 {
		t.Errorf("maxConcurrentRequests = %d", hooks.Config.Settings.MaxConcurrentRequests)
	}
	known := hubspot.EventTypes()
	n := 0
	for group, subs := range hooks.Config.Subscriptions {
		for _, s := range subs {
			n++
			if !slices.Contains(known, s.SubscriptionType) {
				t.Errorf("%s subscription %q is not one the HubSpot plugin understands (%v)", group, s.SubscriptionType, known)
			}
			if group == "crmObjects" && s.ObjectType != "contact" {
				t.Errorf("crmObjects subscription %s is for %q, want contact", s.SubscriptionType, s.ObjectType)
			}
			if s.SubscriptionType == "object.propertyChange" && s.PropertyName == "" {
				t.Errorf("a property change subscription names no property")
			}
			if !s.Active {
				t.Errorf("subscription %s is not active", s.SubscriptionType)
			}
		}
	}
	if n == 0 {
		t.Error("webhooks-hsmeta.json subscribes to nothing")
	}
}
