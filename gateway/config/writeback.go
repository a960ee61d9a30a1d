package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/hashicorp/hcl/v2"
)

// An agent's writeback block refines `writeback = true`: which attempts
// are logged in the CRM, the logged call's title and body, the
// dispositions, and follow-up rules (set record properties, create a task)
// decided by expr over the call and what the platform reported:
//
//	writeback {
//	  attempts = "every"                    # or "final"
//	  title    = "'AI call: ' + call.agent_id"
//	  body     = "outcome.summary"
//	  dispositions = { interested = "f240bbac-…", voicemail = "b2cf5968-…" }
//	  follow_up "qualified" {
//	    when = "outcome.data.qualified == true"
//	    set  = { lifecyclestage = "'salesqualifiedlead'" }
//	    task { title = "'Book the demo'"  due = "24h"  owner = "41629779" }
//	  }
//	}

// Writeback attempt choices.
const (
	WritebackEvery = "every" // every ended attempt is logged (the default)
	WritebackFinal = "final" // only the attempt that ends the call
)

// Writeback is an agent's writeback block, compiled.
type Writeback struct {
	Attempts string // WritebackEvery or WritebackFinal
	Title    *Template
	Body     *Template
	// Dispositions maps a callgate outcome, or the platform's own
	// disposition word, to the CRM's disposition value; the platform's
	// word wins when both are mapped.
	Dispositions map[string]string
	FollowUps    []FollowUp
}

// FollowUp is one follow_up block: when its rule holds for an attempt,
// Set's properties are written to the record and Task is created.
type FollowUp struct {
	Name string
	When *Template // bool
	Set  map[string]*Template
	Task *TaskRule
}

// TaskRule is a follow_up's task block.
type TaskRule struct {
	Title *Template
	Body  *Template     // optional
	Due   time.Duration // after the attempt ended; default 24h
	Owner string        // the CRM's user id; "" the CRM's default
}

// Template is a compiled expression of a writeback block: a string (title,
// body, set values) or a bool (when), evaluated over a WritebackEnv.
type Template struct {
	Expr
	prog *vm.Program
}

// WritebackEnv is what writeback expressions see: call, outcome,
// variables and now. Outcome is the ended attempt as every post-call rule
// sees it (notify.OutcomeVars; docs/rules.md, "After the call"): a map
// whose keys are always present.
type WritebackEnv struct {
	Call      WritebackCall  `expr:"call"`
	Outcome   map[string]any `expr:"outcome"`
	Variables map[string]any `expr:"variables"` // the call's variables; a missing one is nil
	Now       time.Time      `expr:"now"`
}

// WritebackCall is the call as writeback rules see it.
type WritebackCall struct {
	ID       string `expr:"id"`
	AgentID  string `expr:"agent_id"`
	ToNumber string `expr:"to_number"`
	Status   string `expr:"status"` // the call's status after this attempt
	Reason   string `expr:"reason"`
	Attempts int    `expr:"attempts"` // attempts made so far
	Final    bool   `expr:"final"`    // the call is over
}

// Render evaluates a string template; nil renders "".
func (t *Template) Render(env WritebackEnv) (string, error) {
	if t == nil {
		return "", nil
	}
	v, err := expr.Run(t.prog, env)
	if err != nil {
		return "", fmt.Errorf("%s: %w", t.Source, err)
	}
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", x), "0"), "."), nil
	}
	return fmt.Sprint(v), nil
}

// Holds evaluates a bool template (a follow-up's when).
func (t *Template) Holds(env WritebackEnv) (bool, error) {
	v, err := expr.Run(t.prog, env)
	if err != nil {
		return false, fmt.Errorf("%s: %w", t.Source, err)
	}
	b, _ := v.(bool)
	return b, nil
}

// Disposition is the CRM value for an attempt: the mapping of the
// platform's word, else of the outcome, else "" (the plugin's default).
func (w *Writeback) Disposition(outcome, platform string) string {
	if w == nil {
		return ""
	}
	if v, ok := w.Dispositions[platform]; ok && platform != "" {
		return v
	}
	return w.Dispositions[outcome]
}

// Logs says whether an ended attempt is logged: every one, or with
// attempts = "final" only the one after which the call is over.
func (w *Writeback) Logs(final bool) bool {
	return w == nil || w.Attempts != WritebackFinal || final
}

// CompileWritebackExpr compiles src as a writeback expression (asBool for a
// when), as the loader does; `callgate rules test` uses it too.
func CompileWritebackExpr(src string, asBool bool) (*vm.Program, error) {
	opts := []expr.Option{expr.Env(WritebackEnv{}), expr.MaxNodes(2000)}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	var prog *vm.Program
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("expr could not compile this expression (%v); simplify it", r)
			}
		}()
		prog, err = expr.Compile(src, opts...)
	}()
	return prog, err
}

// writebackBlock reads an agent's writeback block.
func (d *decoder) writebackBlock(b *hcl.Block, agent string) *Writeback {
	w := &Writeback{Attempts: WritebackEvery}
	blocks := d.decodeBody(b.Body, fields{
		"attempts": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok && d.checkOneOf(a.Expr.Range(), "writeback attempts", v, WritebackEvery, WritebackFinal) {
				w.Attempts = v
			}
		},
		"title": func(a *hcl.Attribute) { w.Title = d.template(a, agent, "", false) },
		"body":  func(a *hcl.Attribute) { w.Body = d.template(a, agent, "", false) },
		"dispositions": func(a *hcl.Attribute) {
			if v, ok := d.strMap(a); ok {
				w.Dispositions = v
			}
		},
	}, hcl.BlockHeaderSchema{Type: "follow_up", LabelNames: []string{"name"}})
	seen := map[string]hcl.Range{}
	for _, fb := range blocks {
		name := fb.Labels[0]
		if first, dup := seen[name]; dup {
			d.errorf(fb.DefRange, "agent %q: a second follow_up %q (the first is at line %d)", agent, name, first.Start.Line)
			continue
		}
		seen[name] = fb.DefRange
		if f, ok := d.followUp(fb, agent); ok {
			w.FollowUps = append(w.FollowUps, f)
		}
	}
	return w
}

func (d *decoder) followUp(b *hcl.Block, agent string) (FollowUp, bool) {
	f := FollowUp{Name: b.Labels[0]}
	var whenSet, setGiven bool
	blocks := d.decodeBody(b.Body, fields{
		"when": func(a *hcl.Attribute) { whenSet = true; f.When = d.template(a, agent, "follow_up "+f.Name+" ", true) },
		"set": func(a *hcl.Attribute) {
			setGiven = true
			m, ok := d.exprMap(a)
			if !ok {
				return
			}
			f.Set = map[string]*Template{}
			names := make([]string, 0, len(m))
			for k := range m {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				if t := d.compileTemplate(m[k], agent, "follow_up "+f.Name+" set."+k, false); t != nil {
					f.Set[k] = t
				}
			}
		},
	}, hcl.BlockHeaderSchema{Type: "task"})
	for i, tb := range blocks {
		if i > 0 {
			d.errorf(tb.DefRange, "agent %q: follow_up %q has a second task block; write another follow_up", agent, f.Name)
			continue
		}
		f.Task = d.taskRule(tb, agent, f.Name)
	}
	if !whenSet {
		d.errorf(b.DefRange, "agent %q: follow_up %q needs a when rule (e.g. when = \"outcome.status == 'completed'\")", agent, f.Name)
		return f, false
	}
	if !setGiven && len(blocks) == 0 {
		d.errorf(b.DefRange, "agent %q: follow_up %q does nothing: give it set = { … } or a task block", agent, f.Name)
		return f, false
	}
	return f, f.When != nil
}

func (d *decoder) taskRule(b *hcl.Block, agent, followUp string) *TaskRule {
	t := &TaskRule{Due: 24 * time.Hour}
	var titleSet bool
	at := "follow_up " + followUp + " task "
	d.decodeBody(b.Body, fields{
		"title": func(a *hcl.Attribute) { titleSet = true; t.Title = d.template(a, agent, at, false) },
		"body":  func(a *hcl.Attribute) { t.Body = d.template(a, agent, at, false) },
		"due": func(a *hcl.Attribute) {
			if v, ok := d.duration(a); ok {
				t.Due = v
			}
		},
		"owner": func(a *hcl.Attribute) {
			if v, ok := d.str(a); ok {
				t.Owner = strings.TrimSpace(v)
			}
		},
	})
	if !titleSet {
		d.errorf(b.DefRange, "agent %q: a task needs a title (an expression, e.g. title = \"'Call back ' + call.to_number\")", agent)
	}
	return t
}

// template reads and compiles one expression attribute; where names its
// block for errors ("follow_up q task ").
func (d *decoder) template(a *hcl.Attribute, agent, where string, asBool bool) *Template {
	e, ok := d.expr(a)
	if !ok {
		return nil
	}
	return d.compileTemplate(e, agent, where+a.Name, asBool)
}

// compileTemplate compiles e, reporting a problem at its place in the file.
func (d *decoder) compileTemplate(e Expr, agent, field string, asBool bool) *Template {
	if strings.TrimSpace(e.Source) == "" {
		d.errorf(e.Range, "agent %q: writeback %s: the expression is empty", agent, field)
		return nil
	}
	prog, err := CompileWritebackExpr(e.Source, asBool)
	if err != nil {
		msg, line, col := err.Error(), 0, 0
		var fe *file.Error
		if errors.As(err, &fe) {
			msg, line, col = fe.Message, fe.Line, fe.Column+1
		}
		d.errorf(exprErrorRange(e, line, col, e.Range), "agent %q: writeback %s: %s", agent, field, strings.TrimSpace(msg))
		return nil
	}
	return &Template{Expr: e, prog: prog}
}

// WritebackIntegrations names the integrations some agent with writeback
// on may write to (an agent that names none may use any), sorted: those
// whose credentials must allow logging calls.
func (c *Config) WritebackIntegrations() []string {
	set := map[string]bool{}
	for _, ag := range c.Agents {
		if !ag.Writeback {
			continue
		}
		names := ag.Integrations
		if len(names) == 0 {
			names = sortedKeys(c.Integrations)
		}
		for _, n := range names {
			if c.Integrations[n] != nil {
				set[n] = true
			}
		}
	}
	return sortedKeys(set)
}
