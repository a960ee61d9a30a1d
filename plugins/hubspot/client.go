package hubspot

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

// maxResponseBytes caps what is read of a HubSpot response: a batch of 100
// contacts with many properties stays well under it.
const maxResponseBytes = 16 << 20

// call is one API request.
type call struct {
	method string
	path   string
	query  url.Values
	body   any    // marshalled as JSON when not nil
	what   string // for errors: "fetch contact 123"
	scope  string // the scope the call needs, named when HubSpot answers 403
}

// response is a HubSpot reply that was read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends c with the account's token, through its rate limiter, and returns
// the response for any status; only transport failures are errors.
func (p *Plugin) do(ctx context.Context, a account, c call) (*response, error) {
	lim := p.limiter(a)
	s, err := lim.wait(ctx, p.now())
	if err != nil {
		return nil, p.classifyWait(err, c)
	}
	res, err := p.send(ctx, a, c)
	if err != nil {
		lim.done(s, nil)
		return nil, err
	}
	lim.done(s, res.header)
	return res, nil
}

// send makes one HTTP request for c and reads the reply in full.
func (p *Plugin) send(ctx context.Context, a account, c call) (*response, error) {
	var body io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return nil, sdk.Permanent("hubspot: %s: encode request: %v", c.what, err)
		}
		body = bytes.NewReader(b)
	}
	u := a.baseURL + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u, body)
	if err != nil {
		return nil, sdk.Permanent("hubspot: %s: build request: %v", c.what, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := p.http.Do(req)
	if err != nil {
		return nil, transportError(ctx, c, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, transportError(ctx, c, err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: data}, nil
}

// doJSON is do for calls that expect 2xx: the body is decoded into out (when
// not nil) and any other status becomes a classified error.
func (p *Plugin) doJSON(ctx context.Context, a account, c call, out any) (*response, error) {
	res, err := p.do(ctx, a, c)
	if err != nil {
		return nil, err
	}
	if res.status < 200 || res.status > 299 {
		return res, p.statusError(a, c, res)
	}
	if out != nil && len(res.body) > 0 {
		if err := json.Unmarshal(res.body, out); err != nil {
			return res, sdk.Transient("hubspot: %s: HubSpot answered %d with a body that is not the expected JSON (%v); retrying", c.what, res.status, err)
		}
	}
	return res, nil
}

func transportError(ctx context.Context, c call, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error repeats the URL; the path is already in c.what
	}
	if ctx.Err() != nil {
		return sdk.Transient("hubspot: %s: %v", c.what, ctx.Err())
	}
	return sdk.Transient("hubspot: %s: cannot reach HubSpot: %v", c.what, err)
}

// APIError is HubSpot's error body. Every field is optional.
type APIError struct {
	Status        string          `json:"status"`
	Message       string          `json:"message"`
	CorrelationID string          `json:"correlationId"`
	Category      string          `json:"category"`
	SubCategory   string          `json:"subCategory"`
	ErrorType     string          `json:"errorType"`  // 429: RATE_LIMIT
	PolicyName    string          `json:"policyName"` // 429: TEN_SECONDLY_ROLLING or DAILY
	Context       map[string]any  `json:"context"`
	Errors        []APIErrorEntry `json:"errors"`
}

// APIErrorEntry is one item of APIError.Errors (and of a 207's errors).
type APIErrorEntry struct {
	Status   string         `json:"status"`
	Message  string         `json:"message"`
	Code     string         `json:"code"`
	Category string         `json:"category"`
	Context  map[string]any `json:"context"`
}

func parseAPIError(body []byte) APIError {
	var e APIError
	if json.Unmarshal(body, &e) != nil {
		return APIError{}
	}
	return e
}

// statusError turns a non-2xx HubSpot reply into a classified error that
// never carries the token.
func (p *Plugin) statusError(a account, c call, res *response) error {
	e := parseAPIError(res.body)
	detail := e.Message
	if detail == "" && len(res.body) > 0 && !looksLikeHTML(res.body) {
		detail = truncate(strings.TrimSpace(string(res.body)), 200)
	}
	detail = strings.ReplaceAll(detail, a.token, "[token]")
	suffix := ""
	if e.CorrelationID != "" {
		suffix = " (correlationId " + e.CorrelationID + ")"
	}
	logf := p.log.Warn
	if res.status == http.StatusNotFound {
		logf = p.log.Debug // a missing contact is routine
	}
	logf("HubSpot API error", "call", c.what, "status", res.status, "category", e.Category, "correlation_id", e.CorrelationID)
	switch s := res.status; {
	case s == http.StatusUnauthorized:
		return sdk.Auth("hubspot: %s: token rejected (401): check the integration's access_token (a private app token, pat-…) and that the app is still installed%s", c.what, suffix)
	case s == http.StatusForbidden:
		if scopes := missingScopes(e); len(scopes) > 0 || e.Category == "MISSING_SCOPES" {
			if len(scopes) == 0 && c.scope != "" {
				scopes = []string{c.scope}
			}
			return sdk.Auth("hubspot: %s: the token lacks scope(s) %s (403 MISSING_SCOPES): add them to the app and use its new token%s", c.what, strings.Join(scopes, ", "), suffix)
		}
		return sdk.Auth("hubspot: %s: forbidden (403): %s%s", c.what, orDefault(detail, "the token may not read this object"), suffix)
	case s == http.StatusNotFound:
		return sdk.NotFound("hubspot: %s: not found (404)%s", c.what, suffix)
	case s == http.StatusTooManyRequests:
		return p.rateLimited(a, c, res, e, suffix)
	case s == 477: // account migrating between data centres
		wait := retryAfter(res.header, p.now())
		if wait <= 0 {
			wait = time.Minute
		}
		p.limiter(a).pause(p.now().Add(wait))
		return sdk.RateLimited(wait, "hubspot: %s: account is migrating between data centres (477); retry in %s%s", c.what, wait, suffix)
	case s == http.StatusLocked:
		return sdk.RateLimited(2*time.Second, "hubspot: %s: record locked by a high-volume write (423)%s", c.what, suffix)
	case s == http.StatusRequestTimeout || s >= 500:
		return sdk.Transient("hubspot: %s: HubSpot answered %d%s; retrying", c.what, s, suffix)
	}
	return sdk.Permanent("hubspot: %s: HubSpot refused the request (%d %s): %s%s", c.what, res.status, e.Category, orDefault(detail, http.StatusText(res.status)), suffix)
}

// rateLimited handles a 429: HubSpot's ten-second window passes quickly, its
// daily limit only at midnight in the account's time zone.
func (p *Plugin) rateLimited(a account, c call, res *response, e APIError, suffix string) error {
	now := p.now()
	wait := retryAfter(res.header, now)
	daily := e.PolicyName == "DAILY" || strings.Contains(strings.ToLower(e.Message), "daily limit")
	var msg string
	switch {
	case daily:
		if wait <= 0 {
			wait = time.Hour
		}
		msg = fmt.Sprintf("hubspot: %s: daily API limit reached (429 DAILY); HubSpot resets it at midnight in the account's time zone, callgate checks again in %s%s", c.what, wait, suffix)
	default:
		// HubSpot's window is rolling: waiting one interval frees it.
		if w := p.limiter(a).window(); wait < w {
			wait = w
		}
		policy := orDefault(e.PolicyName, "rate limit")
		msg = fmt.Sprintf("hubspot: %s: too many requests (429 %s); retry in %s%s", c.what, policy, wait, suffix)
	}
	p.limiter(a).pause(now.Add(wait))
	return sdk.RateLimited(wait, "%s", msg)
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// missingScopes finds the scopes a 403 names: in
// errors[].context.requiredGranularScopes (or requiredScopes), or in the
// top-level context.
func missingScopes(e APIError) []string {
	var out []string
	seen := map[string]bool{}
	add := func(ctx map[string]any) {
		for _, k := range []string{"requiredGranularScopes", "requiredScopes", "requiredGranularScope"} {
			switch v := ctx[k].(type) {
			case []any:
				for _, s := range v {
					if str, ok := s.(string); ok && !seen[str] {
						seen[str] = true
						out = append(out, str)
					}
				}
			case string:
				if !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
		}
	}
	add(e.Context)
	for _, item := range e.Errors {
		add(item.Context)
	}
	return out
}

func looksLikeHTML(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && t[0] == '<'
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
