package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
)

const (
	lsqAPIKey     = "e2e-lsq-api-key"
	lsqAdminToken = "e2e-lsq-admin-token"
)

func lsqSHA(s string) string { b := sha256.Sum256([]byte(s)); return hex.EncodeToString(b[:]) }

// leadsquaredConfig: an agent on a LeadSquared integration that calls new
// leads through a fake voice platform, mapping name ← FirstName,
// company ← Company, city ← mx_City, phone ← Mobile, then Phone.
func leadsquaredConfig(lsq *leadsquaredtest.Server, dialURL string) string {
	return fmt.Sprintf(`
server {
  listen             = "{{.Listen}}"
  data_dir           = "{{.DataDir}}"
  admin_token_sha256 = [%q]
}
api_key "leadsquared" {
  sha256 = %q
  agents = ["lead-intro"]
}
integration "leadsquared" {
  host_url   = %q
  access_key = %q
  secret_key = %q
}
dialer "voice" {
  type   = "http"
  url    = %q
  secret = "e2e-lsq-dialer-secret"
}
agent "lead-intro" {
  dialer       = "voice"
  integrations = ["leadsquared"]
  phone_fields = ["Mobile", "Phone"]
  when         = "event.kind == 'created' && !(contact.DoNotCall ?? false)"
  variables = {
    name    = "contact.FirstName"
    company = "contact.Company ?? ''"
    city    = "contact.mx_City ?? ''"
  }
  required_variables = ["name"]
}
`, lsqSHA(lsqAdminToken), lsqSHA(lsqAPIKey), lsq.URL, lsq.AccessKey(), lsq.SecretKey(), dialURL)
}

// TestLeadSquaredLeadBecomesACall drives the real binary: LeadSquared's
// Lead Creation webhook (JSON, key in the X-API-KEY header) becomes a call
// with the lead's fields as variables; a redelivery and a later Lead Update
// make no second call; a form-encoded lead with only a Phone is called on
// that number; text/plain is refused with the types the plugin declares,
// and a form lead the plugin cannot use is its 400. The lead travels inline: the fake
// LeadSquared API is asked for no lead, only for its lead fields (the field check).
func TestLeadSquaredLeadBecomesACall(t *testing.T) {
	lsq := leadsquaredtest.New(leadsquaredtest.Options{})
	t.Cleanup(lsq.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	g := startGateway(t, leadsquaredConfig(lsq, platform.URL))
	created := time.Now().UTC().Truncate(time.Second)
	lead := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{
		FirstName: "Asha", LastName: "Rao", Mobile: "+91-9876543210", Company: "Acme Learning", City: "Pune", CreatedOn: created,
	})

	post := func(contentType string, body []byte, useHeader bool) (int, map[string]any) {
		t.Helper()
		path := "/call/crm-webhook?type=leadsquared&agent_id=lead-intro"
		key := ""
		if useHeader {
			key = lsqAPIKey
		} else {
			path += "&x_api_key=" + lsqAPIKey
		}
		status, raw := g.Do(http.MethodPost, path, bytes.NewReader(body), leadsquaredtest.WebhookHeaders(contentType, key))
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		if out == nil {
			out = map[string]any{"raw": string(raw)}
		}
		return status, out
	}

	status, out := post(leadsquaredtest.ContentJSON, leadsquaredtest.WebhookBody(lead), true)
	if status != 200 || out["accepted"] != 1.0 {
		t.Fatalf("lead creation webhook = %d %v", status, out)
	}
	waitLSQ(t, "the lead is dialed", func() bool { return len(platform.Dials()) == 1 })
	d := platform.Dials()[0]
	var dial struct {
		ToNumber  string            `json:"to_number"`
		Variables map[string]string `json:"variables"`
		Contact   struct{ Type, ObjectID string }
	}
	if err := json.Unmarshal(d.Body, &dial); err != nil {
		t.Fatal(err)
	}
	if dial.ToNumber != "+919876543210" {
		t.Errorf("dialed %q, want +919876543210", dial.ToNumber)
	}
	if want := map[string]string{"name": "Asha", "company": "Acme Learning", "city": "Pune"}; fmt.Sprint(dial.Variables) != fmt.Sprint(want) {
		t.Errorf("variables = %v, want %v", dial.Variables, want)
	}

	t.Run("a redelivery is a duplicate", func(t *testing.T) {
		status, out := post(leadsquaredtest.ContentJSON, leadsquaredtest.WebhookBody(lead), false)
		if status != 200 || out["duplicates"] != 1.0 {
			t.Fatalf("redelivery = %d %v", status, out)
		}
	})

	t.Run("a lead update is not a new lead", func(t *testing.T) {
		lead["ModifiedOn"] = created.Add(10 * time.Minute)
		lead["ProspectStage"] = "Opportunity"
		status, out := post(leadsquaredtest.ContentJSON, leadsquaredtest.WebhookBody(lead), true)
		if status != 200 || out["accepted"] != 1.0 {
			t.Fatalf("update = %d %v", status, out)
		}
		waitLSQ(t, "the update is ignored", func() bool {
			evs := lsqEvents(t, g)
			for _, e := range evs {
				if e.EventType == "lead.update" {
					return e.Status == "ignored"
				}
			}
			return false
		})
	})

	t.Run("a form-encoded lead with only a Phone", func(t *testing.T) {
		other := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Kiran", Phone: "+91-8012345678", CreatedOn: created})
		status, out := post(leadsquaredtest.ContentForm, leadsquaredtest.FormBody(other), true)
		if status != 200 || out["accepted"] != 1.0 {
			t.Fatalf("form webhook = %d %v", status, out)
		}
		waitLSQ(t, "the second lead is dialed", func() bool { return len(platform.Dials()) == 2 })
		if got := platform.Dials()[1].ToNumber; got != "+918012345678" {
			t.Errorf("dialed %q, want +918012345678", got)
		}
	})

	t.Run("a Do Not Call lead is not called", func(t *testing.T) {
		dnc := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Ravi", Mobile: "+91-9000000009", DoNotCall: true, CreatedOn: created})
		status, out := post(leadsquaredtest.ContentJSON, leadsquaredtest.WebhookBody(dnc), true)
		if status != 200 || out["accepted"] != 1.0 {
			t.Fatalf("webhook = %d %v", status, out)
		}
		waitLSQ(t, "the DoNotCall lead is ignored", func() bool {
			n := 0
			for _, e := range lsqEvents(t, g) {
				if e.Status == "ignored" {
					n++
				}
			}
			return n == 2 // the update above, and this lead
		})
	})

	t.Run("text/plain is refused naming the plugin's types", func(t *testing.T) {
		// The plugin's manifest declares what it parses; the gateway
		// refuses the rest before calling it.
		status, out := post("text/plain", leadsquaredtest.WebhookBody(lead), true)
		msg := fmt.Sprint(out["message"])
		if status != http.StatusUnsupportedMediaType || !strings.Contains(msg, `"text/plain"`) ||
			!strings.Contains(msg, "application/json") || !strings.Contains(msg, "application/x-www-form-urlencoded") {
			t.Fatalf("text/plain = %d %v", status, out)
		}
	})

	t.Run("a form lead without ProspectID is the plugin's 400", func(t *testing.T) {
		status, out := post(leadsquaredtest.ContentForm, []byte("FirstName=Ada&Mobile=%2B91-9876543210"), true)
		if status != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["message"]), "ProspectID") {
			t.Fatalf("form without ProspectID = %d %v", status, out)
		}
	})

	if n := len(platform.Dials()); n != 2 {
		t.Errorf("%d dials, want 2 (one per lead)", n)
	}
	// The only call before the plugins page is the field check's read of
	// the account's lead fields (LeadsMetaData.Get) at start: no lead is read.
	waitFor(t, 10*time.Second, "the field check's read of the lead fields", func() bool { return len(lsq.Requests()) > 0 })
	for _, r := range lsq.Requests() {
		if !strings.Contains(r.Path, "LeadsMetaData.Get") {
			t.Errorf("the gateway asked LeadSquared for %s; the webhook carries the lead", r.Path)
		}
	}
	before := len(lsq.Requests())

	t.Run("the plugins page checks the keys", func(t *testing.T) {
		status, raw := g.Do(http.MethodGet, "/api/v1/plugins", nil, http.Header{"Authorization": {"Bearer " + lsqAdminToken}})
		var list struct {
			Plugins      []struct{ Name, State string }
			Integrations []struct {
				Name, Type  string
				Credentials struct {
					OK    bool   `json:"ok"`
					Error string `json:"error"`
				}
			}
		}
		if err := json.Unmarshal(raw, &list); err != nil || status != 200 {
			t.Fatalf("GET /api/v1/plugins = %d %s", status, raw)
		}
		found := false
		for _, in := range list.Integrations {
			if in.Name == "leadsquared" {
				found = true
				if in.Type != "leadsquared" || !in.Credentials.OK {
					t.Errorf("integration = %+v", in)
				}
			}
		}
		if !found {
			t.Errorf("no leadsquared integration in %s", raw)
		}
		reqs := lsq.Requests()[before:]
		if len(reqs) != 1 || reqs[0].KeysInQuery || !strings.Contains(reqs[0].Path, "LeadsMetaData.Get") {
			t.Errorf("the check made LeadSquared see %+v, want one metadata call with the keys in headers", reqs)
		}
	})
}

type lsqEvent struct {
	EventType string `json:"event_type"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Reason    string `json:"reason"`
}

func lsqEvents(t *testing.T, g *gateway) []lsqEvent {
	t.Helper()
	status, raw := g.Do(http.MethodGet, "/api/v1/events", nil, http.Header{"Authorization": {"Bearer " + lsqAdminToken}})
	var out struct{ Events []lsqEvent }
	if err := json.Unmarshal(raw, &out); err != nil || status != 200 {
		t.Fatalf("GET /api/v1/events = %d %s", status, raw)
	}
	return out.Events
}

func waitLSQ(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}
