package api_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// Secrets the outbox items carry that the API must never show.
const (
	secretSignature = "sha256=f00dfeedsignature"
	secretToken     = "tok-very-secret"
	secretPassword  = "hunter2pw"
	secretBody      = "body-with-variables"
)

// addOutbox stores items: a pending webhook, a dead webhook, a dead
// write-back, each for its own call.
func (e *env) addOutbox(t *testing.T) (pending, deadHook, deadWB store.OutboxItem) {
	t.Helper()
	now := e.clock.now()
	items := []store.OutboxItem{
		{Kind: store.OutboxWebhook, URL: "https://hooks.example.com/cg?team=ops&token=" + secretToken,
			Body: []byte(`{"x":"` + secretBody + `"}`), Headers: map[string]string{"X-Callgate-Signature": secretSignature},
			CallID: "call-1", AgentID: "sales-intro", Event: "call_ended", NextAt: now.Add(time.Hour)},
		{Kind: store.OutboxWebhook, URL: "https://ops:" + secretPassword + "@hooks.example.com/cg#frag",
			Body: []byte(secretBody), Headers: map[string]string{"X-Callgate-Signature": secretSignature},
			CallID: "call-2", AgentID: "sales-intro", Event: "attempt_ended", NextAt: now},
		{Kind: store.OutboxWriteback, Integration: "hubspot", Body: []byte(`{"object_id":"42"}`),
			CallID: "call-3", AgentID: "renewals", Event: "call_ended", NextAt: now},
	}
	if err := e.db.EnqueueOutbox(context.Background(), items...); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2} {
		items[i].Attempts, items[i].Dead, items[i].LastError = 8, true, "receiver answered 500"
		if err := e.db.UpdateOutbox(context.Background(), items[i]); err != nil {
			t.Fatal(err)
		}
	}
	return items[0], items[1], items[2]
}

func TestListOutbox(t *testing.T) {
	e := newEnv(t)
	pending, deadHook, deadWB := e.addOutbox(t)
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all oldest first", "", []string{pending.ID, deadHook.ID, deadWB.ID}},
		{"dead letters", "dead=true", []string{deadHook.ID, deadWB.ID}},
		{"pending", "dead=false", []string{pending.ID}},
		{"by kind", "kind=writeback", []string{deadWB.ID}},
		{"dead webhooks", "dead=1&kind=webhook", []string{deadHook.ID}},
		{"by call", "call_id=call-1", []string{pending.ID}},
		{"no match", "call_id=nope", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got api.OutboxList
			if code := e.do(t, http.MethodGet, "/api/v1/outbox?"+tt.query, "", &got); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if got.Items == nil {
				t.Fatal(`"items" is null; want a list`)
			}
			var ids []string
			for _, it := range got.Items {
				ids = append(ids, it.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("items %v, want %v", ids, tt.want)
			}
		})
	}

	var page api.OutboxList
	if code := e.do(t, http.MethodGet, "/api/v1/outbox?limit=2", "", &page); code != http.StatusOK || len(page.Items) != 2 || page.NextCursor != deadWB.ID {
		t.Fatalf("first page: status %d, %+v", code, page)
	}
	if code := e.do(t, http.MethodGet, "/api/v1/outbox?limit=2&cursor="+page.NextCursor, "", &page); code != http.StatusOK ||
		len(page.Items) != 1 || page.Items[0].ID != deadWB.ID || page.NextCursor != "" {
		t.Fatalf("second page: status %d, %+v", code, page)
	}

	var all api.OutboxList
	e.do(t, http.MethodGet, "/api/v1/outbox", "", &all)
	byID := map[string]api.OutboxEntry{}
	for _, it := range all.Items {
		byID[it.ID] = it
	}
	if u := byID[pending.ID].URL; u != "https://hooks.example.com/cg" {
		t.Errorf("pending webhook URL shown as %q", u)
	}
	if u := byID[deadHook.ID].URL; u != "https://hooks.example.com/cg" {
		t.Errorf("dead webhook URL shown as %q", u)
	}
	if d := byID[deadWB.ID]; !d.Dead || d.Attempts != 8 || d.LastError != "receiver answered 500" || d.Integration != "hubspot" || d.CallID != "call-3" {
		t.Errorf("dead write-back shown as %+v", d)
	}
}

func TestListOutboxShowsNoSecrets(t *testing.T) {
	e := newEnv(t)
	e.addOutbox(t)
	resp, err := http.Get(e.srv.URL + "/api/v1/outbox")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, s := range []string{secretSignature, secretToken, secretPassword, secretBody, `"headers"`, `"body"`, "frag"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("the listing shows %q:\n%s", s, raw)
		}
	}
}

func TestListOutboxBadQuery(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ query, field string }{
		{"dead=maybe", "dead"},
		{"kind=sms", "kind"},
		{"limit=0", "limit"},
		{"limit=501", "limit"},
		{"limit=ten", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var env reply.Envelope
			if code := e.do(t, http.MethodGet, "/api/v1/outbox?"+tt.query, "", &env); code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", code)
			}
			if env.Status != "error" || !strings.HasPrefix(env.Message, tt.field+": ") {
				t.Fatalf("envelope %+v does not name %q", env, tt.field)
			}
		})
	}
}

func TestRetryOutbox(t *testing.T) {
	e := newEnv(t)
	pending, deadHook, _ := e.addOutbox(t)
	e.clock.add(30 * time.Minute)
	// Drain the signals of the setup commits.
	select {
	case <-e.db.Changes(store.TopicOutbox):
	default:
	}

	var got api.OutboxEntry
	if code := e.do(t, http.MethodPost, "/api/v1/outbox/"+deadHook.ID+"/retry", "", &got); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if got.ID != deadHook.ID || got.Dead || got.Attempts != 0 || !got.NextAt.Equal(e.clock.now()) || got.URL != "https://hooks.example.com/cg" {
		t.Fatalf("answer %+v", got)
	}
	select {
	case <-e.db.Changes(store.TopicOutbox):
	case <-time.After(5 * time.Second):
		t.Fatal("the retry's commit did not wake the deliverer")
	}
	due, err := e.db.ClaimOutbox(context.Background(), e.clock.now(), time.Minute, 10)
	if err != nil || len(due) != 1 || due[0].ID != deadHook.ID || due[0].Dead || string(due[0].Body) != secretBody {
		t.Fatalf("due after retry: %+v, %v", due, err)
	}

	tests := []struct {
		name string
		id   string
		code int
		want string
	}{
		{"pending item", pending.ID, http.StatusConflict, "is not a dead letter: it is pending"},
		{"retried already", deadHook.ID, http.StatusConflict, "is not a dead letter"},
		{"missing", "01NOPE", http.StatusNotFound, "outbox item 01NOPE not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var env reply.Envelope
			if code := e.do(t, http.MethodPost, "/api/v1/outbox/"+tt.id+"/retry", "", &env); code != tt.code || !strings.Contains(env.Message, tt.want) {
				t.Fatalf("status %d %+v; want %d and %q", code, env, tt.code, tt.want)
			}
		})
	}
}
