package cli

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/ingest"
	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/gateway/pluginhost"
	"github.com/callgate/callgate/gateway/reconcile"
	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/server"
	"github.com/callgate/callgate/gateway/store"
)

// wireWebhook brings up the webhook path in data-flow order: the plugin
// host, the notifier, the scheduler with its dialers, the inbox, the
// pipeline, and the HTTP endpoints (/call/crm-webhook, /call/outbound,
// /call/delete-schedule-call, /call/status/{dialer}, /api/v1/events…).
func (a *app) wireWebhook(cfg *config.Config) error {
	// Refusals at the public endpoints are logged, counted and listed
	// (callgate events refused), so a CRM whose webhooks bounce is seen.
	refusals, err := refused.New(refused.Config{Logger: a.log.Named("refused"), Registerer: a.registry,
		RequestIDHeader: server.RequestIDHeader, TrustedProxies: cfg.Server.Limits.TrustedProxies})
	if err != nil {
		return err
	}
	host, err := a.startPluginHost(cfg)
	if err != nil {
		return err
	}
	notifier, err := a.startNotifier(cfg, host)
	if err != nil {
		return err
	}
	sched, err := a.startScheduler(cfg, notifier, refusals)
	if err != nil {
		return err
	}
	// The store is the inbox; its commits wake the pipeline
	// (Changes(store.TopicInbox)): appends from ingest and reconciliation,
	// replays, events woken after a reload.
	inbox := a.store
	pipe, err := pipeline.New(pipeline.Config{
		Config: a.cfg.Load, Inbox: inbox, Plugins: host, Scheduler: sched, DND: a.store,
		Logger: a.log, Registerer: a.registry,
	})
	if err != nil {
		return err
	}
	a.goRun("pipeline", pipe.Run)
	a.pending = func() (config.Pending, error) { return inbox.PendingByAgent(context.Background()) }
	a.onReload("pipeline", func(next *config.Config) error {
		// Events waiting for an agent or integration the reload brought
		// back go on now rather than at their next re-check.
		n, err := inbox.WakeOrphans(context.Background(), time.Now(), func(agent, integration string) bool {
			return next.Agents[agent] != nil && next.Integrations[integration] != nil
		})
		if n > 0 {
			a.log.Info("events whose agent came back are due again", "events", n)
		}
		return err
	})
	// Reconciliation finds the records no webhook brought (integrations
	// with a reconcile block) and appends their events to the same inbox.
	rec, err := reconcile.New(reconcile.Config{
		Config: a.cfg.Load, Plugins: host, Inbox: inbox, Store: a.store,
		Logger: a.log, Registerer: a.registry,
	})
	if err != nil {
		return err
	}
	a.goRun("reconcile", rec.Run)
	a.onReload("reconcile", func(*config.Config) error {
		rec.Wake() // a block added, removed or changed takes effect now
		return nil
	})
	ing, err := ingest.New(ingest.Config{
		Config: a.cfg.Load, Inbox: inbox, Plugins: host, Scheduler: sched, DND: a.store,
		Logger: a.log, Registerer: a.registry,
	})
	if err != nil {
		return err
	}
	ing.Mount(func(method, path string, h http.Handler) { a.http.Handle(method, path, refusals.Middleware(path, h)) })
	events := &api.EventsAPI{Store: inbox, Region: func() string { return a.cfg.Load().Server.DefaultRegion }}
	events.Mount(func(method, path string, h http.Handler) { a.http.HandleAdmin(method, path, h) })
	// The admin API and dashboard act through these same parts (wire_admin.go).
	if err := a.wireAdmin(cfg, adminParts{Plugins: host, Scheduler: sched, Refusals: refusals, Ingest: ing, Reconciler: rec}); err != nil {
		return err
	}
	a.log.Info("webhook path ready", "plugins", strings.Join(host.Names(), ","), "pending_events", pendingCount(inbox))
	return nil
}

// startPluginHost starts the built-in and configured plugins; it is
// closed at shutdown.
func (a *app) startPluginHost(cfg *config.Config) (*pluginhost.Host, error) {
	var external []*config.Plugin
	for _, name := range slices.Sorted(maps.Keys(cfg.Plugins)) {
		external = append(external, cfg.Plugins[name])
	}
	host, err := pluginhost.New(pluginhost.Config{
		Builtins: builtinPluginNames(), External: external,
		Logger: a.log, Registerer: a.registry,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := host.Start(ctx); err != nil {
		return nil, fmt.Errorf("start plugins: %w", err)
	}
	a.onClose("plugins", host.Close)
	a.http.AddReadyCheck("plugins", host.Ready)
	return host, nil
}

// startScheduler builds a dialer per dialer block and the scheduler over
// them (committing notifier's items with each call change), runs it in the
// background and mounts its status callbacks.
func (a *app) startScheduler(cfg *config.Config, notifier scheduler.Notifier, refusals *refused.Log) (*scheduler.Scheduler, error) {
	dialers := map[string]scheduler.Dialer{}
	limits := map[string]scheduler.Limits{}
	for name, d := range cfg.Dialers {
		dl, err := dialer.New(d, dialer.Options{Logger: a.log})
		if err != nil {
			return nil, fmt.Errorf("dialer %q: %w", name, err)
		}
		dialers[name] = dl
		limits[name] = scheduler.LimitsFromConfig(d)
	}
	public := strings.TrimSuffix(cfg.Server.PublicURL, "/")
	if public == "" {
		public = "http://" + cfg.Server.Listen
	}
	sched, err := scheduler.New(scheduler.Config{
		Store: a.store, Dialers: dialers, DialerLimits: limits, Logger: a.log,
		Registerer: a.registry, DefaultTimezone: cfg.Server.DefaultTimezone, Notifier: notifier,
		StatusCallbackURL: func(name string) string { return public + "/call/status/" + name },
		RecoverEvery:      recoverEvery(a.store),
	})
	if err != nil {
		return nil, err
	}
	a.goRun("scheduler", sched.Run)
	a.http.Handle(http.MethodPost, "/call/status/{dialer}", refusals.Middleware("/call/status/{dialer}", sched.StatusHandler()))
	return sched, nil
}

// pendingCount is the inbox's depth for a log line (-1 if it cannot be read).
func pendingCount(in store.Events) int {
	n, err := in.PendingEvents(context.Background())
	if err != nil {
		return -1
	}
	return n
}

// recoverEvery is how often the scheduler looks for calls a gone replica
// left dialing: never after start on a store one process holds (bbolt),
// every few seconds on one that replicas share.
func recoverEvery(st store.Store) time.Duration {
	if st.Info().Shared {
		return 5 * time.Second
	}
	return 0
}
