package api

import (
	"net/http"
	"slices"
	"sort"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/sdk"
)

// Manifests finds a running plugin's manifest by name
// (*pluginhost.Host implements it).
type Manifests interface {
	Manifest(name string) (sdk.Manifest, bool)
}

// Agent is one agent block as the API shows it: its policy and its rules.
type Agent struct {
	ID                string            `json:"id"`
	Dialer            string            `json:"dialer"`
	Integrations      []string          `json:"integrations"`
	Types             []string          `json:"types"` // the CRM plugin types its integrations serve, sorted
	Region            string            `json:"region"`
	PhoneFields       []string          `json:"phone_fields"`      // the effective ones; empty: the record's phones only
	PhoneFieldsFrom   string            `json:"phone_fields_from"` // "agent", "plugin NAME" or NoPluginRunning
	When              string            `json:"when"`
	Variables         map[string]string `json:"variables"`
	RequiredVariables []string          `json:"required_variables"`
	Policy            Policy            `json:"policy"` // timezone may be "callee"
	DedupeWindow      string            `json:"dedupe_window"`
	Writeback         bool              `json:"writeback"`
	// Warnings are the latest field check's findings for the agent: the
	// contact fields its rules read that its integrations' accounts lack
	// (docs/rules.md). Empty until the check has run.
	Warnings []string `json:"warnings"`
}

// FieldWarnings are the warnings of the latest field check, by agent
// (the gateway runs it in the background after start and each reload).
type FieldWarnings interface {
	AgentWarnings() map[string][]string
}

// AgentList is the body of GET /api/v1/agents.
type AgentList struct {
	Agents []Agent `json:"agents"`
}

// NoPluginRunning is Agent.PhoneFieldsFrom for an agent without
// phone_fields none of whose plugins runs: its fields are not known yet.
const NoPluginRunning = "no running plugin"

// Agents lists cfg's agents sorted by name. An agent without phone_fields
// shows its plugin's, from plugins' manifests (nil: none known).
func Agents(cfg *config.Config, plugins Manifests) []Agent {
	manifest := func(string) (sdk.Manifest, bool) { return sdk.Manifest{}, false }
	if plugins != nil {
		manifest = plugins.Manifest
	}
	out := make([]Agent, 0, len(cfg.Agents))
	for _, ag := range cfg.Agents {
		out = append(out, agentView(cfg, ag, manifest))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Agents lists the current config's agents with Options.Manifests.
// Each carries its field warnings from Options.FieldWarnings.
func (a *API) Agents() []Agent {
	out := Agents(a.opts.Config(), a.opts.Manifests)
	if a.opts.FieldWarnings == nil {
		return out
	}
	byAgent := a.opts.FieldWarnings.AgentWarnings()
	for i := range out {
		out[i].Warnings = nonNil(byAgent[out[i].ID])
	}
	return out
}

func agentView(cfg *config.Config, ag *config.Agent, manifest func(string) (sdk.Manifest, bool)) Agent {
	v := Agent{
		ID:                ag.Name,
		Dialer:            ag.Dialer,
		Integrations:      nonNil(ag.Integrations),
		Region:            ag.Region,
		When:              firstOf(ag.When.Source, config.DefaultWhen),
		Variables:         map[string]string{},
		RequiredVariables: nonNil(ag.RequiredVariables),
		DedupeWindow:      ag.DedupeWindow.String(),
		Writeback:         ag.Writeback,
		Warnings:          []string{},
	}
	v.Types = agentTypes(cfg, ag)
	v.PhoneFields, v.PhoneFieldsFrom = pipeline.AgentPhoneFields(cfg, ag, manifest)
	v.PhoneFields = nonNil(v.PhoneFields)
	if v.PhoneFieldsFrom == "" {
		v.PhoneFieldsFrom = NoPluginRunning
	}
	for name, e := range ag.Variables {
		v.Variables[name] = e.Source
	}
	v.Policy.Timezone = ag.Timezone
	if ag.Window != nil {
		v.Policy.Window = &Window{Start: ag.Window.Start, End: ag.Window.End,
			CarryOver: ag.Window.CarryOver, Days: ag.Window.Days}
	}
	v.Policy.Retry = RetryPolicy{Max: ag.Retry.Max, On: ag.Retry.On, Gaps: []Duration{}}
	for _, g := range ag.Retry.Gaps {
		v.Policy.Retry.Gaps = append(v.Policy.Retry.Gaps, Duration(g))
	}
	return v
}

func (a *API) listAgents(w http.ResponseWriter, r *http.Request) {
	reply.JSON(w, http.StatusOK, AgentList{Agents: a.Agents()})
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// agentTypes are the plugin types of ag's integrations, sorted.
func agentTypes(cfg *config.Config, ag *config.Agent) []string {
	types := []string{}
	for _, in := range cfg.IntegrationsOf(ag) {
		if !slices.Contains(types, in.Type) {
			types = append(types, in.Type)
		}
	}
	slices.Sort(types)
	return types
}
