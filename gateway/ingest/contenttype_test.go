package ingest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// declaring is the real LeadSquared plugin, behind real gRPC, with the
// content types of its manifest replaced by the test's, and the headers of
// the last webhook it was handed recorded.
type declaring struct {
	sdk.CRM
	types []string

	mu      sync.Mutex
	headers map[string][]string
	url     string
}

func (d *declaring) Describe(ctx context.Context) (sdk.Manifest, error) {
	m, err := d.CRM.Describe(ctx)
	m.ContentTypes = d.types
	return m, err
}

func (d *declaring) HandleWebhook(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	d.mu.Lock()
	d.headers, d.url = req.Headers, req.URL
	d.mu.Unlock()
	return d.CRM.HandleWebhook(ctx, req)
}

func (d *declaring) seen() (map[string][]string, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.headers, d.url
}

func newLeadSquaredEnv(t *testing.T, types []string) (*env, *declaring) {
	t.Helper()
	d := &declaring{CRM: leadsquared.New(), types: types}
	return newEnv(t, envOptions{plugins: plugins{"leadsquared": sdktest.Serve(t, d)}}), d
}

func TestWebhookContentTypes(t *testing.T) {
	jsonLead := `{"ProspectID":"` + leadsquaredtest.NewProspectID() + `","FirstName":"Ada","Mobile":"+91-9876543210"}`
	formLead := url.Values{"ProspectID": {leadsquaredtest.NewProspectID()}, "FirstName": {"Ada"}}.Encode()
	formNoID := url.Values{"FirstName": {"Ada"}, "Mobile": {"+91-9876543210"}}.Encode()
	jsonAndForm := []string{"application/json", "application/x-www-form-urlencoded"}
	tests := []struct {
		name     string
		declared []string
		ct       string
		body     string
		code     int
		msg      string // substring of the message
	}{
		{"none declared: JSON", nil, "application/json", jsonLead, 200, "1 event received"},
		{"none declared: JSON with charset", nil, "application/json; charset=utf-8", jsonLead, 200, "1 event received"},
		{"none declared: form is 415", nil, "application/x-www-form-urlencoded", formLead, 415,
			`Unsupported Content-Type "application/x-www-form-urlencoded": the leadsquared plugin accepts application/json`},
		{"form declared: form", jsonAndForm, "application/x-www-form-urlencoded", formLead, 200, "1 event received"},
		{"form declared: form without ProspectID is the plugin's 400", jsonAndForm, "application/x-www-form-urlencoded", formNoID, 400,
			"ProspectID"},
		{"form declared: JSON without ProspectID is the plugin's 400", jsonAndForm, "application/json", `{"FirstName":"Ada"}`, 400,
			"ProspectID"},
		{"form declared: text/plain is 415 naming both", jsonAndForm, "text/plain", jsonLead, 415,
			`Unsupported Content-Type "text/plain": the leadsquared plugin accepts application/json, application/x-www-form-urlencoded`},
		{"declared but unparsed: the plugin's 400", []string{"application/json", "text/plain"}, "text/plain", jsonLead, 400,
			`Malformed leadsquared webhook: leadsquared: Content-Type "text/plain" is not supported`},
		{"unreadable Content-Type", jsonAndForm, "application/json;;", jsonLead, 415,
			"Unreadable Content-Type"},
		{"no Content-Type goes to the plugin", nil, "", jsonLead, 200, "1 event received"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newLeadSquaredEnv(t, tt.declared)
			h := http.Header{}
			if tt.ct != "" {
				h.Set("Content-Type", tt.ct)
			}
			r := post(t, e.url+"/call/crm-webhook?type=leadsquared&agent_id=lsq-only&x_api_key="+keyAny, h, []byte(tt.body))
			if msg, _ := r.body["message"].(string); r.code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Fatalf("got %d %v, want %d with %q", r.code, r.body, tt.code, tt.msg)
			}
		})
	}
}

// The gateway's credentials never reach a plugin; the URL stays exactly
// as received (CRMs sign it, key included).
func TestWebhookHeadersWithoutGatewayCredentials(t *testing.T) {
	e, d := newLeadSquaredEnv(t, nil)
	lead := `{"ProspectID":"` + leadsquaredtest.NewProspectID() + `","FirstName":"Ada"}`
	tests := []struct {
		name  string
		query string
		set   map[string]string
	}{
		{"key in header", "type=leadsquared&agent_id=lsq-only", map[string]string{"X-API-KEY": keyAny}},
		{"lower-case header, authorization and cookie", "type=leadsquared&agent_id=lsq-only",
			map[string]string{"x-api-key": keyAny, "Authorization": "Bearer " + keyAny, "Cookie": "k=" + keyAny}},
		{"key in query and header", "type=leadsquared&agent_id=lsq-only&x_api_key=" + keyAny, map[string]string{"X-Api-Key": keyAny}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"application/json"}, "X-Lsq-Trace": {"t-1"}}
			for k, v := range tt.set {
				h[k] = []string{v} // as sent, not canonicalised
			}
			u := e.url + "/call/crm-webhook?" + tt.query
			if r := post(t, u, h, []byte(lead)); r.code != 200 {
				t.Fatalf("got %d %v", r.code, r.body)
			}
			headers, gotURL := d.seen()
			for k, v := range headers {
				for _, s := range v {
					if strings.Contains(s, keyAny) {
						t.Errorf("header %s carries the API key to the plugin", k)
					}
				}
				switch http.CanonicalHeaderKey(k) {
				case "X-Api-Key", "Authorization", "Cookie":
					t.Errorf("header %s reached the plugin", k)
				}
			}
			if got := http.Header(headers).Get("X-Lsq-Trace"); got != "t-1" {
				t.Errorf("other headers must pass: X-Lsq-Trace = %q", got)
			}
			if gotURL != u {
				t.Errorf("URL %q, want it as received %q", gotURL, u)
			}
		})
	}
}
