package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// eraseConfig is webhookConfig with a call window that opens in a few
// hours (carry_over on), so calls stay scheduled, and a notify URL that
// keeps failing, so notifications wait in the outbox.
func eraseConfig(hubspotURL, dialerURL, notifyURL string) string {
	now := time.Now().In(kolkata())
	start, end := now.Add(3*time.Hour).Format("15:04"), now.Add(4*time.Hour).Format("15:04")
	return fmt.Sprintf(`
server {
  listen             = "{{.Listen}}"
  public_url         = "{{.PublicURL}}"
  data_dir           = "{{.DataDir}}"
  admin_token_sha256 = [%q]
  default_timezone   = "Asia/Kolkata"
  notify             = [%q]
}
api_key "hubspot" {
  sha256 = %q
  agents = ["sales"]
}
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
}
dialer "voice" {
  type   = "http"
  url    = %q
  secret = "e2e-dialer-secret"
}
agent "sales" {
  dialer       = "voice"
  integrations = ["hubspot"]
  variables    = { firstname = "contact.firstname ?? 'there'" }
  window {
    start      = %q
    end        = %q
    carry_over = true
  }
}
`, e2eAdminTokenSHA, notifyURL, sha256Hex(webhookAPIKey), hubspottest.DefaultToken, hubspotSecret, hubspotURL, dialerURL, start, end)
}

func kolkata() *time.Location {
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		panic(err)
	}
	return loc
}

// hubspotEvent is a contact event of subscription type typ for id.
func hubspotEvent(id, eventID int64, typ string) hubspottest.Event {
	return hubspottest.Event{EventID: eventID, SubscriptionID: 7, PortalID: 62515, AppID: 54321, OccurredAt: time.Now().UnixMilli(),
		SubscriptionType: typ, ObjectID: id, ChangeSource: "CRM_UI"}
}

// callOf returns the call made for HubSpot contact id (as the API shows it).
func callOf(t *testing.T, g *gateway, id string) (store.Call, bool) {
	t.Helper()
	var list struct{ Calls []store.Call }
	adminJSON(t, g, "/api/v1/calls?limit=500", &list)
	for _, c := range list.Calls {
		if c.Source.ObjectID == id {
			return c, true
		}
	}
	return store.Call{}, false
}

// TestContactDeletionAndErasure: contact.deletion cancels the contact's
// scheduled call with the reason; contact.privacyDeletion also erases the
// person, so their number and name are in no API answer, dashboard page,
// metric, log line or backup taken after; `callgate contacts erase` does
// the same for an operator.
func TestContactDeletionAndErasure(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	notify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
	}))
	t.Cleanup(notify.Close)
	// The erased person: number and name in every form they could take.
	const erasedName = "Gwendolyn"
	erased := []string{"+919876543602", "919876543602", "9876543602", "98765 43602", erasedName}
	hs.AddContact("601", map[string]any{"firstname": "Ada", "mobilephone": "+91 98765 43601"})
	hs.AddContact("602", map[string]any{"firstname": erasedName, "mobilephone": "+91 98765 43602"})
	hs.AddContact("603", map[string]any{"firstname": "Cyrus", "mobilephone": "+91 98765 43603"})
	g := startGateway(t, eraseConfig(hs.URL, platform.URL, notify.URL))

	for i, id := range []int64{601, 602, 603} {
		if status, body := sendHubSpot(g, hubspotEvent(id, int64(100+i), "contact.creation")); status != http.StatusOK {
			t.Fatalf("creation of %d = %d %s", id, status, body)
		}
	}
	waitFor(t, 15*time.Second, "three scheduled calls", func() bool {
		for _, id := range []string{"601", "602", "603"} {
			if c, ok := callOf(t, g, id); !ok || c.Status != store.CallScheduled {
				return false
			}
		}
		return true
	})

	t.Run("deletion cancels", func(t *testing.T) {
		if status, body := sendHubSpot(g, hubspotEvent(601, 200, "contact.deletion")); status != http.StatusOK || !strings.Contains(string(body), `"accepted":1`) {
			t.Fatalf("deletion = %d %s", status, body)
		}
		var c store.Call
		waitFor(t, 15*time.Second, "contact 601's call canceled", func() bool {
			c, _ = callOf(t, g, "601")
			return c.Status == store.CallCanceled
		})
		if c.Reason != "contact deleted in HubSpot" || c.ToNumber != "+919876543601" {
			t.Errorf("canceled call = %q %q", c.Reason, c.ToNumber)
		}
		// The event is saved with the rest of its batch, just after the
		// cancel it caused.
		waitFor(t, 15*time.Second, "the deletion event ignored with its reason", func() bool {
			var evs struct{ Events []store.Event }
			adminJSON(t, g, "/api/v1/events?status=ignored&limit=100", &evs)
			for _, ev := range evs.Events {
				if ev.EventType == "contact.deletion" && ev.Reason == "contact 601 deleted in HubSpot: canceled 1 pending call" {
					return true
				}
			}
			return false
		})
	})

	t.Run("privacy deletion erases", func(t *testing.T) {
		if status, body := sendHubSpot(g, hubspotEvent(602, 300, "contact.privacyDeletion")); status != http.StatusOK {
			t.Fatalf("privacy deletion = %d %s", status, body)
		}
		var c store.Call
		waitFor(t, 15*time.Second, "contact 602's call erased", func() bool {
			c, _ = callOf(t, g, "602")
			return c.ErasedAt != nil
		})
		if c.Status != store.CallCanceled || c.Reason != "contact deleted in HubSpot (privacy deletion)" || c.ToNumber != store.Erased ||
			c.Variables["firstname"] != store.Erased {
			t.Errorf("erased call = %+v", c)
		}
		// HubSpot also sends contact.deletion, in its own batch.
		if status, body := sendHubSpot(g, hubspotEvent(602, 301, "contact.deletion")); status != http.StatusOK {
			t.Fatalf("deletion after the erasure = %d %s", status, body)
		}
		waitFor(t, 15*time.Second, "the later deletion settled", func() bool {
			var evs struct{ Events []store.Event }
			adminJSON(t, g, "/api/v1/events?status=ignored&limit=100", &evs)
			for _, ev := range evs.Events {
				if ev.ObjectID == "602" && ev.EventType == "contact.deletion" {
					return true
				}
			}
			return false
		})
		holds := func(where string, b []byte) {
			t.Helper()
			for _, p := range erased {
				if bytes.Contains(b, []byte(p)) {
					t.Errorf("%s holds %q", where, p)
				}
			}
		}
		get := func(path string) []byte {
			t.Helper()
			status, body := g.Do(http.MethodGet, path, nil, http.Header{"Authorization": {"Bearer " + e2eAdminToken}})
			if status != http.StatusOK {
				t.Fatalf("GET %s = %d %s", path, status, body)
			}
			return body
		}
		for _, path := range []string{"/api/v1/calls?limit=500", "/api/v1/calls/" + c.ID, "/api/v1/events?limit=500",
			"/api/v1/outbox?limit=500", "/api/v1/outbox?dead=true&limit=500", "/api/v1/dnd"} {
			holds(path, get(path))
		}
		if b := get("/api/v1/outbox?limit=500"); !bytes.Contains(b, []byte(c.ID)) {
			t.Errorf("the cancellation's notification is not in the outbox: %s", b)
		}
		_, metrics := g.Do(http.MethodGet, "/metrics", nil, nil)
		holds("/metrics", metrics)

		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		resp, err := browser.PostForm(g.URL+"/ui/login", url.Values{"token": {e2eAdminToken}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, page := range []string{"/ui/calls", "/ui/calls/" + c.ID, "/ui/events"} {
			resp, err := browser.Get(g.URL + page)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(c.ID)) && page != "/ui/events" {
				t.Fatalf("dashboard %s = %d (signed in?)", page, resp.StatusCode)
			}
			holds("dashboard "+page, body)
		}

		holds("GET /api/v1/backup", get("/api/v1/backup"))
		out := filepath.Join(t.TempDir(), "backup.db")
		env := []string{"CALLGATE_ADDR=" + g.URL, "CALLGATE_TOKEN=" + e2eAdminToken}
		if r := runCLI(t, env, "backup", "--out", out); r.Code != 0 {
			t.Fatalf("callgate backup: %d %s", r.Code, r.Stderr)
		}
		backup, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		holds("callgate backup", backup)
		if !bytes.Contains(backup, []byte("+919876543603")) {
			t.Error("the backup lost the bystander's call")
		}
		holds("the gateway's log", []byte(g.Output()))
	})

	t.Run("operator erasure through the CLI", func(t *testing.T) {
		env := []string{"CALLGATE_ADDR=" + g.URL, "CALLGATE_TOKEN=" + e2eAdminToken}
		r := runCLI(t, env, "contacts", "erase", "--number", "098765 43603")
		if r.Code != 0 || !strings.Contains(r.Stdout, "canceled 1 call(s)") || !strings.Contains(r.Stdout, "erased 1 call(s)") {
			t.Fatalf("contacts erase = %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
		}
		c, _ := callOf(t, g, "603")
		if c.Status != store.CallCanceled || c.ToNumber != store.Erased || c.Reason != "the person's data was erased by an operator" {
			t.Errorf("call after the operator's erasure = %+v", c)
		}
		if r := runCLI(t, env, "contacts", "erase", "--contact", "salesforce:1"); r.Code == 0 || !strings.Contains(r.Stderr, "contact_type") {
			t.Errorf("erase of an unknown type = %d %s", r.Code, r.Stderr)
		}
	})
	if len(platform.Dials()) != 0 {
		t.Errorf("the dialer was reached %d times; every call waited for its window", len(platform.Dials()))
	}
}
