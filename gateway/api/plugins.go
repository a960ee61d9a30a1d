package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/sdk"
)

// Integration is one integration block with its last credential check.
type Integration struct {
	Name        string           `json:"name"`
	Type        string           `json:"type"`
	Credentials CredentialResult `json:"credentials"`
}

// CredentialResult is the outcome of a credential check.
type CredentialResult struct {
	OK      bool `json:"ok"`
	Checked bool `json:"checked"` // false: no checker configured
	// State is accepted, rejected (the CRM refused the credentials),
	// unreachable (the CRM or the plugin could not be reached, or rate
	// limited the check: nothing is known about the credentials), failed
	// (another refusal, e.g. a bad base_url) or not_checked.
	State     string    `json:"state"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// Summary says in a sentence what the check found, for flashes and logs.
func (c CredentialResult) Summary() string {
	switch {
	case !c.Checked:
		return "credentials not checked: this gateway has no credential checker"
	case c.OK:
		return "credentials accepted"
	case c.State == CredentialsUnreachable:
		return "the CRM could not be reached, so the credentials are not known: " + c.Error
	case c.State == CredentialsFailed:
		return "the credential check failed: " + c.Error
	}
	return "credentials rejected by the CRM: " + c.Error
}

// CredentialResult.State values.
const (
	CredentialsAccepted    = "accepted"
	CredentialsRejected    = "rejected"
	CredentialsUnreachable = "unreachable"
	CredentialsFailed      = "failed"
	CredentialsNotChecked  = "not_checked"
)

// PluginList is the body of GET /api/v1/plugins.
type PluginList struct {
	Plugins      []PluginStatus `json:"plugins"`
	Integrations []Integration  `json:"integrations"`
}

// PluginList reports the plugin processes and every integration's
// credential check (cached for Options.CredentialTTL, and only while the
// integration's credentials stay those it was checked with).
func (a *API) PluginList(ctx context.Context) PluginList {
	out := PluginList{Plugins: []PluginStatus{}, Integrations: []Integration{}}
	if a.opts.Plugins != nil {
		out.Plugins = append(out.Plugins, a.opts.Plugins.Status()...)
		sort.Slice(out.Plugins, func(i, j int) bool { return out.Plugins[i].Name < out.Plugins[j].Name })
	}
	cfg := a.opts.Config()
	names := make([]string, 0, len(cfg.Integrations))
	for name := range cfg.Integrations {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		in := cfg.Integrations[name]
		out.Integrations = append(out.Integrations, Integration{
			Name: name, Type: in.Type, Credentials: a.creds.check(ctx, in, false),
		})
	}
	return out
}

// CheckCredentials checks an integration's credentials now, whatever the
// cache holds (the dashboard's Check now, POST
// /api/v1/integrations/{name}/check), and caches the result.
func (a *API) CheckCredentials(ctx context.Context, integration string) (Integration, error) {
	in, ok := a.opts.Config().Integrations[integration]
	if !ok {
		return Integration{}, fmt.Errorf("%w %q: use one of %s", ErrUnknownIntegration, integration, strings.Join(Integrations(a.opts.Config()), ", "))
	}
	return Integration{Name: in.Name, Type: in.Type, Credentials: a.creds.check(ctx, in, true)}, nil
}

// RefreshCredentials checks again the integrations that were checked
// with other credentials than the config's (a reload changed them) and
// returns those it checked; integrations never checked are left for the
// first view. The gateway calls it after each reload, so the plugins page
// and the log follow the config.
func (a *API) RefreshCredentials(ctx context.Context) []Integration {
	cfg := a.opts.Config()
	var out []Integration
	for _, name := range Integrations(cfg) {
		in := cfg.Integrations[name]
		if !a.creds.changed(name, credentialFingerprint(in)) {
			continue
		}
		out = append(out, Integration{Name: name, Type: in.Type, Credentials: a.creds.check(ctx, in, true)})
	}
	return out
}

func (a *API) checkCredentials(w http.ResponseWriter, r *http.Request) {
	name := pathVar(r, "name")
	in, err := a.CheckCredentials(r.Context(), name)
	if err != nil {
		reply.Error(w, http.StatusNotFound, err.Error())
		return
	}
	reply.JSON(w, http.StatusOK, in)
}

// Integrations lists cfg's integrations without checking them.
func Integrations(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Integrations))
	for name := range cfg.Integrations {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func (a *API) listPlugins(w http.ResponseWriter, r *http.Request) {
	reply.JSON(w, http.StatusOK, a.PluginList(r.Context()))
}

// credentialCache remembers credential check results so that the
// dashboard and the API do not spend a CRM API call on every view. A
// result is kept for ttl and only while the integration's type and
// credentials are those it was made with: a reload that changes them
// makes the next view (or RefreshCredentials) check again.
type credentialCache struct {
	checker CredentialChecker
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	results map[string]cachedCredentials
}

type cachedCredentials struct {
	result      CredentialResult
	fingerprint string
}

func newCredentialCache(c CredentialChecker, ttl time.Duration, now func() time.Time) *credentialCache {
	return &credentialCache{checker: c, ttl: ttl, now: now, results: map[string]cachedCredentials{}}
}

// fresh is the cached result for the integration, if it is still good.
func (c *credentialCache) fresh(integration, fingerprint string) (CredentialResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	got, ok := c.results[integration]
	if !ok || got.fingerprint != fingerprint || c.now().Sub(got.result.CheckedAt) >= c.ttl {
		return CredentialResult{}, false
	}
	return got.result, true
}

// changed reports whether the integration was checked with credentials
// other than fingerprint's.
func (c *credentialCache) changed(integration, fingerprint string) bool {
	if c.checker == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	got, ok := c.results[integration]
	return ok && got.fingerprint != fingerprint
}

// check answers from the cache unless force is set or the result is stale.
func (c *credentialCache) check(ctx context.Context, in *config.Integration, force bool) CredentialResult {
	if c.checker == nil {
		return CredentialResult{State: CredentialsNotChecked}
	}
	fp := credentialFingerprint(in)
	if res, ok := c.fresh(in.Name, fp); ok && !force {
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := c.checker.CheckCredentials(ctx, in.Name)
	res := credentialResult(err, c.now().UTC())
	c.mu.Lock()
	c.results[in.Name] = cachedCredentials{result: res, fingerprint: fp}
	c.mu.Unlock()
	return res
}

// credentialResult classes a check's error: the CRM refusing the
// credentials (auth) is "rejected"; not reaching it, a timeout or a rate
// limit is "unreachable" (nothing is known about the credentials); any
// other refusal (a bad base_url, a missing field) is "failed".
func credentialResult(err error, at time.Time) CredentialResult {
	res := CredentialResult{OK: err == nil, Checked: true, CheckedAt: at, State: CredentialsAccepted}
	if err == nil {
		return res
	}
	res.Error = err.Error()
	var se *sdk.Error
	if errors.As(err, &se) {
		res.Error = se.Message
	}
	switch sdk.ClassOf(err) {
	case sdk.ClassAuth:
		res.State = CredentialsRejected
	case sdk.ClassTransient, sdk.ClassRateLimited:
		res.State = CredentialsUnreachable
	default:
		res.State = CredentialsFailed
	}
	return res
}

// credentialFingerprint identifies an integration's type and credentials
// without keeping them: a digest, so the cache holds no secret.
func credentialFingerprint(in *config.Integration) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", in.Type)
	for _, k := range slices.Sorted(maps.Keys(in.Credentials)) {
		fmt.Fprintf(h, "%s\x00%s\x00", k, in.Credentials[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}
