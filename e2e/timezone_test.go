package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// timezoneConfig has one agent per timezone setting, a server default that
// is neither India's nor any US zone, and a log dialer.
func timezoneConfig(hubspotURL string) string {
	return fmt.Sprintf(`
server {
  listen             = "{{.Listen}}"
  public_url         = "{{.PublicURL}}"
  data_dir           = "{{.DataDir}}"
  admin_token_sha256 = [%q]
  default_timezone   = "Europe/Lisbon"
}
api_key "hubspot" {
  sha256 = %q
}
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
}
dialer "log" {
  type = "log"
}
agent "by-number" {
  timezone = "callee"
}
agent "chicago" {
  timezone = "America/Chicago"
}
agent "by-record" {
  timezone = "contact"
}
`, e2eAdminTokenSHA, sha256Hex(webhookAPIKey), hubspottest.DefaultToken, hubspotSecret, hubspotURL)
}

// sendHubSpotTo posts a signed contact.creation for id to agent with the
// extra query (such as "&timezone=callee").
func sendHubSpotTo(t *testing.T, g *gateway, agent, query string, id int64) {
	t.Helper()
	path := "/call/crm-webhook?type=hubspot&agent_id=" + agent + "&x_api_key=" + webhookAPIKey + query
	body, _ := json.Marshal([]hubspottest.Event{creation(id, time.Now().Add(-time.Second), 0)})
	h := hubspottest.Sign(hubspotSecret, "v3", http.MethodPost, g.URL+path, body, time.Now())
	if status, resp := g.Do(http.MethodPost, path, bytes.NewReader(body), h); status != http.StatusOK {
		t.Fatalf("webhook to %s = %d %s", agent, status, resp)
	}
}

// agentCall waits for the agent's one call and reads it back by id.
func agentCall(t *testing.T, g *gateway, agent string) store.Call {
	t.Helper()
	var list struct {
		Calls []store.Call `json:"calls"`
	}
	waitFor(t, 15*time.Second, "a call for agent "+agent, func() bool {
		adminJSON(t, g, "/api/v1/calls?agent_id="+agent, &list)
		return len(list.Calls) > 0
	})
	var c store.Call
	adminJSON(t, g, "/api/v1/calls/"+list.Calls[0].ID, &c)
	return c
}

// TestCallTimezoneRule: the one timezone rule through the real binary.
// A +1 800 number is in every US zone, so "callee" falls back (to the
// agent's zone, else the server's) and the call says so; an Indian number
// is called in Asia/Kolkata (the current name, not phonenumbers'
// Asia/Calcutta); "contact" reads HubSpot's hs_timezone.
func TestCallTimezoneRule(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	hs.AddContact("801", map[string]any{"firstname": "Toll", "phone": "+1 800 555 1234"})
	hs.AddContact("802", map[string]any{"firstname": "Ravi", "mobilephone": "+91 98765 43210"})
	hs.AddContact("803", map[string]any{"firstname": "Nora", "mobilephone": "+44 20 7123 4567", "hs_timezone": "america_slash_new_york"})
	hs.AddContact("804", map[string]any{"firstname": "Zed", "mobilephone": "+44 20 7123 4568"})
	if props, _ := hs.Contact("803"); props["hs_timezone"] != "america_slash_new_york" {
		t.Fatalf("the fake keeps hs_timezone as %q", props["hs_timezone"])
	}
	g := startGateway(t, timezoneConfig(hs.URL))

	// timezone=callee on an agent with its own zone: the agent's zone.
	sendHubSpotTo(t, g, "chicago", "&timezone=callee", 801)
	c := agentCall(t, g, "chicago")
	if c.Policy.Timezone != "America/Chicago" ||
		!strings.Contains(c.Policy.TimezoneNote, "the number is in several timezones") ||
		!strings.Contains(c.Policy.TimezoneNote, "called in the agent's timezone America/Chicago") {
		t.Errorf("+1 800 with timezone=callee: policy %+v", c.Policy)
	}

	// An agent that follows the number: India is Asia/Kolkata.
	sendHubSpotTo(t, g, "by-number", "", 802)
	c = agentCall(t, g, "by-number")
	if c.Policy.Timezone != "Asia/Kolkata" || c.Policy.TimezoneNote != "" {
		t.Errorf("Indian number on a callee agent: policy %+v", c.Policy)
	}

	// The same agent with the toll-free number: no zone of its own, so
	// the server's default, and the note says so.
	var list struct {
		Calls []store.Call `json:"calls"`
	}
	sendHubSpotTo(t, g, "by-number", "", 801)
	waitFor(t, 15*time.Second, "the second by-number call", func() bool {
		adminJSON(t, g, "/api/v1/calls?agent_id=by-number", &list)
		return len(list.Calls) == 2
	})
	for _, lc := range list.Calls {
		if lc.ToNumber != "+18005551234" {
			continue
		}
		adminJSON(t, g, "/api/v1/calls/"+lc.ID, &c)
		if c.Policy.Timezone != "Europe/Lisbon" || !strings.Contains(c.Policy.TimezoneNote, "called in the server's default timezone Europe/Lisbon") {
			t.Errorf("+1 800 on a callee agent: policy %+v", c.Policy)
		}
	}

	// An agent that follows the record: hs_timezone america_slash_new_york.
	sendHubSpotTo(t, g, "by-record", "", 803)
	c = agentCall(t, g, "by-record")
	if c.Policy.Timezone != "America/New_York" || c.Policy.TimezoneNote != "" {
		t.Errorf("hs_timezone america_slash_new_york: policy %+v", c.Policy)
	}

	// A record without hs_timezone: the server's default, with the note.
	sendHubSpotTo(t, g, "by-record", "", 804)
	waitFor(t, 15*time.Second, "the second by-record call", func() bool {
		adminJSON(t, g, "/api/v1/calls?agent_id=by-record", &list)
		return len(list.Calls) == 2
	})
	for _, lc := range list.Calls {
		if lc.ToNumber != "+442071234568" {
			continue
		}
		adminJSON(t, g, "/api/v1/calls/"+lc.ID, &c)
		if c.Policy.Timezone != "Europe/Lisbon" || !strings.Contains(c.Policy.TimezoneNote, "contact: the record has no timezone") {
			t.Errorf("record without hs_timezone: policy %+v", c.Policy)
		}
	}

	// /call/outbound has no record: timezone=contact falls back, with a note.
	status, body := g.Do(http.MethodPost, "/call/outbound",
		strings.NewReader(`{"to_number":"+919876500002","agent_id":"chicago","timezone":"contact"}`),
		http.Header{"X-API-KEY": {webhookAPIKey}, "Content-Type": {"application/json"}})
	var queued struct {
		CallSID string `json:"call_sid"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &queued) != nil {
		t.Fatalf("outbound = %d %s", status, body)
	}
	adminJSON(t, g, "/api/v1/calls/"+queued.CallSID, &c)
	if c.Policy.Timezone != "America/Chicago" || !strings.Contains(c.Policy.TimezoneNote, "no CRM record") {
		t.Errorf("outbound timezone=contact: policy %+v", c.Policy)
	}
}
