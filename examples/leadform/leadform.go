package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// Limits of one webhook.
const (
	MaxBodyBytes   = 1 << 20 // larger bodies are refused as bad_request
	MaxSubmissions = 100     // per request
	// SignatureHeader carries "sha256=<hex HMAC-SHA256(signing_secret, body)>".
	SignatureHeader = "X-Leadform-Signature"
)

// Plugin is the lead form plugin. It keeps no state: the signing secret
// travels with each call.
type Plugin struct {
	sdk.Unimplemented // no API to fetch from, list or write back to
}

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Describe returns the manifest.
func (*Plugin) Describe(context.Context) (sdk.Manifest, error) {
	return sdk.Manifest{
		Name:            "leadform",
		Version:         "1.0.0",
		ProtocolVersion: sdk.ProtocolVersion,
		DisplayName:     "Lead form (generic JSON webhook)",
		EventTypes:      []string{"lead.submitted"},
		CredentialFields: []sdk.CredentialField{{
			Name:        "signing_secret",
			Description: "shared secret; when set, requests must carry " + SignatureHeader,
			Secret:      true,
		}},
		Capabilities: []string{sdk.CapabilityInline},
		ContentTypes: []string{"application/json"},
		PhoneFields:  []string{"phone"},
	}, nil
}

// CheckCredentials checks the signing secret is long enough to be one.
func (*Plugin) CheckCredentials(_ context.Context, creds sdk.Credentials) error {
	if s := creds["signing_secret"]; s != "" && len(s) < 16 {
		return sdk.Auth("signing_secret is shorter than 16 characters; use a longer random secret")
	}
	return nil
}

// submission is one form submission as posted.
type submission struct {
	FormID       string `json:"form_id"`
	SubmissionID string `json:"submission_id"`
	SubmittedAt  string `json:"submitted_at"` // RFC 3339
	Account      string `json:"account"`
	Lead         *struct {
		ID     string                     `json:"id"`
		Phone  string                     `json:"phone"`
		Phones []string                   `json:"phones"`
		Fields map[string]json.RawMessage `json:"fields"`
	} `json:"lead"`
}

// HandleWebhook verifies the signature (when a signing secret is set) and
// turns each submission into a created event carrying the lead inline. The
// body is one submission object or an array of up to 100.
func (*Plugin) HandleWebhook(_ context.Context, req sdk.WebhookRequest) (sdk.WebhookResult, error) {
	if len(req.Body) > MaxBodyBytes {
		return sdk.WebhookResult{}, sdk.BadRequest("body is %d bytes, over the %d byte limit", len(req.Body), MaxBodyBytes)
	}
	if secret := req.Credentials["signing_secret"]; secret != "" {
		if err := verify(secret, req); err != nil {
			return sdk.WebhookResult{}, err
		}
	}
	subs, err := parse(req.Body)
	if err != nil {
		return sdk.WebhookResult{}, err
	}
	events := make([]sdk.Event, 0, len(subs))
	for i, s := range subs {
		e, err := s.event()
		if err != nil {
			return sdk.WebhookResult{}, sdk.BadRequest("submission %d: %v", i, err)
		}
		events = append(events, e)
	}
	return sdk.WebhookResult{Events: events}, nil
}

func verify(secret string, req sdk.WebhookRequest) error {
	var sig string
	for k, vs := range req.Headers {
		if strings.EqualFold(k, SignatureHeader) && len(vs) > 0 {
			sig = vs[0]
		}
	}
	if sig == "" {
		return sdk.InvalidSignature("missing %s header (a signing_secret is configured)", SignatureHeader)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil || !strings.HasPrefix(sig, "sha256=") {
		return sdk.InvalidSignature("%s is not sha256=<hex>", SignatureHeader)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(req.Body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return sdk.InvalidSignature("%s does not match the body", SignatureHeader)
	}
	return nil
}

// Sign returns the SignatureHeader value for body, as a sender computes it.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// parse reads one submission or an array of them.
func parse(body []byte) ([]submission, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, sdk.BadRequest("empty body; want a JSON submission object or an array of them")
	}
	var subs []submission
	var err error
	switch body[0] {
	case '{':
		var s submission
		err = json.Unmarshal(body, &s)
		subs = []submission{s}
	case '[':
		err = json.Unmarshal(body, &subs)
	default:
		return nil, sdk.BadRequest("body is not a JSON object or array")
	}
	if err != nil {
		return nil, sdk.BadRequest("body is not a valid submission: %v", err)
	}
	if len(subs) == 0 {
		return nil, sdk.BadRequest("no submissions in the body")
	}
	if len(subs) > MaxSubmissions {
		return nil, sdk.BadRequest("%d submissions in one request, at most %d", len(subs), MaxSubmissions)
	}
	return subs, nil
}

// event turns a submission into a created event with the lead inline.
func (s submission) event() (sdk.Event, error) {
	if s.SubmissionID == "" {
		return sdk.Event{}, fmt.Errorf("no submission_id")
	}
	if s.Lead == nil {
		return sdk.Event{}, fmt.Errorf("no lead")
	}
	id := s.Lead.ID
	if id == "" {
		id = s.SubmissionID
	}
	e := sdk.Event{
		// The submission id identifies a delivery's content: a resend of
		// the same submission dedupes.
		Key:        "leadform:" + s.FormID + ":" + s.SubmissionID,
		Type:       "lead.submitted",
		Kind:       sdk.KindCreated,
		ObjectType: "lead",
		ObjectID:   id,
		Account:    s.Account,
		Record:     &sdk.Record{ObjectID: id, Fields: map[string]sdk.Value{}},
	}
	if s.SubmittedAt != "" {
		t, err := time.Parse(time.RFC3339, s.SubmittedAt)
		if err != nil {
			return sdk.Event{}, fmt.Errorf("submitted_at %q is not RFC 3339", s.SubmittedAt)
		}
		e.OccurredAt = t
	}
	for name, raw := range s.Lead.Fields {
		e.Record.Fields[name] = value(raw)
	}
	for _, p := range append([]string{s.Lead.Phone}, s.Lead.Phones...) {
		if p = strings.TrimSpace(p); p != "" {
			e.Record.Phones = append(e.Record.Phones, p)
		}
	}
	if _, ok := e.Record.Fields["phone"]; !ok && len(e.Record.Phones) > 0 {
		e.Record.Fields["phone"] = sdk.StringValue(e.Record.Phones[0])
	}
	return e, nil
}

// value types a JSON field: strings that are RFC 3339 timestamps become
// times; objects and arrays are kept as their JSON text.
func value(raw json.RawMessage) sdk.Value {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return sdk.Value{}
	}
	switch v := v.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return sdk.TimeValue(t)
		}
		return sdk.StringValue(v)
	case float64:
		return sdk.NumberValue(v)
	case bool:
		return sdk.BoolValue(v)
	case nil:
		return sdk.Value{}
	}
	return sdk.StringValue(string(bytes.TrimSpace(raw)))
}
