package leadsquared

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// API paths under host_url (LeadSquared's v2 Lead Management API).
const (
	PathLeadsByIDs = "/v2/LeadManagement.svc/Leads/Retrieve/ByIds"
	PathMetadata   = "/v2/LeadManagement.svc/LeadsMetaData.Get"
)

// Authentication headers: LeadSquared also takes the keys in the query
// string, but it recommends headers, and headers keep the keys out of every
// URL the plugin could log or put in an error.
const (
	HeaderAccessKey = "x-LSQ-AccessKey"
	HeaderSecretKey = "x-LSQ-SecretKey"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// defaultRetryAfter is the wait for a 429 without Retry-After:
// LeadSquared's limits are counted per 5 seconds.
const defaultRetryAfter = 5 * time.Second

// account is one integration's API settings.
type account struct {
	host      string // scheme://host[:port], no trailing slash
	accessKey string
	secretKey string
}

func parseAccount(creds sdk.Credentials) (account, error) {
	a := account{
		host:      strings.TrimSpace(creds[CredHostURL]),
		accessKey: strings.TrimSpace(creds[CredAccessKey]),
		secretKey: strings.TrimSpace(creds[CredSecretKey]),
	}
	if a.accessKey == "" || a.secretKey == "" {
		return account{}, sdk.Auth("leadsquared: access_key and secret_key must both be set; copy them from LeadSquared's Settings > API and Webhooks > API Access Keys")
	}
	if a.host == "" {
		return account{}, sdk.Permanent("leadsquared: host_url is not set; use your account's API host, e.g. https://api-in21.leadsquared.com (Settings > API and Webhooks shows it)")
	}
	// People paste the host with LeadSquared's /v2/ suffix; the paths add it.
	a.host = strings.TrimRight(a.host, "/")
	a.host = strings.TrimSuffix(a.host, "/v2")
	u, err := url.Parse(a.host)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return account{}, sdk.Permanent("leadsquared: host_url %q is not an API host URL; use e.g. https://api-in21.leadsquared.com", truncate(a.host, 80))
	}
	return a, nil
}

// apiError is LeadSquared's error body.
type apiError struct {
	Status           string `json:"Status"`
	ExceptionType    string `json:"ExceptionType"`
	ExceptionMessage string `json:"ExceptionMessage"`
}

// call makes one API request and decodes a 200 answer into out. op names
// the operation for errors ("read leads"). Errors are classed and never
// carry the keys.
func (p *Plugin) call(ctx context.Context, a account, method, path string, query url.Values, body any, out any, op string) error {
	u := a.host + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return sdk.Permanent("leadsquared: %s: encode request: %v", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return sdk.Permanent("leadsquared: %s: %v", op, scrub(err.Error(), a))
	}
	req.Header.Set(HeaderAccessKey, a.accessKey)
	req.Header.Set(HeaderSecretKey, a.secretKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("leadsquared: %s: %w", op, ctx.Err())
		}
		return sdk.Transient("leadsquared: %s: %s unreachable: %v", op, a.host, scrub(unwrapURLError(err), a))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		dec := json.NewDecoder(io.LimitReader(resp.Body, 64<<20))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return sdk.Transient("leadsquared: %s: unreadable answer from %s: %v", op, a.host, jsonProblem(err))
		}
		return nil
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return classify(resp, raw, a, op)
}

// classify maps a non-200 answer to an error class: 401/403 auth, 429 (or
// a rate-limit exception) rate_limited, 404 a wrong host or path
// (permanent: retrying cannot help, and it is not a missing lead), other
// 4xx permanent, 500 with an MX* application exception permanent, other
// 5xx transient.
func classify(resp *http.Response, raw []byte, a account, op string) error {
	var e apiError
	_ = json.Unmarshal(raw, &e)
	detail := ""
	if e.ExceptionType != "" || e.ExceptionMessage != "" {
		detail = ": " + scrub(truncate(strings.TrimSpace(e.ExceptionType+" "+e.ExceptionMessage), 300), a)
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests || strings.Contains(strings.ToLower(e.ExceptionType), "ratelimit"):
		wait := retryAfter(resp.Header.Get("Retry-After"))
		return sdk.RateLimited(wait, "leadsquared: %s: API rate limit reached (%d)%s; LeadSquared counts calls per 5 seconds by plan", op, code, detail)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return sdk.Auth("leadsquared: %s: keys rejected (%d)%s; check access_key and secret_key, and that host_url (%s) is your account's region host", op, code, detail, a.host)
	case code == http.StatusNotFound:
		return sdk.Permanent("leadsquared: %s: %s answered 404 (no such API); check host_url, e.g. https://api-in21.leadsquared.com", op, a.host)
	case code >= 400 && code < 500:
		return sdk.Permanent("leadsquared: %s: request refused (%d)%s", op, code, detail)
	case code == http.StatusInternalServerError && strings.HasPrefix(e.ExceptionType, "MX"):
		return sdk.Permanent("leadsquared: %s: LeadSquared refused the request (%d)%s", op, code, detail)
	case code >= 500:
		return sdk.Transient("leadsquared: %s: LeadSquared answered %d%s; retrying", op, code, detail)
	}
	return sdk.Transient("leadsquared: %s: unexpected status %d%s", op, code, detail)
}

func retryAfter(h string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, 10*time.Minute)
	}
	return defaultRetryAfter
}

// unwrapURLError drops *url.Error's "Get <url>:" prefix; the URL holds no
// secret (keys travel in headers), but the operation already names it.
func unwrapURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// scrub removes the keys from text that came from outside, in case a
// server or proxy echoes them.
func scrub(s string, a account) string {
	for _, k := range []string{a.accessKey, a.secretKey} {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return s
}
