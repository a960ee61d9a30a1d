// Package hubspot is callgate's HubSpot CRM plugin. It verifies HubSpot's
// webhook signatures (v1, v2, v3), parses every webhook shape HubSpot sends
// into callgate events, reads contacts through the CRM objects API in
// batches of at most 100 (one request per 100 ids, typed by the account's
// property definitions), writes call outcomes back to contact properties, and
// maps HubSpot's errors to the SDK's error classes. It keeps no tenant state:
// credentials come with every call; caches (property definitions, rate
// limiters) are keyed by credential.
package hubspot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/callgate/callgate/sdk"
	"github.com/hashicorp/go-hclog"
)

// Version is the plugin's version, reported in its manifest.
const Version = "1.0.0"

// Credential keys the plugin reads from sdk.Credentials.
const (
	CredAccessToken    = "access_token"
	CredClientSecret   = "client_secret"
	CredBaseURL        = "base_url"
	CredObjectsPath    = "objects_path"
	CredPropertiesPath = "properties_path"
)

// MaxBodyBytes bounds a webhook body the plugin parses: a batch of 100
// events is tens of KiB, a workflow's contact with every property well
// under a MiB. The gateway's max_body_bytes usually refuses sooner.
const MaxBodyBytes = 4 << 20

// Defaults for the optional credentials.
const (
	DefaultBaseURL        = "https://api.hubapi.com"
	DefaultObjectsPath    = "/crm/v3/objects/contacts"
	DefaultPropertiesPath = "/crm/v3/properties/contacts"
)

// Options configure a Plugin. The zero value is usable.
type Options struct {
	// HTTPClient makes the API calls; default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Clock is the time source for the v3 timestamp window, caches and
	// rate-limit pauses; default time.Now.
	Clock func() time.Time
	// Logger receives warnings (never secrets); default: discard.
	Logger hclog.Logger
	// PropertiesTTL is how long an account's property definitions are
	// cached; default 10 minutes.
	PropertiesTTL time.Duration
	// SearchCap is the most results one CRM search query pages through
	// before ListRecords restarts it; default SearchResultCap (HubSpot's
	// 10,000). Tests set a small one to match a fake's.
	SearchCap int
}

// Plugin implements sdk.CRM for HubSpot.
type Plugin struct {
	http          *http.Client
	now           func() time.Time
	log           hclog.Logger
	propertiesTTL time.Duration
	searchCap     int

	mu        sync.Mutex
	limiters  map[string]*limiter        // by token hash
	propCache map[string]propertyCache   // by account key + path
	created   map[string]map[string]bool // callgate_* properties known to exist, by account key
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
	if o.PropertiesTTL <= 0 {
		o.PropertiesTTL = 10 * time.Minute
	}
	if o.SearchCap <= 0 {
		o.SearchCap = SearchResultCap
	}
	return &Plugin{
		http:          o.HTTPClient,
		now:           o.Clock,
		log:           o.Logger.Named("hubspot"),
		propertiesTTL: o.PropertiesTTL,
		searchCap:     o.SearchCap,
		limiters:      map[string]*limiter{},
		propCache:     map[string]propertyCache{},
		created:       map[string]map[string]bool{},
	}, nil
}

// EventTypes returns the subscription types the plugin understands.
func EventTypes() []string {
	return []string{
		"contact.creation", "contact.propertyChange", "contact.deletion", "contact.privacyDeletion",
		"contact.merge", "contact.restore", "contact.associationChange",
		"object.creation", "object.propertyChange", "object.deletion", "object.merge",
		"object.restore", "object.associationChange",
	}
}

// Describe returns the plugin's manifest.
func (p *Plugin) Describe(ctx context.Context) (sdk.Manifest, error) {
	return sdk.Manifest{
		Name:            "hubspot",
		Version:         Version,
		ProtocolVersion: sdk.ProtocolVersion,
		DisplayName:     "HubSpot",
		EventTypes:      EventTypes(),
		CredentialFields: []sdk.CredentialField{
			{Name: CredAccessToken, Description: "private app (or project app) access token, pat-…", Secret: true, Required: true},
			{Name: CredClientSecret, Description: "the app's client secret; when set, webhook signatures are required", Secret: true},
			{Name: CredBaseURL, Description: "API base URL (default " + DefaultBaseURL + ")"},
			{Name: CredObjectsPath, Description: "contacts objects path (default " + DefaultObjectsPath + "; date-versioned paths such as /crm/objects/2026-03/contacts work)"},
			{Name: CredPropertiesPath, Description: "contact properties path (default " + DefaultPropertiesPath + ")"},
		},
		Capabilities: []string{sdk.CapabilityFetch, sdk.CapabilityWriteback, sdk.CapabilityListFields, sdk.CapabilityReconcile, sdk.CapabilityLogCall},
		ContentTypes: []string{"application/json"},
		PhoneFields:  []string{"mobilephone", "phone"},
	}, nil
}

// HandleWebhook verifies the request's signature (when the credentials carry
// a client_secret) and parses its body into events: a JSON array is a
// webhook subscription's batch (ParseWebhook), one JSON object a workflow's
// "Send a webhook" action (ParseWorkflow).
func (p *Plugin) HandleWebhook(ctx context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	now := req.ReceivedAt
	if now.IsZero() {
		now = p.now()
	}
	if err := VerifySignature(req, req.Credentials[CredClientSecret], now); err != nil {
		return sdk.WebhookResult{}, err
	}
	if len(req.Body) > MaxBodyBytes {
		return sdk.WebhookResult{}, sdk.BadRequest("hubspot: webhook body is %d bytes, over the %d a HubSpot delivery can need", len(req.Body), MaxBodyBytes)
	}
	body := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(req.Body), utf8BOM))
	if len(body) > 0 && body[0] == '{' {
		if isSubscriptionEvent(body) {
			// One subscription event sent alone: read it as a batch of one.
			body = append(append([]byte{'['}, body...), ']')
		} else {
			return p.handleWorkflow(ctx, req, now)
		}
	}
	events, err := ParseWebhook(body)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	return sdk.WebhookResult{Events: events}, nil
}

// handleWorkflow turns a workflow's "Send a webhook" body into one event
// with the record inline.
func (p *Plugin) handleWorkflow(ctx context.Context, req sdk.WebhookRequest, now time.Time) (sdk.WebhookResult, error) {
	kind, err := workflowKind(req.URL)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	wr, err := ParseWorkflow(req.Body)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	ev := workflowEvent(req.Body, wr, kind, now)
	if ev.Problem == "" {
		ev.Record = p.typeInline(ctx, req.Credentials, wr)
	}
	p.log.Debug("workflow webhook", "record", describeWorkflow(wr), "inline", ev.Record != nil)
	return sdk.WebhookResult{Events: []sdk.Event{ev}}, nil
}

// account is one integration's API settings.
type account struct {
	token          string
	tokenKey       string // sha256 of the token: map key that is not the secret
	baseURL        string
	objectsPath    string
	propertiesPath string
}

// key identifies the account's API (token, base URL and properties path).
func (a account) key() string { return a.tokenKey + " " + a.baseURL + a.propertiesPath }

func parseAccount(creds sdk.Credentials) (account, error) {
	a := account{
		token:          strings.TrimSpace(creds[CredAccessToken]),
		baseURL:        strings.TrimRight(strings.TrimSpace(creds[CredBaseURL]), "/"),
		objectsPath:    cleanPath(creds[CredObjectsPath], DefaultObjectsPath),
		propertiesPath: cleanPath(creds[CredPropertiesPath], DefaultPropertiesPath),
	}
	if a.token == "" {
		return account{}, sdk.Auth("hubspot: access_token is not set; put the app's access token (pat-…) in the integration block")
	}
	if a.baseURL == "" {
		a.baseURL = DefaultBaseURL
	}
	u, err := url.Parse(a.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return account{}, sdk.Permanent("hubspot: base_url %q is not an http(s) URL; use %s or leave it unset", truncate(a.baseURL, 80), DefaultBaseURL)
	}
	sum := sha256.Sum256([]byte(a.token))
	a.tokenKey = hex.EncodeToString(sum[:8])
	return a, nil
}

func cleanPath(p, def string) string {
	p = strings.TrimRight(strings.TrimSpace(p), "/")
	if p == "" {
		return def
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// objectPaths returns the objects and properties paths for objectType: the
// configured contact paths, or, for another type, the same paths with the
// last segment swapped (/crm/v3/objects/contacts → /crm/v3/objects/deals).
func (a account) objectPaths(objectType string) (objects, properties string, err error) {
	switch strings.ToLower(objectType) {
	case "", "contact", "contacts", "0-1":
		return a.objectsPath, a.propertiesPath, nil
	}
	seg, ok := objectSegments[strings.ToLower(objectType)]
	if !ok {
		if !objectTypeIDPattern(objectType) {
			return "", "", sdk.Permanent("hubspot: unknown object type %q; use contact, company, deal, ticket or an objectTypeId such as 2-123", truncate(objectType, 40))
		}
		seg = objectType
	}
	return swapLast(a.objectsPath, seg), swapLast(a.propertiesPath, seg), nil
}

var objectSegments = map[string]string{
	"company": "companies", "companies": "companies", "0-2": "companies",
	"deal": "deals", "deals": "deals", "0-3": "deals",
	"ticket": "tickets", "tickets": "tickets", "0-5": "tickets",
	"lead": "leads", "0-136": "leads",
}

func objectTypeIDPattern(s string) bool {
	a, b, ok := strings.Cut(s, "-")
	return ok && a != "" && b != "" && strings.Trim(a, "0123456789") == "" && strings.Trim(b, "0123456789") == ""
}

func swapLast(path, seg string) string {
	i := strings.LastIndexByte(path, '/')
	return path[:i+1] + seg
}
