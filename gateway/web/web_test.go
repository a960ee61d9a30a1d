package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/store"
)

// client is a browser-like HTTP client: cookies, no automatic redirects.
type client struct {
	tb   testing.TB
	base string
	http *http.Client
}

func newClient(tb testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) get(path string) (*http.Response, string) {
	c.tb.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.tb.Helper()
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) signIn() string {
	c.tb.Helper()
	resp, _ := c.post("/ui/login", url.Values{"token": {adminToken}})
	if resp.StatusCode != http.StatusSeeOther {
		c.tb.Fatalf("sign in: %d", resp.StatusCode)
	}
	_, body := c.get("/ui/calls")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.tb.Fatal("no CSRF token on the calls page")
	}
	return m[1]
}

func TestSignIn(t *testing.T) {
	tests := []struct {
		name, publicURL string
		secure          bool
	}{
		{"plain http", "", false},
		{"behind https proxy", "https://calls.example.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.publicURL)
			c := newClient(t, f.srv.URL)
			if resp, _ := c.get("/ui/calls"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
				t.Fatalf("signed-out page: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp, body := c.post("/ui/login", url.Values{"token": {"wrong"}}); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not accepted") {
				t.Fatalf("wrong token: %d", resp.StatusCode)
			}
			resp, _ := c.post("/ui/login", url.Values{"token": {adminToken}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d", resp.StatusCode)
			}
			var sess *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == "callgate_session" {
					sess = ck
				}
			}
			if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure != tt.secure || sess.MaxAge != 12*3600 {
				t.Fatalf("session cookie %+v", sess)
			}
			if strings.Contains(sess.Value, adminToken) || strings.Contains(resp.Header.Get("Location"), adminToken) {
				t.Fatal("the admin token leaked into the cookie or the redirect")
			}
			if tt.secure {
				return // the cookie jar will not send a Secure cookie over http
			}
			if resp, body := c.get("/ui/calls"); resp.StatusCode != 200 || !strings.Contains(body, "<h1>Calls</h1>") {
				t.Fatalf("calls page after sign-in: %d", resp.StatusCode)
			}
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
			m := csrfRE.FindStringSubmatch(mustBody(c, "/ui/calls"))
			c.post("/ui/logout", url.Values{"csrf": {m[1]}})
			if resp, _ := c.get("/ui/calls"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("after sign-out: %d", resp.StatusCode)
			}
		})
	}
}

func mustBody(c *client, path string) string {
	_, b := c.get(path)
	return b
}

func TestFormsNeedTheSessionCSRFToken(t *testing.T) {
	f := newFixture(t, "")
	call := f.addCall(t, "+919812345678", store.CallScheduled, f.now)
	c := newClient(t, f.srv.URL)
	csrf := c.signIn()
	for _, tok := range []string{"", "forged", csrf + "x"} {
		if resp, _ := c.post("/ui/calls/"+call.ID+"/cancel", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("csrf %q: %d, want 403", tok, resp.StatusCode)
		}
	}
	if got, _ := f.db.GetCall(context.Background(), call.ID); got.Status != store.CallScheduled {
		t.Fatalf("a forged form changed the call to %s", got.Status)
	}
	other := newClient(t, f.srv.URL) // no session at all
	if resp, _ := other.post("/ui/dnd", url.Values{"csrf": {csrf}, "number": {"+919812345678"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no session: %d, want 401", resp.StatusCode)
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t, "")
	call := f.addCall(t, "+919812345678", store.CallRetryScheduled, f.now.Add(-time.Hour))
	done := f.addCall(t, "+919812345679", store.CallCompleted, f.now.Add(-2*time.Hour))
	ev := f.addFailedEvent(t, "555")
	c := newClient(t, f.srv.URL)
	csrf := c.signIn()

	pages := []struct {
		name, path string
		want       []string
	}{
		{"calls", "/ui/calls", []string{call.ID, done.ID, "919812345678", "retry_scheduled"}},
		{"calls filtered", "/ui/calls?status=completed", []string{done.ID}},
		{"calls by phone", "/ui/calls?phone=09812345678", []string{call.ID}},
		{"calls by date", "/ui/calls?from=" + f.now.Format("2006-01-02") + "&to=" + f.now.Format("2006-01-02"), []string{"<h1>Calls</h1>"}},
		{"call detail", "/ui/calls/" + call.ID, []string{"Attempt 1", "no_answer", "prov-1", "Next attempt at", "firstname", "09:00–18:00", "Cancel call"}},
		{"events", "/ui/events?status=failed", []string{ev.ID, "token rejected (401)", "Replay", "No request has been refused since the gateway started."}},
		{"agents", "/ui/agents", []string{"sales-intro", "contact.firstname ?? &#39;there&#39;", "Try the rules",
			`mobilephone, phone <span class="hint">from plugin hubspot</span>`,
			`Mobile, Phone <span class="hint">from plugin leadsquared</span>`}},
		{"plugins", "/ui/plugins", []string{"hubspot", `<span class="badge ok">accepted</span>`, "leadsquared", ">unreachable</span>",
			"could not reach api.leadsquared.com",
			`<td class="mono small">Mobile, Phone</td>`, `<td class="mono small">mobilephone, phone</td>`,
			"application/x-www-form-urlencoded"}},
		{"dnd", "/ui/dnd", []string{"The DND list is empty"}},
		{"plugins link the fields", "/ui/plugins", []string{`<a href="/ui/integrations/hubspot/fields">list fields</a>`}},
		{"fields", "/ui/integrations/hubspot/fields", []string{"<h1>Fields of hubspot</h1>", `<td class="mono">lifecyclestage</td>`,
			`<span class="mono">lead</span> (Lead), <span class="mono">customer</span> (Customer)`, "First Name"}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			resp, body := c.get(p.path)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
		})
	}
	if _, body := c.get("/ui/calls?status=completed"); strings.Contains(body, call.ID) {
		t.Error("status filter let a retry_scheduled call through")
	}
	f.refusals.Add(refused.Refusal{At: f.now, Route: "/call/crm-webhook", Agent: "sales-intro", Type: "hubspot", Status: 403, Reason: "Invalid API key", Remote: "192.0.2.4"})
	if _, body := c.get("/ui/events"); !strings.Contains(body, `<td class="reason">Invalid API key</td><td class="mono small">192.0.2.4</td>`) || !strings.Contains(body, "api_key") {
		t.Errorf("the events page does not list the refusal")
	}
	if resp, body := c.get("/ui/integrations/lsq/fields"); resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "the access key was rejected (401)") {
		t.Errorf("fields of a rejected integration: %d", resp.StatusCode)
	}
	if resp, body := c.get("/ui/integrations/nope/fields"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "use one of hubspot, lsq") {
		t.Errorf("fields of an unknown integration: %d", resp.StatusCode)
	}
	if resp, body := c.get("/ui/calls?from=nope"); resp.StatusCode != 400 || !strings.Contains(body, "from:") {
		t.Errorf("bad date: %d", resp.StatusCode)
	}

	t.Run("cancel", func(t *testing.T) {
		c.post("/ui/calls/"+call.ID+"/cancel", url.Values{"csrf": {csrf}})
		if got, _ := f.db.GetCall(context.Background(), call.ID); got.Status != store.CallCanceled {
			t.Fatalf("status %s", got.Status)
		}
		if _, body := c.get("/ui/calls/" + call.ID); !strings.Contains(body, "Call canceled.") || strings.Contains(body, "Cancel call") {
			t.Fatal("detail page does not show the cancel's outcome")
		}
	})
	t.Run("replay", func(t *testing.T) {
		c.post("/ui/events/"+ev.ID+"/replay", url.Values{"csrf": {csrf}, "status": {"failed"}})
		got, _ := f.inbox.GetEvent(context.Background(), ev.ID)
		if got.Status != store.EventPending {
			t.Fatalf("event status %s", got.Status)
		}
		resp, body := c.post("/ui/events/"+ev.ID+"/replay", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("second replay: %d", resp.StatusCode)
		}
		if _, body = c.get("/ui/events"); !strings.Contains(body, "not replayed") {
			t.Fatal("a refused replay was not reported")
		}
	})
	t.Run("dnd add and remove", func(t *testing.T) {
		c.post("/ui/dnd", url.Values{"csrf": {csrf}, "number": {"098123 45679"}, "note": {"asked"}})
		if _, body := c.get("/ui/dnd"); !strings.Contains(body, "919812345679") || !strings.Contains(body, "added to the DND list") {
			t.Fatal("number not listed")
		}
		c.post("/ui/dnd", url.Values{"csrf": {csrf}, "number": {"not a number"}})
		if _, body := c.get("/ui/dnd"); !strings.Contains(body, "number:") {
			t.Fatal("bad number not reported")
		}
		c.post("/ui/dnd/remove", url.Values{"csrf": {csrf}, "number": {"+919812345679"}})
		if list, _ := f.db.ListDND(context.Background()); len(list) != 0 {
			t.Fatalf("still listed: %+v", list)
		}
	})
	t.Run("test webhook", func(t *testing.T) {
		if _, body := c.get("/ui/agents"); !strings.Contains(body, `action="/ui/agents/sales-intro/test-webhook"`) ||
			strings.Contains(body, `action="/ui/agents/lsq-intro/test-webhook"`) {
			t.Fatal("the agents page offers a test webhook to the wrong agents (HubSpot agents only)")
		}
		c.post("/ui/agents/sales-intro/test-webhook", url.Values{"csrf": {csrf}, "contact_id": {"1001"}})
		if got := f.sent.list(); len(got) != 1 || got[0] != "sales-intro 1001" {
			t.Fatalf("sent %v", got)
		}
		if _, body := c.get("/ui/agents"); !strings.Contains(body, "Test webhook for contact 1001 sent to sales-intro: 1 event received. Follow it under Events, then Calls.") {
			t.Fatal("the result is not shown")
		}
		c.post("/ui/agents/sales-intro/test-webhook", url.Values{"csrf": {csrf}, "contact_id": {"ada"}})
		if _, body := c.get("/ui/agents"); !strings.Contains(body, "contact_id: &#34;ada&#34; is not a HubSpot record id") || len(f.sent.list()) != 1 {
			t.Fatal("a bad contact id was not refused with its reason")
		}
		if resp, _ := c.post("/ui/agents/sales-intro/test-webhook", url.Values{"contact_id": {"1001"}}); resp.StatusCode == http.StatusSeeOther || len(f.sent.list()) != 1 {
			t.Fatalf("a post without the CSRF token was taken: %d", resp.StatusCode)
		}
	})
	t.Run("rules test", func(t *testing.T) {
		resp, body := c.post("/ui/agents/test", url.Values{"csrf": {csrf}, "agent_id": {"sales-intro"}, "record": {"{not json"}})
		if resp.StatusCode != 400 || !strings.Contains(body, "record: is not valid JSON") {
			t.Fatalf("bad record: %d", resp.StatusCode)
		}
		resp, body = c.post("/ui/agents/test", url.Values{"csrf": {csrf}, "agent_id": {"sales-intro"},
			"record": {`{"firstname":"ada","mobilephone":"098123 45678"}`}})
		// The same readable report as `callgate rules test`, not JSON.
		if resp.StatusCode != 200 || !strings.Contains(body, `id="rules-result"`) || !regexp.MustCompile(`decision +call`).MatchString(body) ||
			!regexp.MustCompile(`firstname +&#34;ada&#34;`).MatchString(body) || strings.Contains(body, "&#34;call&#34;: true") {
			t.Fatalf("rules test: %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("rules test by record id", func(t *testing.T) {
		resp, body := c.post("/ui/agents/test", url.Values{"csrf": {csrf}, "agent_id": {"sales-intro"}, "record_id": {"1001"}})
		for _, want := range []string{`record +1001 \(read from integration hubspot\)`, `firstname +&#34;grace&#34;`, `FIELD READ +VALUE`,
			`mobilephone +&#34;&#43;14155550123&#34;`, `decision +call`, `value="1001"`} {
			if !regexp.MustCompile(want).MatchString(body) {
				t.Fatalf("record id 1001: %d, the page lacks %s:\n%s", resp.StatusCode, want, body)
			}
		}
		resp, body = c.post("/ui/agents/test", url.Values{"csrf": {csrf}, "agent_id": {"sales-intro"}, "record_id": {"4040"}})
		if resp.StatusCode != 400 || !strings.Contains(body, "hubspot: contact 4040 does not exist") {
			t.Fatalf("a missing record: %d", resp.StatusCode)
		}
		resp, body = c.post("/ui/agents/test", url.Values{"csrf": {csrf}, "agent_id": {"sales-intro"}, "record_id": {"1001"},
			"record": {`{"firstname":"ada"}`}})
		if resp.StatusCode != 400 || !strings.Contains(body, "record_id: give either record") {
			t.Fatalf("record and record id: %d", resp.StatusCode)
		}
	})
	t.Run("field warnings", func(t *testing.T) {
		_, body := c.get("/ui/agents")
		want := `<li class="mono small">contact.first_name: no such property in hubspot; did you mean firstname?</li>`
		if !strings.Contains(body, `id="warnings-sales-intro"`) || !strings.Contains(body, want) || strings.Contains(body, `id="warnings-lsq-intro"`) {
			t.Fatalf("the agents page does not show sales-intro's field warning (and only it):\n%s", body)
		}
	})
	t.Run("check now", func(t *testing.T) {
		c.get("/ui/plugins")
		before := f.checks.count("hubspot")
		c.get("/ui/plugins") // cached
		if f.checks.count("hubspot") != before {
			t.Fatal("a second view checked the credentials again")
		}
		resp, _ := c.post("/ui/integrations/hubspot/check", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusSeeOther || f.checks.count("hubspot") != before+1 {
			t.Fatalf("check now: %d, %d checks (want %d)", resp.StatusCode, f.checks.count("hubspot"), before+1)
		}
		if _, body := c.get("/ui/plugins"); !strings.Contains(body, "Integration hubspot: credentials accepted.") {
			t.Fatal("check now's result is not shown")
		}
		c.post("/ui/integrations/lsq/check", url.Values{"csrf": {csrf}})
		if _, body := c.get("/ui/plugins"); !strings.Contains(body, "integration lsq: the CRM could not be reached, so the credentials are not known: leadsquared: could not reach") {
			t.Fatal("an unreachable CRM is not reported as unreachable")
		}
		if resp, _ := c.post("/ui/integrations/hubspot/check", url.Values{}); resp.StatusCode == http.StatusSeeOther || f.checks.count("hubspot") != before+1 {
			t.Fatalf("a check without the CSRF token was taken: %d", resp.StatusCode)
		}
		if resp, _ := c.post("/ui/integrations/nope/check", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("unknown integration: %d", resp.StatusCode)
		}
		if _, body := c.get("/ui/plugins"); !strings.Contains(body, `unknown integration &#34;nope&#34;`) {
			t.Fatal("an unknown integration is not reported")
		}
	})
}

func TestRefusedSignInsAreThrottled(t *testing.T) {
	f := newFixture(t, "")
	c := newClient(t, f.srv.URL)
	for i := 0; i < 10; i++ {
		if resp, _ := c.post("/ui/login", url.Values{"token": {"guess"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, resp.StatusCode)
		}
	}
	resp, body := c.post("/ui/login", url.Values{"token": {adminToken}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many refused sign-ins") {
		t.Fatalf("after 10 refusals: %d, want 429 with Retry-After", resp.StatusCode)
	}
}
