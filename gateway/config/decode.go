package config

import (
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// decoder turns HCL attributes into Go values, collecting every problem
// as a diagnostic instead of stopping at the first.
type decoder struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
	refs  *refs
}

func newDecoder(lookupEnv func(string) (string, bool)) *decoder {
	return &decoder{ctx: &hcl.EvalContext{
		Functions: map[string]function.Function{"env": envFunc(lookupEnv, unsetIsAnError)},
	}}
}

// envFunc is env("X") / env("X", "default"). For a variable that is
// unset (not merely empty) and has no default, unset decides: an error at
// the call (unsetIsAnError), or a placeholder for checks without secrets.
func unsetIsAnError(name string) (cty.Value, error) {
	return cty.NilVal, fmt.Errorf("environment variable %s is not set: set it, or give a default with env(%q, \"…\")", name, name)
}

func envFunc(lookupEnv func(string) (string, bool), unset func(name string) (cty.Value, error)) function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable, with an optional default.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, fmt.Errorf("env takes a name and at most one default, got %d arguments", len(args))
			}
			name := args[0].AsString()
			if v, ok := lookupEnv(name); ok {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return unset(name)
		},
	})
}

// errorf records a problem at rng.
func (d *decoder) errorf(rng hcl.Range, format string, args ...any) {
	r := rng
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf(format, args...),
		Subject:  &r,
	})
}

func (d *decoder) add(diags hcl.Diagnostics) { d.diags = append(d.diags, diags...) }

// value evaluates attr and converts it to ty; ok is false after a problem.
func (d *decoder) value(attr *hcl.Attribute, ty cty.Type, what string) (cty.Value, bool) {
	v, diags := attr.Expr.Value(d.ctx)
	if diags.HasErrors() {
		d.add(diags)
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.errorf(attr.Expr.Range(), "%s must be %s, not null", attr.Name, what)
		return cty.NilVal, false
	}
	c, err := convert.Convert(v, ty)
	if err != nil || !c.IsWhollyKnown() {
		d.errorf(attr.Expr.Range(), "%s must be %s", attr.Name, what)
		return cty.NilVal, false
	}
	return c, true
}

func (d *decoder) str(attr *hcl.Attribute) (string, bool) {
	v, ok := d.value(attr, cty.String, "a string")
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func (d *decoder) boolean(attr *hcl.Attribute) (bool, bool) {
	v, ok := d.value(attr, cty.Bool, "true or false")
	if !ok {
		return false, false
	}
	return v.True(), true
}

func (d *decoder) integer(attr *hcl.Attribute) (int64, bool) {
	v, ok := d.value(attr, cty.Number, "a whole number")
	if !ok {
		return 0, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		d.errorf(attr.Expr.Range(), "%s must be a whole number", attr.Name)
		return 0, false
	}
	n, acc := bf.Int64()
	if acc != 0 {
		d.errorf(attr.Expr.Range(), "%s is out of range", attr.Name)
		return 0, false
	}
	return n, true
}

func (d *decoder) strList(attr *hcl.Attribute) ([]string, bool) {
	v, ok := d.value(attr, cty.List(cty.String), "a list of strings")
	if !ok {
		return nil, false
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			d.errorf(attr.Expr.Range(), "%s must not contain null", attr.Name)
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

func (d *decoder) strMap(attr *hcl.Attribute) (map[string]string, bool) {
	v, ok := d.value(attr, cty.Map(cty.String), "a map of strings")
	if !ok {
		return nil, false
	}
	out := make(map[string]string, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			d.errorf(attr.Expr.Range(), "%s.%s must not be null", attr.Name, k.AsString())
			return nil, false
		}
		out[k.AsString()] = e.AsString()
	}
	return out, true
}

// duration parses a Go duration ("90s", "2h30m"); negative ones are refused.
func (d *decoder) duration(attr *hcl.Attribute) (time.Duration, bool) {
	s, ok := d.str(attr)
	if !ok {
		return 0, false
	}
	return d.parseDuration(attr.Expr.Range(), attr.Name, s)
}

func (d *decoder) parseDuration(rng hcl.Range, name, s string) (time.Duration, bool) {
	dur, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(rng, "%s: %q is not a duration: write it like \"90s\", \"30m\" or \"2h\"", name, s)
		return 0, false
	}
	if dur < 0 {
		d.errorf(rng, "%s: %q must not be negative", name, s)
		return 0, false
	}
	return dur, true
}

// expr reads an attribute holding an expr rule as a string, and remembers
// where the rule's text starts in the file so compile errors inside it can
// be pointed at exactly.
func (d *decoder) expr(attr *hcl.Attribute) (Expr, bool) {
	return d.exprFrom(attr.Expr, attr.Name)
}

func (d *decoder) exprFrom(e hcl.Expression, name string) (Expr, bool) {
	v, diags := e.Value(d.ctx)
	if diags.HasErrors() {
		d.add(diags)
		return Expr{}, false
	}
	c, err := convert.Convert(v, cty.String)
	if err != nil || c.IsNull() || !c.IsWhollyKnown() {
		d.errorf(e.Range(), "%s must be a string holding an expression", name)
		return Expr{}, false
	}
	return Expr{Source: c.AsString(), Range: e.Range(), textStart: textStart(e)}, true
}

// textStart is where a string literal's text begins: after the opening
// quote, or on the line after a heredoc's marker.
func textStart(e hcl.Expression) hcl.Pos {
	if t, ok := e.(*hclsyntax.TemplateExpr); ok && len(t.Parts) > 0 {
		return t.Parts[0].Range().Start
	}
	if w, ok := e.(*hclsyntax.TemplateWrapExpr); ok {
		return w.Wrapped.Range().Start
	}
	r := e.Range()
	return hcl.Pos{Line: r.Start.Line, Column: r.Start.Column + 1, Byte: r.Start.Byte + 1}
}

// exprMap reads `variables = { name = "expr", … }` keeping each value's position.
func (d *decoder) exprMap(attr *hcl.Attribute) (map[string]Expr, bool) {
	obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		d.errorf(attr.Expr.Range(), "%s must be an object of name = \"expression\" pairs", attr.Name)
		return nil, false
	}
	out := make(map[string]Expr, len(obj.Items))
	good := true
	for _, item := range obj.Items {
		kv, diags := item.KeyExpr.Value(d.ctx)
		if diags.HasErrors() {
			d.add(diags)
			good = false
			continue
		}
		k, err := convert.Convert(kv, cty.String)
		if err != nil || k.IsNull() {
			d.errorf(item.KeyExpr.Range(), "%s: names must be strings", attr.Name)
			good = false
			continue
		}
		name := k.AsString()
		if _, dup := out[name]; dup {
			d.errorf(item.KeyExpr.Range(), "%s: %q is given twice", attr.Name, name)
			good = false
			continue
		}
		x, ok := d.exprFrom(item.ValueExpr, attr.Name+"."+name)
		if !ok {
			good = false
			continue
		}
		out[name] = x
	}
	return out, good
}

// sortedKeys gives a map's keys in order, so problems come out in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// osLookupEnv is the real environment.
func osLookupEnv(name string) (string, bool) { return os.LookupEnv(name) }
