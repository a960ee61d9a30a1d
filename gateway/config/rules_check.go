package config

import (
	"errors"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/callgate/callgate/rules"
)

// checkRules compiles each agent's when and variables with the rules
// package, so an expression that does not compile (or a when that is not
// bool) is refused at load with its position in the file.
func (d *decoder) checkRules(cfg *Config) {
	for _, name := range sortedKeys(cfg.Agents) {
		ag := cfg.Agents[name]
		spec := rules.Spec{
			When:      ag.When.Source,
			Variables: make(map[string]string, len(ag.Variables)),
			Location:  agentLocation(ag.Timezone, cfg.Server.DefaultTimezone),
			Region:    ag.Region,
		}
		for v, e := range ag.Variables {
			spec.Variables[v] = e.Source
		}
		_, err := rules.Compile(spec)
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

// agentLocation is the timezone rules see for an agent; "callee" agents
// compile with the server default (the callee's zone is known per call).
func agentLocation(tz, fallback string) *time.Location {
	if tz == "callee" || tz == "" {
		tz = fallback
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC // already reported where the timezone was read
	}
	return loc
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
