package cli

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/pluginhost"
	"github.com/callgate/callgate/gateway/reconcile"
	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/server"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/web"
	"github.com/callgate/callgate/sdk"
)

// adminParts are the running parts the admin API and the dashboard act
// through: cancels go through the scheduler (so its lanes and
// notifications see them), replays through the store (whose commits wake
// the pipeline), plugin state comes from the plugin host.
type adminParts struct {
	Plugins   *pluginhost.Host
	Scheduler *scheduler.Scheduler
	Refusals  *refused.Log
	Ingest    *ingest.Handler // for the dashboard's test webhooks
	// Reconciler's last passes are shown with the audit.
	Reconciler *reconcile.Reconciler
}

// wireAdmin mounts the admin API (calls, DND, agents, plugins, rules test,
// backup, outbox; /api/v1/events is the pipeline's) behind the admin bearer auth,
// and the dashboard at /ui/.
func (a *app) wireAdmin(cfg *config.Config, p adminParts) error {
	current := a.cfg.Load
	crms := integrationPlugins{host: p.Plugins, cfg: current}
	fields := newFieldChecker(a.log.Named("fields"), current, crms)
	adm, err := api.New(api.Options{
		Config:          current,
		Calls:           a.store,
		Canceler:        p.Scheduler,
		DND:             a.store,
		Plugins:         pluginStatuses{p.Plugins},
		Manifests:       p.Plugins,
		Credentials:     crms,
		Fields:          crms,
		FieldWarnings:   fields,
		Rules:           newRulesTester(current, p.Plugins.Manifest, time.Now, crms),
		Backup:          backuper(a.store),
		Outbox:          a.store,
		Eraser:          p.Scheduler,
		Stats:           a.store,
		Pending:         a.store,
		Auditor:         a.store,
		Reconciliations: p.Reconciler,
		Refusals:        p.Refusals,
		TestWebhooks:    testWebhooks{ingest: p.Ingest, cfg: current},
		Logger:          a.log.Named("admin"),
	})
	if err != nil {
		return err
	}
	// Field warnings and credential checks follow the config: run in the
	// background once the plugins are up, and again after each reload.
	fields.credentials = adm.RefreshCredentials
	a.goRun("field check", fields.run)
	a.onReload("field check", func(*config.Config) error { fields.again(); return nil })
	for _, rt := range adm.Routes() {
		a.http.HandleAdmin(rt.Method, strings.TrimPrefix(rt.Path, server.AdminPrefix), rt.Handler)
	}
	dash, err := web.New(web.Options{
		Config: current,
		API:    adm,
		Calls:  a.store,
		Events: a.store,
		Logger: a.log.Named("dashboard"),
		// One budget per address for the admin API and the sign-in form.
		SignInThrottle: a.http.AdminThrottle(),
	})
	if err != nil {
		return err
	}
	a.http.Handle(http.MethodGet, "/ui", http.RedirectHandler(web.Prefix, http.StatusMovedPermanently))
	// The front door is the dashboard's overview.
	a.http.Handle(http.MethodGet, "/", http.RedirectHandler(web.Prefix, http.StatusSeeOther))
	a.http.HandlePrefix(web.Prefix, dash.Handler())
	if len(cfg.Server.AdminTokenSHA256) == 0 {
		a.log.Warn("the dashboard at /ui/ refuses every sign-in until server.admin_token_sha256 is set (callgate keys new --admin)")
	}
	return nil
}

// pluginStatuses adapts the plugin host to api.Plugins.
type pluginStatuses struct{ host *pluginhost.Host }

func (ps pluginStatuses) Status() []api.PluginStatus {
	var out []api.PluginStatus
	for _, s := range ps.host.Status() {
		m := s.Manifest
		st := api.PluginStatus{Name: s.Name, Version: s.Version, Source: s.Source, State: s.State,
			Restarts: s.Restarts, PID: s.PID, LastError: s.LastError}
		if m.Name != "" {
			am := &api.Manifest{DisplayName: m.DisplayName, ProtocolVersion: m.ProtocolVersion,
				EventTypes: m.EventTypes, Capabilities: m.Capabilities, CredentialFields: []api.CredentialField{},
				ContentTypes: m.ContentTypes, PhoneFields: m.PhoneFields}
			if len(am.ContentTypes) == 0 {
				am.ContentTypes = []string{sdk.DefaultContentType}
			}
			if am.PhoneFields == nil {
				am.PhoneFields = []string{}
			}
			for _, f := range m.CredentialFields {
				am.CredentialFields = append(am.CredentialFields, api.CredentialField{Name: f.Name,
					Description: f.Description, Secret: f.Secret, Required: f.Required})
			}
			st.Manifest = am
		}
		out = append(out, st)
	}
	return out
}

// integrationPlugins reaches an integration's CRM through its plugin,
// with the configured credentials: credential checks and field listings.
type integrationPlugins struct {
	host *pluginhost.Host
	cfg  func() *config.Config
}

func (c integrationPlugins) CheckCredentials(ctx context.Context, integration string) error {
	crm, creds, err := c.plugin(integration)
	if err != nil {
		return err
	}
	if err := crm.CheckCredentials(ctx, creds); err != nil {
		return err
	}
	// An agent logs calls here: the credentials must allow that too.
	m, _ := c.host.Manifest(c.cfg().Integrations[integration].Type)
	l, ok := crm.(sdk.CallLogger)
	if ok && slices.Contains(m.Capabilities, sdk.CapabilityLogCall) && slices.Contains(c.cfg().WritebackIntegrations(), integration) {
		_, err = l.LogCall(ctx, sdk.LogCallRequest{Credentials: creds, CheckOnly: true})
	}
	return err
}

// ListFields lists an integration's fields through its plugin.
func (c integrationPlugins) ListFields(ctx context.Context, integration, objectType string) ([]sdk.Field, error) {
	crm, creds, err := c.plugin(integration)
	if err != nil {
		return nil, err
	}
	return crm.ListFields(ctx, creds, objectType)
}

// FetchRecords reads records of an integration through its plugin.
func (c integrationPlugins) FetchRecords(ctx context.Context, integration string, req sdk.FetchRequest) (sdk.FetchResult, error) {
	crm, creds, err := c.plugin(integration)
	if err != nil {
		return sdk.FetchResult{}, err
	}
	req.Credentials = creds
	return crm.FetchRecords(ctx, req)
}

// plugin is the plugin serving integration, with its credentials.
func (c integrationPlugins) plugin(integration string) (sdk.CRM, sdk.Credentials, error) {
	in, ok := c.cfg().Integrations[integration]
	if !ok {
		return nil, nil, fmt.Errorf("integration %q is no longer in the config", integration)
	}
	crm, ok := c.host.CRM(in.Type)
	if !ok {
		return nil, nil, fmt.Errorf("no plugin %q runs for integration %q", in.Type, integration)
	}
	return crm, sdk.Credentials(in.Credentials), nil
}

// backuper is st's backup, or nil (no /api/v1/backup route) for a store
// that is backed up with its database's own tools.
func backuper(st store.Store) api.Backuper {
	if b, ok := st.(store.Backuper); ok {
		return b
	}
	return nil
}
