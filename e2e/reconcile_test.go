package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// reconcileConfig reconciles the fake HubSpot every second with no settle
// delay; the log dialer completes every call.
func reconcileConfig(hubspotURL string) string {
	return fmt.Sprintf(`
server {
  listen             = "{{.Listen}}"
  public_url         = "{{.PublicURL}}"
  data_dir           = "{{.DataDir}}"
  admin_token_sha256 = [%q]
}
api_key "hubspot" {
  sha256 = %q
  agents = ["sales"]
}
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
  reconcile {
    every    = "1s"
    lookback = "1h"
    settle   = "0s"
  }
}
dialer "log" {
  type = "log"
}
agent "sales" {
  dialer       = "log"
  integrations = ["hubspot"]
  when         = "event.kind == 'created'"
  variables = {
    firstname = "contact.firstname ?? 'there'"
  }
}
`, e2eAdminTokenSHA, sha256Hex(webhookAPIKey), hubspottest.DefaultToken, hubspotSecret, hubspotURL)
}

// TestReconciliationFindsMissedLeads: while webhooks were "off", three
// contacts were created in HubSpot; a fourth came by webhook. The gateway
// reconciles: exactly the three missed ones become reconciled events and
// are called; their late webhooks then arrive and nobody is called twice;
// after kill -9 the checkpoint holds (no reconciled event is added again);
// and the audit balances: 4 records, 0 leads not accounted for.
func TestReconciliationFindsMissedLeads(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	defer hs.Close()
	now := time.Now()
	for i := range 4 {
		id := fmt.Sprint(2001 + i)
		created := now.Add(-time.Duration(20-i) * time.Minute)
		hs.AddContactAt(id, created, created, map[string]any{"firstname": "Lead" + id, "mobilephone": fmt.Sprintf("+91987650%04d", 2001+i)})
	}
	cfg := reconcileConfig(hs.URL)
	g := launch(t, gatewayOptions{Config: cfg})
	// The one webhook that did arrive (the first pass comes a second after start).
	if status, body := sendHubSpot(g, creation(2001, now.Add(-20*time.Minute), 0)); status != http.StatusOK {
		t.Fatalf("webhook = %d %s", status, body)
	}

	type call struct {
		ID, Status string
		Source     struct {
			ObjectID string `json:"object_id"`
		} `json:"source"`
	}
	calls := func(g *gateway) map[string][]call {
		var list struct{ Calls []call }
		adminJSON(t, g, "/api/v1/calls?agent_id=sales&limit=100", &list)
		out := map[string][]call{}
		for _, c := range list.Calls {
			out[c.Source.ObjectID] = append(out[c.Source.ObjectID], c)
		}
		return out
	}
	waitFor(t, 30*time.Second, "a completed call for each of the four contacts", func() bool {
		byContact := calls(g)
		for i := range 4 {
			cs := byContact[fmt.Sprint(2001+i)]
			if len(cs) != 1 || cs[0].Status != "completed" {
				return false
			}
		}
		return true
	})

	type event struct {
		ID, Status, Reason string
		ObjectID           string `json:"object_id"`
		Reconciled         bool
	}
	events := func(g *gateway) []event {
		var list struct{ Events []event }
		adminJSON(t, g, "/api/v1/events?limit=100", &list)
		return list.Events
	}
	reconciled := func(g *gateway) map[string]int {
		out := map[string]int{}
		for _, e := range events(g) {
			if e.Reconciled {
				out[e.ObjectID]++
			}
		}
		return out
	}
	if got := reconciled(g); len(got) != 3 || got["2001"] != 0 || got["2002"] != 1 || got["2003"] != 1 || got["2004"] != 1 {
		t.Fatalf("reconciled events by contact = %v, want one each for 2002–2004 only", got)
	}

	// HubSpot's late redeliveries of the missed webhooks: accepted, called once.
	if status, body := sendHubSpot(g, creation(2002, now.Add(-19*time.Minute), 1), creation(2003, now.Add(-18*time.Minute), 1),
		creation(2004, now.Add(-17*time.Minute), 1)); status != http.StatusOK {
		t.Fatalf("late webhooks = %d %s", status, body)
	}
	waitFor(t, 15*time.Second, "the late webhooks processed", func() bool {
		late := 0
		for _, e := range events(g) {
			if !e.Reconciled && e.ObjectID != "2001" && e.Status != "pending" {
				late++
			}
		}
		return late == 3
	})
	for id, cs := range calls(g) {
		if len(cs) != 1 {
			t.Errorf("contact %s has %d calls, want 1", id, len(cs))
		}
	}

	// kill -9, then start again on the same data: the checkpoint survived.
	g.Crash()
	g2 := launch(t, gatewayOptions{Config: cfg, DataDir: g.DataDir})
	time.Sleep(3 * time.Second) // three more passes at every = 1s
	if got := reconciled(g2); len(got) != 3 || got["2002"] != 1 || got["2003"] != 1 || got["2004"] != 1 {
		t.Fatalf("after a restart, reconciled events by contact = %v, want still one each for 2002–2004", got)
	}
	if n := len(calls(g2)); n != 4 {
		t.Errorf("%d contacts called after the restart, want 4", n)
	}

	var audit api.AuditReport
	adminJSON(t, g2, "/api/v1/audit?since=2h", &audit)
	if audit.CRMRecords != 4 || audit.Reconciled != 3 || audit.Unaccounted != 0 || audit.Calls != 4 {
		raw, _ := json.Marshal(audit)
		t.Errorf("audit = %s; want 4 CRM records, 3 reconciled events, 4 calls, 0 unaccounted", raw)
	}
	cli := runCLI(t, nil, "--addr", g2.URL, "--token", e2eAdminToken, "audit", "--since", "2h")
	if cli.Code != 0 {
		t.Errorf("callgate audit: exit %d\n%s%s", cli.Code, cli.Stdout, cli.Stderr)
	}
	t.Logf("callgate audit:\n%s", cli.Stdout)
}
