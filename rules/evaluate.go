package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Evaluate runs the rules for one record: the when rule, then, when it is
// true, every variable. A runtime error in the when rule (a text compared
// with a number, …) is returned as an error naming the rule; the Result
// still lists missing fields. An error in a variable is recorded in
// Result.VariableErrors. Evaluate never panics.
func (p *Program) Evaluate(env Env) (Result, error) {
	return p.evaluate(env, false)
}

// evaluate is Evaluate; allVariables evaluates variables even when the
// when rule is false or fails (for trying rules, where seeing them helps).
func (p *Program) evaluate(env Env, allVariables bool) (Result, error) {
	var res Result
	for _, f := range p.fields {
		if env.Contact[f] == nil {
			res.MissingFields = append(res.MissingFields, f)
		}
	}
	loc, err := p.zone(env.Call.Timezone)
	if err != nil {
		return res, fmt.Errorf("call timezone: %w", err)
	}
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	env.Now = env.Now.In(loc)

	v := p.vms.Get().(*vm.VM)
	defer p.vms.Put(v)
	var boxed any = env // box once, not once per expression

	out, whenErr := run(v, p.when, boxed)
	if whenErr != nil {
		whenErr = fmt.Errorf("when rule %q failed: %w", p.whenSrc, whenErr)
		res.Reason = whenErr.Error()
	} else if res.Call, _ = out.(bool); !res.Call {
		res.Reason = fmt.Sprintf("when rule %q was false", p.whenSrc)
	}
	if !res.Call && !allVariables {
		return res, whenErr
	}

	res.Variables = make(map[string]string, len(p.variables))
	for _, cv := range p.variables {
		out, err := run(v, cv.program, boxed)
		if err == nil {
			var s string
			var ok bool
			s, ok, err = Format(out, loc)
			if ok {
				res.Variables[cv.name] = s
			}
		}
		if err != nil {
			if res.VariableErrors == nil {
				res.VariableErrors = map[string]string{}
			}
			res.VariableErrors[cv.name] = err.Error()
		}
	}
	for _, name := range p.required {
		if _, failed := res.VariableErrors[name]; !failed && strings.TrimSpace(res.Variables[name]) == "" {
			res.MissingRequired = append(res.MissingRequired, name)
		}
	}
	return res, whenErr
}

// run executes one program; a panic becomes an error. Errors keep expr's
// message and position but not its caret snippet: they end up in one-line
// reasons on call records.
func run(v *vm.VM, prog *vm.Program, env any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	out, err = v.Run(prog, env)
	if err != nil {
		err = withoutSnippet(err)
	}
	return out, err
}

// withoutSnippet drops expr's caret snippet from a runtime error. (A
// function of its own so the error target escapes only on errors.)
func withoutSnippet(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) && fe.Snippet != "" {
		return &runtimeError{msg: fmt.Sprintf("%s (%d:%d)", fe.Message, fe.Line, fe.Column+1), err: err}
	}
	return err
}

// runtimeError is an expression's runtime error without the snippet.
type runtimeError struct {
	msg string
	err error
}

func (e *runtimeError) Error() string { return e.msg }
func (e *runtimeError) Unwrap() error { return e.err }

// Decision is the pipeline's verdict on a Result: call only when the when
// rule is true, no variable failed and every required variable has a
// value; otherwise reason says why, naming the rule or variables.
func (r Result) Decision() (call bool, reason string) {
	if !r.Call {
		return false, r.Reason
	}
	if len(r.VariableErrors) > 0 {
		names := sortedKeys(r.VariableErrors)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("variable %q: %s", n, r.VariableErrors[n])
		}
		return false, strings.Join(parts, "; ")
	}
	if len(r.MissingRequired) > 0 {
		return false, fmt.Sprintf("required variables without a value: %s", strings.Join(r.MissingRequired, ", "))
	}
	return true, ""
}

// Format turns a rule's result into the text handed to the voice agent:
// numbers plainly (2500, 0.5; no exponent, no trailing zeros), bools as
// true/false, times in RFC 3339 in loc, text as is, durations as Go
// writes them (1h30m0s), lists and maps as JSON. ok is false for nil.
func Format(v any, loc *time.Location) (s string, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case bool:
		return strconv.FormatBool(x), true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", false, fmt.Errorf("%v is not a finite number", x)
		}
		if x == 0 {
			x = 0 // no "-0"
		}
		return strconv.FormatFloat(x, 'f', -1, 64), true, nil
	case int:
		return strconv.Itoa(x), true, nil
	case time.Time:
		return x.In(loc).Format(time.RFC3339), true, nil
	case time.Duration:
		return x.String(), true, nil
	case *time.Location:
		return x.String(), true, nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		return strconv.FormatInt(rv.Int(), 10), true, nil
	case rv.CanUint():
		return strconv.FormatUint(rv.Uint(), 10), true, nil
	case rv.CanFloat():
		return Format(rv.Float(), loc)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, fmt.Errorf("cannot turn %T into text: %w", v, err)
	}
	return string(b), true, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
