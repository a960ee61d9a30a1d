package config

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/agext/levenshtein"

	"github.com/callgate/callgate/rules"
)

// Property is one field of a CRM account's main object (HubSpot's contact
// properties, LeadSquared's lead fields), as a plugin's ListFields names it.
type Property struct {
	Name  string
	Label string
}

// PropertyLister reads an integration's properties through its plugin,
// with the integration's credentials.
type PropertyLister func(ctx context.Context, integration string) ([]Property, error)

// FieldWarning is a contact field an agent's rules or phone_fields read
// that the account of one of its integrations does not have. It is a
// warning, never a problem: the account may add the property later.
type FieldWarning struct {
	Agent       string `json:"agent"`
	Integration string `json:"integration"`
	Field       string `json:"field"`
	// Suggestion is the account's property whose name or label is
	// closest to Field ("" when none is close).
	Suggestion string `json:"suggestion,omitempty"`
}

// String is the warning as logs and `config check` print it:
// agent sales-intro: contact.first_name: no such property in hubspot; did you mean firstname?
func (w FieldWarning) String() string {
	return fmt.Sprintf("agent %s: %s", w.Agent, w.Message())
}

// Message is String without the agent, for views listed per agent.
func (w FieldWarning) Message() string {
	msg := fmt.Sprintf("contact.%s: no such property in %s", w.Field, w.Integration)
	if w.Suggestion != "" {
		msg += "; did you mean " + w.Suggestion + "?"
	}
	return msg
}

// FieldCheck is what CheckFields found: the warnings, and the
// integrations whose properties could not be read (so their agents'
// fields went unchecked).
type FieldCheck struct {
	Warnings  []FieldWarning         `json:"warnings"`
	Unchecked []UncheckedIntegration `json:"unchecked"`
}

// UncheckedIntegration is an integration whose properties could not be read.
type UncheckedIntegration struct {
	Integration string `json:"integration"`
	Error       string `json:"error"`
}

// ByAgent groups the warnings' messages by agent.
func (fc FieldCheck) ByAgent() map[string][]string {
	out := map[string][]string{}
	for _, w := range fc.Warnings {
		out[w.Agent] = append(out[w.Agent], w.Message())
	}
	return out
}

// AgentFields are the contact fields ag reads by name: those its when and
// variables reference (rules.Program.Fields, the list the pipeline
// fetches) and its own phone_fields, sorted. Fields read by a computed
// name (contact[event.property]) cannot be listed and are not.
func AgentFields(cfg *Config, ag *Agent) []string {
	var fields []string
	if p, err := rules.Compile(ag.RulesSpec(cfg.Server)); err == nil {
		fields = p.Fields()
	}
	fields = append(fields, ag.PhoneFields...)
	slices.Sort(fields)
	return slices.Compact(fields)
}

// AgentIntegrations are the integrations ag takes events from: those it
// lists, else every one; sorted.
func AgentIntegrations(cfg *Config, ag *Agent) []string {
	if len(ag.Integrations) > 0 {
		return slices.Sorted(slices.Values(ag.Integrations))
	}
	return sortedKeys(cfg.Integrations)
}

// CheckFields compares every agent's fields (AgentFields) with the
// properties of each integration it takes events from, read once per
// integration with list. An integration list cannot read is reported in
// Unchecked, not as warnings.
func CheckFields(ctx context.Context, cfg *Config, list PropertyLister) FieldCheck {
	res := FieldCheck{Warnings: []FieldWarning{}, Unchecked: []UncheckedIntegration{}}
	props := map[string][]Property{}
	failed := map[string]bool{}
	read := func(integration string) ([]Property, bool) {
		if ps, ok := props[integration]; ok {
			return ps, true
		}
		if failed[integration] {
			return nil, false
		}
		ps, err := list(ctx, integration)
		if err != nil {
			failed[integration] = true
			res.Unchecked = append(res.Unchecked, UncheckedIntegration{Integration: integration, Error: err.Error()})
			return nil, false
		}
		props[integration] = ps
		return ps, true
	}
	for _, name := range sortedKeys(cfg.Agents) {
		ag := cfg.Agents[name]
		fields := AgentFields(cfg, ag)
		if len(fields) == 0 {
			continue
		}
		for _, in := range AgentIntegrations(cfg, ag) {
			if cfg.Integrations[in] == nil {
				continue
			}
			ps, ok := read(in)
			if !ok {
				continue
			}
			known := make(map[string]bool, len(ps))
			for _, p := range ps {
				known[p.Name] = true
			}
			for _, f := range fields {
				if !known[f] {
					res.Warnings = append(res.Warnings, FieldWarning{Agent: name, Integration: in, Field: f, Suggestion: DidYouMean(f, ps)})
				}
			}
		}
	}
	return res
}

// DidYouMean is the property whose name, or label, is closest to field
// by edit distance once case and punctuation are set aside
// (first_name → firstname, "City" → mx_City); "" when none is within a
// third of the field's length (at least 1, at most 3 edits).
func DidYouMean(field string, props []Property) string {
	want := fold(field)
	limit := min(max(len([]rune(want))/3, 1), 3)
	best, bestDist := "", limit+1
	for _, p := range props {
		d := distance(want, fold(p.Name))
		if l := fold(p.Label); l != "" {
			d = min(d, distance(want, l))
		}
		if d < bestDist || (d == bestDist && best != "" && p.Name < best) {
			best, bestDist = p.Name, d
		}
	}
	if bestDist > limit || best == field {
		return ""
	}
	return best
}

// fold lower-cases s and drops everything but letters and digits.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func distance(a, b string) int {
	return levenshtein.Distance(a, b, nil)
}
