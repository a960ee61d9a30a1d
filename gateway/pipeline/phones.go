package pipeline

import (
	"slices"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/sdk"
)

// PhoneFields are the record fields tried for ag's number on an event from
// the plugin whose manifest is m: the agent's phone_fields when it sets
// them, else m.PhoneFields. Empty: only the record's Phones are tried.
func PhoneFields(ag *config.Agent, m sdk.Manifest) []string {
	if len(ag.PhoneFields) > 0 {
		return ag.PhoneFields
	}
	return m.PhoneFields
}

// AgentPlugins are the plugins whose events ag takes: the types of its
// integrations or, when it lists none, of every integration; sorted,
// without repeats.
func AgentPlugins(cfg *config.Config, ag *config.Agent) []string {
	var out []string
	add := func(name string) {
		if in, ok := cfg.Integrations[name]; ok {
			out = append(out, in.Type)
		}
	}
	if len(ag.Integrations) > 0 {
		for _, name := range ag.Integrations {
			add(name)
		}
	} else {
		for name := range cfg.Integrations {
			add(name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AgentPhoneFields resolves ag's phone fields without an event at hand,
// for views and dry runs: PhoneFields with the manifest of the first of
// AgentPlugins that manifest knows. from is "agent" or "plugin NAME"; it
// is "" when the agent sets none and manifest knows none of its plugins.
func AgentPhoneFields(cfg *config.Config, ag *config.Agent, manifest func(plugin string) (sdk.Manifest, bool)) (fields []string, from string) {
	if len(ag.PhoneFields) > 0 {
		return ag.PhoneFields, "agent"
	}
	for _, name := range AgentPlugins(cfg, ag) {
		if m, ok := manifest(name); ok {
			return PhoneFields(ag, m), "plugin " + name
		}
	}
	return nil, ""
}
