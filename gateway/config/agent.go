package config

import "slices"

// IntegrationsOf are the integrations ag may be served by: those it
// lists, in its order, or (it lists none) every integration, by name.
func (c *Config) IntegrationsOf(ag *Agent) []*Integration {
	names := ag.Integrations
	if len(names) == 0 {
		for n := range c.Integrations {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	out := make([]*Integration, 0, len(names))
	for _, n := range names {
		if in, ok := c.Integrations[n]; ok {
			out = append(out, in)
		}
	}
	return out
}

// IntegrationFor is the first of ag's integrations (IntegrationsOf) whose
// plugin type is typ.
func (c *Config) IntegrationFor(ag *Agent, typ string) (*Integration, bool) {
	for _, in := range c.IntegrationsOf(ag) {
		if in.Type == typ {
			return in, true
		}
	}
	return nil, false
}
