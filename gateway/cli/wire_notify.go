package cli

import (
	"context"
	"errors"
	"slices"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/pluginhost"
	"github.com/callgate/callgate/sdk"
)

// startNotifier builds the notifier that delivers call notifications
// (server.notify, agents' notify) and CRM write-backs (agents' writeback)
// from the store's outbox, and runs it in the background. Agents' settings
// are read from the running config, so a reload applies them at once;
// server.notify and notify_secret need a restart.
// The scheduler commits the notifier's items with each call change; the
// store signals the delivery loop after such a commit.
func (a *app) startNotifier(cfg *config.Config, host *pluginhost.Host) (*notify.Notifier, error) {
	n, err := notify.New(notify.Config{
		Store:      a.store,
		Secret:     cfg.Server.NotifySecret,
		ServerURLs: cfg.Server.Notify,
		AgentURLs: func(agentID string) []string {
			if ag, ok := a.cfg.Load().Agents[agentID]; ok {
				return ag.Notify
			}
			return nil
		},
		Writeback: func(agentID string) bool {
			ag, ok := a.cfg.Load().Agents[agentID]
			return ok && ag.Writeback
		},
		WritebackRules: func(agentID string) *config.Writeback {
			if ag, ok := a.cfg.Load().Agents[agentID]; ok {
				return ag.WritebackRules
			}
			return nil
		},
		Capabilities: func(integration string) []string {
			in, ok := a.cfg.Load().Integrations[integration]
			if !ok {
				return nil
			}
			m, _ := host.Manifest(in.Type)
			return m.Capabilities
		},
		CRM: func(integration string) (notify.CRMUpdater, sdk.Credentials, bool) {
			in, ok := a.cfg.Load().Integrations[integration]
			if !ok {
				return nil, nil, false
			}
			crm, ok := host.CRM(in.Type)
			if !ok {
				return nil, nil, false
			}
			return crm, sdk.Credentials(in.Credentials), true
		},
		Logger:     a.log,
		Registerer: a.registry,
	})
	if err != nil {
		return nil, err
	}
	a.goRun("notify", n.Run)
	a.goRun("writeback check", func(ctx context.Context) error {
		// Say now, not at the first call, what the CRM credentials lack.
		for name, err := range n.CheckWriteback(ctx, a.cfg.Load().WritebackIntegrations()) {
			a.log.Warn("write-back will fail for this integration until its credentials are fixed", "integration", name, "error", err)
		}
		return nil
	})
	urls, secret := slices.Clone(cfg.Server.Notify), cfg.Server.NotifySecret
	a.onReload("notify", func(next *config.Config) error {
		if !slices.Equal(next.Server.Notify, urls) || next.Server.NotifySecret != secret {
			return errors.New("server.notify and server.notify_secret changes need a restart; agents' notify and writeback changes are applied")
		}
		return nil
	})
	return n, nil
}
