// Package rules compiles and evaluates an agent's rules: the `when`
// condition that decides whether a CRM event leads to a call, and the
// variables handed to the voice agent. Expressions are expr-lang/expr
// programs, type-checked once per config load against a declared
// environment (contact, event, call, now) with callgate's helpers (e164,
// title, first_name, words, round_to, format_date).
//
// A compiled Program's only mutable parts are a timezone cache and a pool
// of expr VMs, both safe for concurrent use, so one Program serves any
// number of goroutines. Evaluation never panics: a
// runtime error in `when` is returned as an error naming the rule, and one
// in a variable is recorded in Result.VariableErrors.
package rules

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// DefaultWhen is the when rule of an agent that names none: call on
// creation events only.
const DefaultWhen = "event.kind == 'created'"

// DefaultRegion is the region used to read phone numbers written without a
// +country prefix when Spec.Region is empty.
const DefaultRegion = "IN"

// MaxNodes is the largest expression, in AST nodes, that Compile accepts.
const MaxNodes = 1000

// Spec is an agent's rules as written in the config.
type Spec struct {
	When      string            // "" → DefaultWhen
	Variables map[string]string // variable name → expression
	Required  []string          // variables that must be non-empty
	Location  *time.Location    // the agent's timezone; nil → UTC
	Region    string            // default region for e164(); "" → DefaultRegion
}

// CompileError is one problem found in one expression of a Spec.
type CompileError struct {
	Field   string // "when", "variables.<name>" or "required_variables"
	Line    int    // 1-based line inside the expression text (0 if unknown)
	Column  int    // 1-based column inside the expression text (0 if unknown)
	Message string // expr's own message including its caret snippet
}

// Error implements error.
func (e *CompileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: %d:%d: %s", e.Field, e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// CompileErrors lists every problem Compile found, in a stable order:
// when, variables by name, required_variables.
type CompileErrors []*CompileError

// Error implements error.
func (es CompileErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Program is a compiled Spec, safe for concurrent use.
type Program struct {
	when      *vm.Program
	whenSrc   string
	variables []compiledVariable // sorted by name
	required  []string
	fields    []string
	dynamic   bool // a rule reads contact[<computed name>]
	location  *time.Location
	region    string
	zones     *sync.Map // IANA name → *time.Location, filled lazily
	vms       sync.Pool // *vm.VM, reused between evaluations
}

type compiledVariable struct {
	name    string
	program *vm.Program
}

// Compile type-checks and compiles every expression of spec. Its error is
// CompileErrors listing every problem, not just the first.
func Compile(spec Spec) (*Program, error) {
	p := &Program{
		whenSrc:  spec.When,
		location: spec.Location,
		region:   strings.ToUpper(strings.TrimSpace(spec.Region)),
		zones:    &sync.Map{},
	}
	if p.whenSrc == "" {
		p.whenSrc = DefaultWhen
	}
	if p.location == nil {
		p.location = time.UTC
	}
	if p.region == "" {
		p.region = DefaultRegion
	}
	p.vms.New = func() any { return &vm.VM{} }

	var errs CompileErrors
	opts := p.options()
	when, err := compileOne(p.whenSrc, append(opts[:len(opts):len(opts)], expr.AsBool())...)
	if err != nil {
		errs = append(errs, compileError("when", err))
	}
	p.when = when

	names := make([]string, 0, len(spec.Variables))
	for name := range spec.Variables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		src := spec.Variables[name]
		field := "variables." + name
		if strings.TrimSpace(src) == "" {
			errs = append(errs, &CompileError{Field: field, Message: "expression is empty; write one, e.g. contact." + name})
			continue
		}
		prog, err := compileOne(src, opts...)
		if err != nil {
			errs = append(errs, compileError(field, err))
			continue
		}
		p.variables = append(p.variables, compiledVariable{name: name, program: prog})
	}

	seen := make(map[string]bool, len(spec.Required))
	for _, name := range spec.Required {
		if _, ok := spec.Variables[name]; !ok {
			errs = append(errs, &CompileError{Field: "required_variables",
				Message: fmt.Sprintf("%q is not a variable; define it under variables or remove it", name)})
			continue
		}
		if !seen[name] {
			seen[name] = true
			p.required = append(p.required, name)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	p.fields, p.dynamic = p.collectFields()
	return p, nil
}

// compileOne is expr.Compile; a panic inside expr becomes an error, since
// a config with a strange expression must not take the gateway down.
func compileOne(src string, opts ...expr.Option) (prog *vm.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, fmt.Errorf("expr could not compile this expression (%v); simplify it", r)
		}
	}()
	return expr.Compile(src, opts...)
}

// compileError turns expr's error into a CompileError with 1-based
// positions inside the expression text.
func compileError(field string, err error) *CompileError {
	ce := &CompileError{Field: field, Message: err.Error()}
	var fe *file.Error
	if errors.As(err, &fe) {
		ce.Message = fe.Message + fe.Snippet
		if strings.Contains(fe.Message, "exceeds maximum allowed nodes") {
			ce.Message = fmt.Sprintf("expression is longer than the node limit (%d nodes); split it into variables or simplify it", MaxNodes)
		}
		if fe.Line > 0 {
			ce.Line, ce.Column = fe.Line, fe.Column+1
		}
	}
	return ce
}

// When is the when rule's source as compiled (DefaultWhen when the spec
// named none).
func (p *Program) When() string { return p.whenSrc }

// Location is the timezone dates are shown in when the call names none.
func (p *Program) Location() *time.Location { return p.location }

// Fields lists the contact fields referenced by any expression, sorted and
// deduplicated, so the pipeline fetches exactly those properties. Fields
// read with a computed key (contact[event.property]) cannot be listed.
func (p *Program) Fields() []string {
	return append([]string(nil), p.fields...)
}

// ComputedFields reports whether a rule reads a contact field by a computed
// name (contact[event.property]), which Fields cannot list: a caller that
// wants such rules to see data fetches the whole record.
func (p *Program) ComputedFields() bool { return p.dynamic }

func (p *Program) collectFields() ([]string, bool) {
	c := &fieldCollector{seen: map[string]bool{}}
	if p.when != nil {
		node := p.when.Node()
		ast.Walk(&node, c)
	}
	for _, v := range p.variables {
		node := v.program.Node()
		ast.Walk(&node, c)
	}
	sort.Strings(c.fields)
	// `contact` used whole (keys(contact), let c = contact; c.x) reads
	// fields no member access names.
	return c.fields, c.dynamic || c.uses > c.members
}

// fieldCollector finds contact.x and contact["x"] in an AST.
type fieldCollector struct {
	seen    map[string]bool
	fields  []string
	dynamic bool
	uses    int // every `contact` identifier
	members int // those that are contact.x or contact[…]
}

func (c *fieldCollector) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok && id.Value == "contact" {
		c.uses++
		return
	}
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != "contact" {
		return
	}
	c.members++
	s, ok := m.Property.(*ast.StringNode)
	if !ok {
		c.dynamic = true
		return
	}
	if c.seen[s.Value] {
		return
	}
	c.seen[s.Value] = true
	c.fields = append(c.fields, s.Value)
}
