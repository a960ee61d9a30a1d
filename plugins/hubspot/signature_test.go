package hubspot

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
)

// signatureVector is one row of testdata/signatures.json, computed with
// openssl and sha256sum by testdata/gen-signatures.sh.
type signatureVector struct {
	Name, Version, Secret, Method, URL, Body, Timestamp, Signature string
}

func loadVectors(t *testing.T) []signatureVector {
	t.Helper()
	b, err := os.ReadFile("testdata/signatures.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []signatureVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 9 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func (v signatureVector) request() (sdk.WebhookRequest, time.Time) {
	h := map[string][]string{}
	var now time.Time
	if v.Version == "v3" {
		h[HeaderSignatureV3] = []string{v.Signature}
		h[HeaderRequestTimestamp] = []string{v.Timestamp}
		ms, _ := strconv.ParseInt(v.Timestamp, 10, 64)
		now = time.UnixMilli(ms).Add(30 * time.Second)
	} else {
		h[HeaderSignature] = []string{v.Signature}
		h[HeaderSignatureVersion] = []string{v.Version}
		now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	}
	return sdk.WebhookRequest{Method: v.Method, URL: v.URL, Headers: h, Body: []byte(v.Body)}, now
}

func TestSignatureVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			req, now := v.request()
			if err := VerifySignature(req, v.Secret, now); err != nil {
				t.Fatalf("VerifySignature: %v", err)
			}
			// The signers agree with the independently computed value.
			var ts time.Time
			if v.Timestamp != "" {
				ms, _ := strconv.ParseInt(v.Timestamp, 10, 64)
				ts = time.UnixMilli(ms)
			}
			sign := map[string]func(string, string, string, []byte, time.Time) map[string]string{"v1": SignV1, "v2": SignV2, "v3": SignV3}[v.Version]
			got := sign(v.Secret, v.Method, v.URL, []byte(v.Body), ts)
			want := map[string]string{"v1": HeaderSignature, "v2": HeaderSignature, "v3": HeaderSignatureV3}[v.Version]
			if got[want] != v.Signature {
				t.Errorf("Sign%s = %q, want %q", strings.ToUpper(v.Version), got[want], v.Signature)
			}
		})
	}
}

func TestSignatureRefusals(t *testing.T) {
	vs := loadVectors(t)
	byName := map[string]signatureVector{}
	for _, v := range vs {
		byName[v.Name] = v
	}
	v3 := byName["v3 captured contact.creation"]
	v1 := byName["v1 captured contact.creation"]
	v2 := byName["v2 captured contact.creation"]
	sent := time.UnixMilli(1764244800000)
	tests := []struct {
		name   string
		vector signatureVector
		secret string
		change func(*sdk.WebhookRequest)
		now    time.Time
		want   string // substring of the error; "" means accepted
	}{
		{"v3 tampered body", v3, v3.Secret, func(r *sdk.WebhookRequest) {
			r.Body = []byte(strings.Replace(string(r.Body), "65059681032", "65059681033", 1))
		}, sent, "does not match"},
		{"v3 wrong secret", v3, "pat-na1-not-the-secret", nil, sent, "does not match"},
		{"v3 other URL", v3, v3.Secret, func(r *sdk.WebhookRequest) { r.URL = strings.Replace(r.URL, "https://", "http://", 1) }, sent, "does not match"},
		{"v3 other method", v3, v3.Secret, func(r *sdk.WebhookRequest) { r.Method = "PUT" }, sent, "does not match"},
		{"v3 stale by 5m1s", v3, v3.Secret, nil, sent.Add(5*time.Minute + time.Second), "old"},
		{"v3 exactly 5m old", v3, v3.Secret, nil, sent.Add(5 * time.Minute), ""},
		{"v3 future by 5m1s", v3, v3.Secret, nil, sent.Add(-5*time.Minute - time.Second), "future"},
		{"v3 future by 4m", v3, v3.Secret, nil, sent.Add(-4 * time.Minute), ""},
		{"v3 timestamp not a number", v3, v3.Secret, func(r *sdk.WebhookRequest) { r.Headers[HeaderRequestTimestamp] = []string{"1764244800000.0"} }, sent, "milliseconds"},
		{"v3 timestamp re-signed by an attacker", v3, v3.Secret, func(r *sdk.WebhookRequest) { r.Headers[HeaderRequestTimestamp] = []string{"1764244860000"} }, sent, "does not match"},
		{"v3 not base64", v3, v3.Secret, func(r *sdk.WebhookRequest) { r.Headers[HeaderSignatureV3] = []string{"%%%"} }, sent, "base64"},
		{"v3 lower-case header names", v3, v3.Secret, func(r *sdk.WebhookRequest) {
			r.Headers = map[string][]string{"x-hubspot-signature-v3": r.Headers[HeaderSignatureV3], "x-hubspot-request-timestamp": r.Headers[HeaderRequestTimestamp]}
		}, sent, ""},
		{"v3 without its timestamp and no v1 header", v3, v3.Secret, func(r *sdk.WebhookRequest) { delete(r.Headers, HeaderRequestTimestamp) }, sent, "missing"},
		{"v1 tampered body", v1, v1.Secret, func(r *sdk.WebhookRequest) { r.Body = append(r.Body, ' ') }, sent, "does not match"},
		{"v1 wrong secret", v1, "other", nil, sent, "does not match"},
		{"v1 upper-case hex", v1, v1.Secret, func(r *sdk.WebhookRequest) { r.Headers[HeaderSignature] = []string{strings.ToUpper(v1.Signature)} }, sent, ""},
		{"v1 without a version header", v1, v1.Secret, func(r *sdk.WebhookRequest) { delete(r.Headers, HeaderSignatureVersion) }, sent, ""},
		{"v2 wrong URL", v2, v2.Secret, func(r *sdk.WebhookRequest) { r.URL += "&extra=1" }, sent, "does not match"},
		{"v2 signature sent as v1", v2, v2.Secret, func(r *sdk.WebhookRequest) { r.Headers[HeaderSignatureVersion] = []string{"v1"} }, sent, "does not match"},
		{"unknown version", v1, v1.Secret, func(r *sdk.WebhookRequest) { r.Headers[HeaderSignatureVersion] = []string{"v9"} }, sent, "unknown"},
		{"unsigned with a secret", v1, v1.Secret, func(r *sdk.WebhookRequest) { r.Headers = nil }, sent, "not signed"},
		{"unsigned without a secret", v1, "", func(r *sdk.WebhookRequest) { r.Headers = nil }, sent, ""},
		{"wrong signature without a secret", v1, "", func(r *sdk.WebhookRequest) { r.Headers[HeaderSignature] = []string{"00"} }, sent, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := tc.vector.request()
			if tc.change != nil {
				tc.change(&req)
			}
			err := VerifySignature(req, tc.secret, tc.now)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if sdk.ClassOf(err) != sdk.ClassInvalidSignature {
				t.Errorf("class %s, want invalid_signature", sdk.ClassOf(err))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error leaks the secret: %q", err)
			}
		})
	}
}

func TestSignatureV3PlusSign(t *testing.T) {
	var v signatureVector
	for _, x := range loadVectors(t) {
		if x.Name == "v3 signature with a plus sign" {
			v = x
		}
	}
	if !strings.Contains(v.Signature, "+") {
		t.Fatalf("vector %q has no '+'", v.Signature)
	}
	req, now := v.request()
	if err := VerifySignature(req, v.Secret, now); err != nil {
		t.Fatalf("signature with '+': %v", err)
	}
	// A proxy that URL-decoded the header turned '+' into ' '.
	req.Headers[HeaderSignatureV3] = []string{strings.ReplaceAll(v.Signature, "+", " ")}
	if err := VerifySignature(req, v.Secret, now); err != nil {
		t.Fatalf("signature with '+' turned into ' ': %v", err)
	}
	// But a '+' that was dropped is still refused.
	req.Headers[HeaderSignatureV3] = []string{strings.ReplaceAll(v.Signature, "+", "")}
	if err := VerifySignature(req, v.Secret, now); sdk.ClassOf(err) != sdk.ClassInvalidSignature {
		t.Fatalf("mangled signature: %v", err)
	}
}

func TestDecodeURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://h/p?a=1", "https://h/p?a=1"},
		{"https://h/p?t=10%3A00", "https://h/p?t=10:00"},
		{"https://h/p?x=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B", "https://h/p?x=:/?@!$'()*,;"},
		{"https://h/p?x=%20%26%3D%25%2B", "https://h/p?x=%20%26%3D%25%2B"},
		{"https://h/p?x=%3a", "https://h/p?x=%3a"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := DecodeURI(tc.in); got != tc.want {
				t.Errorf("DecodeURI(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSignV3RoundTripLowerCaseEscape(t *testing.T) {
	// A URL whose escapes are lower case: HubSpot's table names upper case,
	// the verifier accepts either spelling.
	url := "https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=a&t=10%3a00"
	at := time.UnixMilli(1764244800000)
	body := []byte(`[]`)
	for _, signed := range []string{url, strings.ReplaceAll(url, "%3a", ":")} {
		h := SignV3("s", "POST", signed, body, at)
		req := sdk.WebhookRequest{Method: "POST", URL: url, Body: body, Headers: map[string][]string{
			HeaderSignatureV3: {h[HeaderSignatureV3]}, HeaderRequestTimestamp: {h[HeaderRequestTimestamp]},
		}}
		if err := VerifySignature(req, "s", at); err != nil {
			t.Errorf("signed over %q: %v", signed, err)
		}
	}
}
