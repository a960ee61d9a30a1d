package hubspot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// HubSpot's signature headers.
const (
	HeaderSignature        = "X-HubSpot-Signature"
	HeaderSignatureVersion = "X-HubSpot-Signature-Version"
	HeaderSignatureV3      = "X-HubSpot-Signature-v3"
	HeaderRequestTimestamp = "X-HubSpot-Request-Timestamp"
)

// MaxTimestampSkew is how far X-HubSpot-Request-Timestamp may be from now, in
// either direction, before a v3 signature is refused as stale or from the future.
const MaxTimestampSkew = 5 * time.Minute

// uriDecoder undoes the percent-escapes HubSpot decodes before it signs a v3
// request, exactly as its table lists them (upper-case hex); every other
// escape (%20, %26, %3D, …) stays as it is.
var uriDecoder = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
)

// uriDecoderAnyCase also decodes the lower-case spellings (%3a, …), which
// percent-encoding allows; it is tried only when the documented table fails.
var uriDecoderAnyCase = strings.NewReplacer(
	"%3A", ":", "%3a", ":", "%2F", "/", "%2f", "/", "%3F", "?", "%3f", "?",
	"%40", "@", "%21", "!", "%24", "$", "%27", "'", "%28", "(", "%29", ")",
	"%2A", "*", "%2a", "*", "%2C", ",", "%2c", ",", "%3B", ";", "%3b", ";",
)

// DecodeURI applies HubSpot's v3 URI decoding table to uri.
func DecodeURI(uri string) string { return uriDecoder.Replace(uri) }

// SignV1 returns the headers HubSpot sends with a v1 signature:
// hex SHA-256 of secret + body. method, uri and ts are not part of v1.
func SignV1(secret, method, uri string, body []byte, ts time.Time) map[string]string {
	return map[string]string{
		HeaderSignature:        v1Digest(secret, body),
		HeaderSignatureVersion: "v1",
	}
}

// SignV2 returns the headers HubSpot sends with a v2 signature:
// hex SHA-256 of secret + method + uri + body. ts is not part of v2.
func SignV2(secret, method, uri string, body []byte, ts time.Time) map[string]string {
	return map[string]string{
		HeaderSignature:        v2Digest(secret, method, uri, body),
		HeaderSignatureVersion: "v2",
	}
}

// SignV3 returns the headers HubSpot sends with a v3 signature: base64
// HMAC-SHA256 keyed with secret over method + decoded uri + body + the
// timestamp in milliseconds.
func SignV3(secret, method, uri string, body []byte, ts time.Time) map[string]string {
	stamp := strconv.FormatInt(ts.UnixMilli(), 10)
	return map[string]string{
		HeaderSignatureV3:      base64.StdEncoding.EncodeToString(v3MAC(secret, method, DecodeURI(uri), body, stamp)),
		HeaderRequestTimestamp: stamp,
	}
}

func v1Digest(secret string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func v2Digest(secret, method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write([]byte(method))
	h.Write([]byte(uri))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func v3MAC(secret, method, uri string, body []byte, stamp string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method))
	m.Write([]byte(uri))
	m.Write(body)
	m.Write([]byte(stamp))
	return m.Sum(nil)
}

// VerifySignature checks a webhook's HubSpot signature with the app's client
// secret. v3 is checked when X-HubSpot-Signature-v3 and
// X-HubSpot-Request-Timestamp are both present; otherwise X-HubSpot-Signature
// is checked with the version X-HubSpot-Signature-Version names (v1 when the
// header is absent, as private apps send it). now is the time the request
// arrived. Failures are sdk.ClassInvalidSignature errors.
//
// An empty secret means signatures are not required; nothing can be checked
// without it, so any signature present is accepted too.
func VerifySignature(req sdk.WebhookRequest, secret string, now time.Time) error {
	if secret == "" {
		return nil
	}
	v3 := header(req.Headers, HeaderSignatureV3)
	stamp := header(req.Headers, HeaderRequestTimestamp)
	if v3 != "" && stamp != "" {
		return verifyV3(req, secret, v3, stamp, now)
	}
	sig := header(req.Headers, HeaderSignature)
	if sig == "" {
		if v3 != "" {
			return sdk.InvalidSignature("hubspot: %s is present but %s is missing; both are needed to check a v3 signature", HeaderSignatureV3, HeaderRequestTimestamp)
		}
		return sdk.InvalidSignature("hubspot: the request is not signed (no %s or %s) but the integration has a client_secret; check that HubSpot is the sender", HeaderSignatureV3, HeaderSignature)
	}
	sig = strings.ToLower(strings.TrimSpace(sig))
	switch version := strings.ToLower(strings.TrimSpace(header(req.Headers, HeaderSignatureVersion))); version {
	case "", "v1":
		if !equalStrings(sig, v1Digest(secret, req.Body)) {
			return sdk.InvalidSignature("hubspot: v1 signature does not match the body; check that client_secret is the app's client secret (not the access token)")
		}
	case "v2":
		// HubSpot documents v2's URI as the exact URL it called; the
		// decoded form is accepted too, since both derive from that URL.
		if !equalStrings(sig, v2Digest(secret, req.Method, req.URL, req.Body)) &&
			!equalStrings(sig, v2Digest(secret, req.Method, DecodeURI(req.URL), req.Body)) {
			return sdk.InvalidSignature("hubspot: v2 signature does not match; check client_secret and that server.public_url is the URL configured in HubSpot")
		}
	default:
		return sdk.InvalidSignature("hubspot: unknown %s %q (expected v1, v2 or v3 headers)", HeaderSignatureVersion, version)
	}
	return nil
}

func verifyV3(req sdk.WebhookRequest, secret, sig, stamp string, now time.Time) error {
	stamp = strings.TrimSpace(stamp)
	ms, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return sdk.InvalidSignature("hubspot: %s %q is not a time in milliseconds", HeaderRequestTimestamp, truncate(stamp, 40))
	}
	sent := time.UnixMilli(ms)
	switch skew := now.Sub(sent); {
	case skew > MaxTimestampSkew:
		return sdk.InvalidSignature("hubspot: v3 request timestamp is %s old (limit %s): a replay or a delayed delivery; check the host clock", skew.Round(time.Second), MaxTimestampSkew)
	case -skew > MaxTimestampSkew:
		return sdk.InvalidSignature("hubspot: v3 request timestamp is %s in the future (limit %s); check the host clock", (-skew).Round(time.Second), MaxTimestampSkew)
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		// A proxy that URL-decodes headers turns base64's '+' into ' '.
		got, err = base64.StdEncoding.DecodeString(strings.TrimRight(strings.ReplaceAll(sig, " ", "+"), "\t\r\n"))
	}
	if err != nil {
		return sdk.InvalidSignature("hubspot: %s is not base64", HeaderSignatureV3)
	}
	if !hmac.Equal(got, v3MAC(secret, req.Method, DecodeURI(req.URL), req.Body, stamp)) &&
		!hmac.Equal(got, v3MAC(secret, req.Method, uriDecoderAnyCase.Replace(req.URL), req.Body, stamp)) {
		return sdk.InvalidSignature("hubspot: v3 signature does not match; check client_secret (the app's client secret) and that server.public_url is the URL configured in HubSpot")
	}
	return nil
}

func equalStrings(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

// header finds name in h case-insensitively; gateways may pass canonical or
// lower-case keys.
func header(h map[string][]string, name string) string {
	if v, ok := h[name]; ok && len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
