package ingest

import (
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
)

// AgentPolicy is the call policy an agent's config block describes, before
// any request overrides. The config loader has filled every default, so
// Timezone is an IANA name, "callee" or "contact" until the call's zone is
// resolved (callee.Resolve).
func AgentPolicy(ag *config.Agent) store.Policy {
	p := store.Policy{Timezone: ag.Timezone}
	if ag.Window != nil {
		p.Window = &store.Window{Start: ag.Window.Start, End: ag.Window.End, CarryOver: ag.Window.CarryOver,
			Days: append([]string(nil), ag.Window.Days...)}
	}
	p.Retry.Max = ag.Retry.Max
	for _, g := range ag.Retry.Gaps {
		p.Retry.Gaps = append(p.Retry.Gaps, store.Duration(g))
	}
	p.Retry.On = append([]string(nil), ag.Retry.On...)
	return p
}
