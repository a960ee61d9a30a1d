package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

const (
	notifySecret     = "e2e-notify-secret"
	notifyDialSecret = "e2e-dialer-secret" // the http dialer's secret in webhookConfig
)

// notifyConfig is webhookConfig with server.notify (signed with
// notifySecret), the agent's own notify URL and write-back on.
func notifyConfig(hubspotURL, dialerURL, serverNotify, agentNotify string) string {
	cfg := webhookConfig(hubspotURL, dialerURL)
	server := fmt.Sprintf("notify             = [%q]\n  notify_secret      = %q\n  admin_token_sha256 =", serverNotify, notifySecret)
	agent := fmt.Sprintf("dialer       = \"voice\"\n  writeback    = true\n  notify       = [%q]", agentNotify)
	out := strings.Replace(cfg, "admin_token_sha256 =", server, 1)
	out = strings.Replace(out, `dialer       = "voice"`, agent, 1)
	if out == cfg || !strings.Contains(out, "writeback") {
		panic("notifyConfig: webhookConfig changed shape; update the insertions")
	}
	return out
}

// notification is one webhook a receiver got.
type notification struct {
	Header http.Header
	Body   []byte
}

// receiver is a notify URL: it records what it gets and answers 204.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []notification
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, notification{Header: req.Header.Clone(), Body: body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

// notifyEnvelope is the part of a notification the test checks.
type notifyEnvelope struct {
	Event string `json:"event"`
	Data  struct {
		CallSid       string            `json:"callSid"`
		Agent         string            `json:"agent"`
		To            string            `json:"to"`
		CallDuration  float64           `json:"call_duration"`
		HangupReason  string            `json:"hangup_reason"`
		CallMetadata  map[string]string `json:"call_metadata"`
		TryCount      int               `json:"try_count"`
		NextScheduled bool              `json:"next_call_scheduled"`
		EventID       string            `json:"event_id"`
		CallID        string            `json:"call_id"`
		Status        string            `json:"status"`
		Final         bool              `json:"final"`
		ToNumber      string            `json:"to_number"`
		Source        struct {
			Integration string `json:"integration"`
			ObjectID    string `json:"object_id"`
		} `json:"source"`
	} `json:"data"`
}

// final returns the call_ended notification that reports callID over.
func (r *receiver) final(callID string) (notification, notifyEnvelope, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		var env notifyEnvelope
		if json.Unmarshal(n.Body, &env) == nil && env.Event == "call_ended" && env.Data.CallID == callID && env.Data.Final {
			return n, env, true
		}
	}
	return notification{}, notifyEnvelope{}, false
}

// finals returns every final call_ended notification received.
func (r *receiver) finals() []notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []notification
	for _, n := range r.got {
		var env notifyEnvelope
		if json.Unmarshal(n.Body, &env) == nil && env.Event == "call_ended" && env.Data.Final {
			out = append(out, n)
		}
	}
	return out
}

func TestCallEndNotifiesAndWritesBack(t *testing.T) {
	hs := hubspottest.New(hubspottest.Options{})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	hs.AddContact("601", map[string]any{"firstname": "Grace", "company": "Compilers", "mobilephone": "+91 98765 43211"})
	serverHook, agentHook := newReceiver(t), newReceiver(t)
	g := startGateway(t, notifyConfig(hs.URL, platform.URL, serverHook.URL+"/hooks/callgate?token=t0k", agentHook.URL))

	if status, body := sendHubSpot(g, creation(601, time.Now().Add(-time.Second), 0)); status != http.StatusOK || !strings.Contains(string(body), `"accepted":1`) {
		t.Fatalf("webhook = %d %s", status, body)
	}
	waitFor(t, 15*time.Second, "the call at the dialer", func() bool { return len(platform.Dials()) > 0 })
	var req dialer.HTTPDialRequest
	if err := json.Unmarshal(platform.Dials()[0].Body, &req); err != nil {
		t.Fatal(err)
	}
	if codes, err := platform.Finish(context.Background(), http.DefaultClient, 0, "completed", notifyDialSecret, 1); err != nil || codes[0] != http.StatusOK {
		t.Fatalf("status callback = %v %v", codes, err)
	}

	// Well inside the notifier's one-minute idle timer: the scheduler's
	// commit wakes it.
	for _, r := range []*receiver{serverHook, agentHook} {
		waitFor(t, 10*time.Second, "the call_ended notification at "+r.URL, func() bool { _, _, ok := r.final(req.CallID); return ok })
	}
	n, env, _ := serverHook.final(req.CallID)
	mac := hmac.New(sha256.New, []byte(notifySecret))
	mac.Write(n.Body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := n.Header.Get("X-Callgate-Signature"); !hmac.Equal([]byte(got), []byte(want)) {
		t.Fatalf("X-Callgate-Signature = %q, want %q over %s", got, want, n.Body)
	}
	if n.Header.Get("X-Callgate-Event-Id") != env.Data.EventID || env.Data.EventID == "" {
		t.Fatalf("X-Callgate-Event-Id = %q, body event_id %q", n.Header.Get("X-Callgate-Event-Id"), env.Data.EventID)
	}
	d := env.Data
	if d.Agent != "sales" || d.To != "919876543211" || d.ToNumber != "+919876543211" || d.Status != "completed" ||
		d.HangupReason != "completed" || d.CallDuration != 42.5 || d.TryCount != 0 || d.NextScheduled ||
		d.CallMetadata["firstname"] != "Grace" || d.CallSid != platform.Dials()[0].ProviderCallID ||
		d.Source.Integration != "hubspot" || d.Source.ObjectID != "601" {
		t.Fatalf("call_ended = %s", n.Body)
	}
	an, _, _ := agentHook.final(req.CallID)
	if string(an.Body) != string(n.Body) || an.Header.Get("X-Callgate-Signature") != want {
		t.Fatalf("the agent's notify URL got %s (%s), want the server's body and signature", an.Body, an.Header.Get("X-Callgate-Signature"))
	}

	// Write-back: the plugin PATCHes the contact (creating the callgate_*
	// properties the first time).
	var props map[string]string
	waitFor(t, 10*time.Second, "the write-back at HubSpot", func() bool {
		props, _ = hs.Contact("601")
		return props["callgate_last_call_status"] != ""
	})
	if props["callgate_last_call_status"] != "completed" || props["callgate_last_call_id"] != req.CallID ||
		props["callgate_last_call_at"] == "" || props["firstname"] != "Grace" {
		t.Fatalf("contact after write-back = %v", props)
	}
	if st := hs.Stats(); st.Patch == 0 {
		t.Fatalf("HubSpot saw no PATCH: %+v", st)
	}
	if _, ok := hs.HasProperty("callgate_last_call_status"); !ok {
		t.Fatal("callgate_last_call_status was not created at HubSpot")
	}

	t.Run("metrics", func(t *testing.T) {
		var body string
		waitFor(t, 5*time.Second, "the delivery counters", func() bool {
			_, b := g.Do(http.MethodGet, "/metrics", nil, nil)
			body = string(b)
			return strings.Contains(body, `callgate_notify_deliveries_total{kind="writeback",result="delivered"} 1`) &&
				strings.Contains(body, `callgate_outbox_pending 0`)
		})
		if !strings.Contains(body, `callgate_notify_deliveries_total{kind="webhook",result="delivered"}`) || strings.Contains(body, `result="dead"`) {
			t.Fatalf("/metrics:\n%s", grepLines(body, "callgate_notify", "callgate_outbox"))
		}
	})
	t.Run("reload", func(t *testing.T) {
		// The agent's notify moves at once; server.notify needs a restart
		// and is logged as kept.
		moved := newReceiver(t)
		hs.AddContact("602", map[string]any{"firstname": "Alan", "mobilephone": "+91 98765 43212"})
		g.WriteConfig(notifyConfig(hs.URL, platform.URL, moved.URL, moved.URL))
		g.Signal(syscall.SIGHUP)
		g.WaitForOutput("config reloaded")
		g.WaitForOutput("server.notify and server.notify_secret changes need a restart")
		if status, body := sendHubSpot(g, creation(602, time.Now().Add(-time.Second), 0)); status != http.StatusOK {
			t.Fatalf("webhook = %d %s", status, body)
		}
		waitFor(t, 15*time.Second, "the second call at the dialer", func() bool { return len(platform.Dials()) > 1 })
		var second dialer.HTTPDialRequest
		if err := json.Unmarshal(platform.Dials()[1].Body, &second); err != nil {
			t.Fatal(err)
		}
		if _, err := platform.Finish(context.Background(), http.DefaultClient, 1, "completed", notifyDialSecret, 1); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*receiver{serverHook, moved} {
			waitFor(t, 10*time.Second, "the second call's notification at "+r.URL, func() bool { _, _, ok := r.final(second.CallID); return ok })
		}
		if _, _, ok := agentHook.final(second.CallID); ok {
			t.Fatal("the agent's old notify URL still got notifications after the reload")
		}
	})
	if out := g.Output(); strings.Contains(out, "t0k") || strings.Contains(out, notifySecret) {
		t.Fatalf("the log shows a notify token or the secret:\n%s", grepLines(out, "t0k", notifySecret))
	}
}
