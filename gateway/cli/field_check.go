package cli

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
)

// fieldListTimeout bounds one integration's property listing.
const fieldListTimeout = 20 * time.Second

// accountProperties adapts a field lister (the plugins, with each
// integration's credentials) to config.CheckFields: the properties of the
// plugin's main object (HubSpot contacts, LeadSquared leads).
func accountProperties(fields api.FieldLister) config.PropertyLister {
	return func(ctx context.Context, integration string) ([]config.Property, error) {
		ctx, cancel := context.WithTimeout(ctx, fieldListTimeout)
		defer cancel()
		fs, err := fields.ListFields(ctx, integration, "")
		if err != nil {
			return nil, err
		}
		out := make([]config.Property, len(fs))
		for i, f := range fs {
			out[i] = config.Property{Name: f.Name, Label: f.Label}
		}
		return out, nil
	}
}

// fieldChecker runs the field check (config.CheckFields) in the
// background: once when the gateway has started and again after each
// reload, never in the way of either. It logs what it finds and keeps
// the latest warnings for GET /api/v1/agents and the dashboard. After each
// run it refreshes the credential checks the config's changes made stale.
type fieldChecker struct {
	log    hclog.Logger
	config func() *config.Config
	fields api.FieldLister
	// credentials re-checks stale credential results (api.API's
	// RefreshCredentials); nil: not done.
	credentials func(context.Context) []api.Integration
	kick        chan struct{}

	mu   sync.Mutex
	last config.FieldCheck
}

func newFieldChecker(log hclog.Logger, cfg func() *config.Config, fields api.FieldLister) *fieldChecker {
	return &fieldChecker{log: log, config: cfg, fields: fields, kick: make(chan struct{}, 1)}
}

// AgentWarnings implements api.FieldWarnings.
func (fc *fieldChecker) AgentWarnings() map[string][]string {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.last.ByAgent()
}

// again asks for a new run; runs asked for while one is going are merged.
func (fc *fieldChecker) again() {
	select {
	case fc.kick <- struct{}{}:
	default:
	}
}

// run checks now and after each again() until ctx ends.
func (fc *fieldChecker) run(ctx context.Context) error {
	for {
		fc.once(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fc.kick:
		}
	}
}

func (fc *fieldChecker) once(ctx context.Context) {
	res := config.CheckFields(ctx, fc.config(), accountProperties(fc.fields))
	if ctx.Err() != nil {
		return
	}
	fc.mu.Lock()
	fc.last = res
	fc.mu.Unlock()
	for _, u := range res.Unchecked {
		fc.log.Warn("could not read the account's properties; the contact fields of its agents are not checked",
			"integration", u.Integration, "error", u.Error)
	}
	for _, w := range res.Warnings {
		fc.log.Warn(w.String())
	}
	if len(res.Warnings) == 0 && len(res.Unchecked) == 0 {
		fc.log.Debug("every contact field the agents' rules read is a property of its account")
	}
	if fc.credentials == nil {
		return
	}
	for _, in := range fc.credentials(ctx) {
		if c := in.Credentials; !c.OK {
			fc.log.Warn("integration credentials checked again after the reload: "+c.Summary(), "integration", in.Name, "state", c.State)
		}
	}
}
