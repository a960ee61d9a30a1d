package api

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
)

// Integration is one integration block with its last credential check.
type Integration struct {
	Name        string           `json:"name"`
	Type        string           `json:"type"`
	Credentials CredentialResult `json:"credentials"`
}

// CredentialResult is the outcome of a credential check.
type CredentialResult struct {
	OK        bool      `json:"ok"`
	Checked   bool      `json:"checked"` // false: no checker configured
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// PluginList is the body of GET /api/v1/plugins.
type PluginList struct {
	Plugins      []PluginStatus `json:"plugins"`
	Integrations []Integration  `json:"integrations"`
}

// PluginList reports the plugin processes and every integration's
// credential check (cached for Options.CredentialTTL).
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
			Name: name, Type: in.Type, Credentials: a.creds.check(ctx, name),
		})
	}
	return out
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
// dashboard and the API do not spend a CRM API call on every view.
type credentialCache struct {
	checker CredentialChecker
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	results map[string]CredentialResult
}

func newCredentialCache(c CredentialChecker, ttl time.Duration, now func() time.Time) *credentialCache {
	return &credentialCache{checker: c, ttl: ttl, now: now, results: map[string]CredentialResult{}}
}

func (c *credentialCache) check(ctx context.Context, integration string) CredentialResult {
	if c.checker == nil {
		return CredentialResult{}
	}
	c.mu.Lock()
	res, ok := c.results[integration]
	c.mu.Unlock()
	if ok && c.now().Sub(res.CheckedAt) < c.ttl {
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := c.checker.CheckCredentials(ctx, integration)
	res = CredentialResult{OK: err == nil, Checked: true, CheckedAt: c.now().UTC()}
	if err != nil {
		res.Error = err.Error()
	}
	c.mu.Lock()
	c.results[integration] = res
	c.mu.Unlock()
	return res
}
