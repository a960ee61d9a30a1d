package config

import (
	"errors"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/callgate/callgate/rules"
)

// checkRules compiles each agent's when and variables with the rules
// package, so an expression that does not compile (or a when that is not
// bool) is refused at load with its position in the file.
func (d *decoder) checkRules(cfg *Config) {
	for _, name := range sortedKeys(cfg.Agents) {
		ag := cfg.Agents[name]
		_, err := rules.Compile(ag.RulesSpec(cfg.Server))
		var errs rules.CompileErrors
		if !errors.As(err, &errs) {
			if err != nil {
				d.errorf(d.refs.agentDef[name], "agent %q: %v", name, err)
			}
			continue
		}
		for _, ce := range errs {
			var at Expr
			switch {
			case ce.Field == "when":
				at = ag.When
			case strings.HasPrefix(ce.Field, "variables."):
				at = ag.Variables[strings.TrimPrefix(ce.Field, "variables.")]
			default:
				continue // required_variables: reported while decoding
			}
			msg, _, _ := strings.Cut(ce.Message, "\n") // expr's caret snippet; the position says as much
			d.errorf(exprErrorRange(at, ce.Line, ce.Column, d.refs.agentDef[name]),
				"agent %q: %s: %s", name, ce.Field, strings.TrimSpace(msg))
		}
	}
}

// RulesSpec is the rules.Spec the gateway compiles for the agent: its when,
// variables, required variables, region and timezone. Agents whose calls
// take the number's or the record's zone ("callee", "contact") compile in
// the server's default zone; each call's own zone reaches the rules as
// call.timezone. The pipeline, the config check and the rules dry run all
// compile this one spec.
func (ag *Agent) RulesSpec(srv Server) rules.Spec {
	spec := rules.Spec{
		When:      ag.When.Source,
		Variables: make(map[string]string, len(ag.Variables)),
		Required:  ag.RequiredVariables,
		Region:    ag.Region,
		Location:  time.UTC, // a bad timezone is reported where it was read
	}
	for v, e := range ag.Variables {
		spec.Variables[v] = e.Source
	}
	if z, err := callee.Resolve("", callee.Facts{Agent: ag.Timezone, Default: srv.DefaultTimezone}); err == nil {
		spec.Location = z.Location
	}
	return spec
}

// exprErrorRange places a problem found at line:col (1-based) of an
// expression's text in the file. A rule that was not written in the file
// (the default when) is placed at the agent block.
func exprErrorRange(e Expr, line, col int, agentDef hcl.Range) hcl.Range {
	if e.Range.Filename == "" {
		return agentDef
	}
	if line < 1 || col < 1 {
		return e.Range
	}
	start := e.textStart
	pos := hcl.Pos{Line: start.Line + line - 1, Column: col, Byte: start.Byte + col - 1}
	switch {
	case line == 1:
		pos.Column = start.Column + col - 1
	case e.Range.Start.Line == e.Range.End.Line:
		// A quoted string on one file line: the expression's line breaks
		// were written as the two characters \n, so its lines follow each
		// other on that one file line.
		off := col - 1
		for i, l := range strings.SplitN(e.Source, "\n", line) {
			if i < line-1 {
				off += len(l) + len(`\n`)
			}
		}
		pos = hcl.Pos{Line: start.Line, Column: start.Column + off, Byte: start.Byte + off}
	}
	return hcl.Range{Filename: e.Range.Filename, Start: pos, End: pos}
}
