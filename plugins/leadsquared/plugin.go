// Package leadsquared is callgate's LeadSquared CRM plugin. LeadSquared
// posts the whole lead with each webhook (Lead Creation, Lead Update, Lead
// Stage Change) and signs nothing: the gateway's API key is the
// authentication. The plugin parses those bodies (JSON, a JSON array, or a
// form) into events that carry the lead inline with typed fields, reads
// leads by id (batched) and the lead field metadata through LeadSquared's
// v2 Lead Management API, and maps LeadSquared's errors to the SDK's error
// classes. It keeps no tenant state: credentials come with every call, and
// the keys travel only in request headers, never in URLs, logs or errors.
package leadsquared

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
	"github.com/hashicorp/go-hclog"
)

// Version is the plugin's version, reported in its manifest.
const Version = "1.0.0"

// Credential keys the plugin reads from sdk.Credentials.
const (
	CredHostURL   = "host_url"
	CredAccessKey = "access_key"
	CredSecretKey = "secret_key"
)

// Options configure a Plugin. The zero value is usable.
type Options struct {
	// HTTPClient makes the API calls; default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Clock stamps events whose lead has no timestamps; default time.Now.
	Clock func() time.Time
	// Logger receives warnings (never secrets); default: discard.
	Logger hclog.Logger
}

// Plugin implements sdk.CRM for LeadSquared.
type Plugin struct {
	http *http.Client
	now  func() time.Time
	log  hclog.Logger
}

var (
	_ sdk.CRM        = (*Plugin)(nil)
	_ sdk.CallLogger = (*Plugin)(nil)
)

// New returns a Plugin with default options.
func New() *Plugin {
	p, _ := NewWithOptions(Options{})
	return p
}

// NewWithOptions returns a Plugin using o; it fails only on invalid options.
func NewWithOptions(o Options) (*Plugin, error) {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return &Plugin{http: o.HTTPClient, now: o.Clock, log: o.Logger.Named("leadsquared")}, nil
}

// Describe returns the plugin's manifest. Its events carry the lead inline
// ("inline"); it can also re-read leads ("fetch") and list lead fields.
func (p *Plugin) Describe(ctx context.Context) (sdk.Manifest, error) {
	return sdk.Manifest{
		Name:            "leadsquared",
		Version:         Version,
		ProtocolVersion: sdk.ProtocolVersion,
		DisplayName:     "LeadSquared",
		EventTypes:      append([]string(nil), EventTypes...),
		CredentialFields: []sdk.CredentialField{
			{Name: CredHostURL, Description: "your account's API host, e.g. https://api-in21.leadsquared.com (Settings > API and Webhooks)", Required: true},
			{Name: CredAccessKey, Description: "API access key (Settings > API and Webhooks > API Access Keys)", Secret: true, Required: true},
			{Name: CredSecretKey, Description: "API secret key, shown next to the access key", Secret: true, Required: true},
			{Name: CredCallActivityEvent, Description: "event code of the custom activity type AI calls are logged as (e.g. 201); needed for write-back"},
		},
		Capabilities: []string{sdk.CapabilityInline, sdk.CapabilityFetch, sdk.CapabilityListFields, sdk.CapabilityReconcile, sdk.CapabilityLogCall},
		// What decodeBody parses; the gateway answers 415 to the rest.
		ContentTypes: []string{"application/json", "application/x-www-form-urlencoded", "text/json"},
		PhoneFields:  []string{"Mobile", "Phone"},
	}, nil
}

// HandleWebhook parses a LeadSquared webhook. There is no signature to
// verify: LeadSquared signs nothing, and the gateway has already checked
// the API key (query x_api_key or an X-API-KEY custom header).
func (p *Plugin) HandleWebhook(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	w := Webhook{ContentType: header(req.Headers, "Content-Type"), Body: req.Body, ReceivedAt: req.ReceivedAt}
	if w.ReceivedAt.IsZero() {
		w.ReceivedAt = p.now()
	}
	if req.URL != "" {
		if u, err := url.Parse(req.URL); err == nil {
			w.Event = u.Query().Get(EventParam)
		}
	}
	events, err := ParseWebhook(w)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	return sdk.WebhookResult{Events: events}, nil
}

// UpdateRecord is not supported: the manifest does not declare writeback.
func (p *Plugin) UpdateRecord(ctx context.Context, req sdk.UpdateRequest) error {
	return sdk.Permanent("leadsquared: writing call outcomes back to leads is not supported; set writeback = false for agents on LeadSquared")
}

// header returns the first value of the named header, matched
// case-insensitively (the map may not be canonicalised).
func header(h map[string][]string, name string) string {
	if vs := h[name]; len(vs) > 0 {
		return vs[0]
	}
	for k, vs := range h {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}
