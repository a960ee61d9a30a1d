package e2e

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// TestReloadSlipsAreNotOutages: SIGHUP with an empty file is refused and
// webhooks keep working; an agent removed while its events are pending
// leaves them waiting with a reason, and they are called when it comes back.
func TestReloadSlipsAreNotOutages(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	good := webhookConfig(hs.URL, platform.URL)
	g := startGateway(t, good)
	hs.AddContact("601", map[string]any{"firstname": "Ada", "mobilephone": "+91 98765 43210"})

	t.Run("an empty file is refused", func(t *testing.T) {
		g.WriteConfig("")
		g.Signal(syscall.SIGHUP)
		g.WaitForOutput("config reload refused: the running config stays")
		for _, want := range []string{
			"[ERROR] callgate: config reload refused: reason=\"" + g.ConfigPath + " has no agent blocks, but the running config has 1 (sales)",
			"has no api_key blocks, but the running config has 1 (hubspot)",
			"has no server.admin_token_sha256",
		} {
			if !strings.Contains(g.Output(), want) {
				t.Errorf("log lacks %q", want)
			}
		}
		if status, body := sendHubSpot(g, creation(601, time.Now(), 0)); status != http.StatusOK {
			t.Fatalf("webhook after the refused reload = %d %s, want 200", status, body)
		}
		waitFor(t, 15*time.Second, "the call at the dialer", func() bool { return len(platform.Dials()) == 1 })
	})

	t.Run("a removed agent's pending events wait and go on when it is back", func(t *testing.T) {
		// Contact 602 is not readable yet (HubSpot's lag after creation):
		// its event is pending when the agent goes.
		hs.AddContact("602", map[string]any{"firstname": "Bo", "mobilephone": "+91 98765 43211"})
		hs.HideFor("602", 1000)
		if status, body := sendHubSpot(g, creation(602, time.Now(), 0)); status != http.StatusOK {
			t.Fatalf("webhook = %d %s", status, body)
		}
		pending := func() []store.Event {
			var page struct{ Events []store.Event }
			adminJSON(t, g, "/api/v1/events?status=pending", &page)
			return page.Events
		}
		waitFor(t, 10*time.Second, "the event pending on its record", func() bool {
			evs := pending()
			return len(evs) == 1 && strings.Contains(evs[0].Reason, "not found yet")
		})
		without := strings.NewReplacer(`agents = ["sales"]`, `agents = ["support"]`, `agent "sales" {`, `agent "support" {`).Replace(good)
		g.WriteConfig(without)
		g.Signal(syscall.SIGHUP)
		g.WaitForOutput("config reloaded")
		// The record's next read is due 2s after the first: the agent is gone by then.
		waitFor(t, 15*time.Second, "the event waiting for its agent", func() bool {
			evs := pending()
			return len(evs) == 1 && strings.Contains(evs[0].Reason, `agent "sales" is not in the config (since `) &&
				strings.Contains(evs[0].Reason, "waiting up to 24h0m0s (server.orphan_grace) for it to come back")
		})

		hs.HideFor("602", 0)
		g.WriteConfig(good)
		g.Signal(syscall.SIGHUP)
		waitFor(t, 15*time.Second, "the call to Bo", func() bool { return len(platform.Dials()) == 2 })
		if evs := pending(); len(evs) != 0 {
			t.Fatalf("still pending: %+v", evs)
		}
	})
}
