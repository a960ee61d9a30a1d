package rules

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// options are the expr options every expression of p compiles with: the
// environment, the node limit and callgate's helpers. Helpers return nil
// for a nil input, so `title(contact.firstname) ?? 'there'` works.
func (p *Program) options() []expr.Option {
	opts := []expr.Option{
		expr.Env(Env{}),
		expr.MaxNodes(MaxNodes),
		expr.Patch(zonePatcher{}),
		expr.Function("e164", p.e164,
			new(func(any) string), new(func(any, string) string)),
		expr.Function("title", titleHelper, new(func(any) string)),
		expr.Function("first_name", firstNameHelper, new(func(any) string)),
		expr.Function("words", wordsHelper, new(func(any) string)),
		expr.Function("round_to", roundToHelper, new(func(any, any) float64)),
		// One signature only: zonePatcher supplies the third argument, and
		// expr keeps the overload it picked before patching.
		expr.Function("format_date", p.formatDate, new(func(any, string, string) string)),
	}
	// expr's date() and now() builtins read and give times in the agent's
	// timezone too (expr.Timezone panics on a name it cannot load).
	if _, err := time.LoadLocation(p.location.String()); err == nil {
		opts = append(opts, expr.Timezone(p.location.String()))
	}
	return opts
}

// zonePatcher rewrites format_date(t, layout) into
// format_date(t, layout, call.timezone), so dates show in the call's
// timezone, which Evaluate only learns per record.
type zonePatcher struct{}

func (zonePatcher) Visit(node *ast.Node) {
	c, ok := (*node).(*ast.CallNode)
	if !ok || len(c.Arguments) != 2 {
		return
	}
	if id, ok := c.Callee.(*ast.IdentifierNode); !ok || id.Value != "format_date" {
		return
	}
	c.Arguments = append(c.Arguments, &ast.MemberNode{
		Node:     &ast.IdentifierNode{Value: "call"},
		Property: &ast.StringNode{Value: "timezone"},
	})
}

// zone resolves an IANA name, "" meaning the agent's timezone. Names are
// cached: loading one reads the zoneinfo database.
func (p *Program) zone(name string) (*time.Location, error) {
	if name == "" {
		return p.location, nil
	}
	if loc, ok := p.zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w %q: use an IANA name such as Asia/Kolkata", errZone, name)
	}
	p.zones.Store(name, loc)
	return loc, nil
}

// e164 normalises a phone number to E.164; nil when it is not a valid
// number (so `e164(contact.phone) != nil` tests validity).
func (p *Program) e164(params ...any) (any, error) {
	region := p.region
	if len(params) == 2 {
		r, ok, err := text("e164 region", params[1])
		if err != nil {
			return nil, err
		}
		if ok && strings.TrimSpace(r) != "" {
			region = strings.ToUpper(strings.TrimSpace(r))
		}
	}
	e, err := E164(params[0], region)
	if e == "" || err != nil {
		return nil, err
	}
	return e, nil
}

// E164 normalises a phone number (text, or a number without its +) to
// E.164, reading numbers written without +country in region. It returns ""
// for nil, empty or invalid input, and an error only for a value that
// cannot be a phone number at all (a bool, a fraction, …).
func E164(v any, region string) (string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		s = x
	default:
		f, ok, err := number(v)
		if err != nil || !ok || f != math.Trunc(f) || f < 0 {
			return "", fmt.Errorf("e164: want a phone number as text, got %s", describe(v))
		}
		s = strconv.FormatFloat(f, 'f', -1, 64)
	}
	e, err := callee.Normalize(s, region)
	if err != nil {
		return "", nil
	}
	return e, nil
}

// titleHelper upper-cases the first letter of each word and lower-cases
// the rest: "ada LOVELACE" → "Ada Lovelace", "anne-marie" → "Anne-Marie".
func titleHelper(params ...any) (any, error) {
	s, ok, err := text("title", params[0])
	if !ok || err != nil {
		return nil, err
	}
	return Title(s), nil
}

// Title is the title() helper on a string.
func Title(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	start := true
	for _, r := range s {
		if start {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
		start = unicode.IsSpace(r) || r == '-' || r == '.'
	}
	return b.String()
}

// firstNameHelper returns the first word of a name, title-cased:
// "ada lovelace" → "Ada". An empty name gives nil.
func firstNameHelper(params ...any) (any, error) {
	s, ok, err := text("first_name", params[0])
	if !ok || err != nil {
		return nil, err
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, nil
	}
	return Title(fields[0]), nil
}

func wordsHelper(params ...any) (any, error) {
	n, ok, err := number(params[0])
	if err != nil {
		return nil, fmt.Errorf("words: %w", err)
	}
	if !ok {
		return nil, nil
	}
	return Words(n)
}

func roundToHelper(params ...any) (any, error) {
	n, ok, err := number(params[0])
	if err != nil {
		return nil, fmt.Errorf("round_to: %w", err)
	}
	if !ok {
		return nil, nil
	}
	step, ok, err := number(params[1])
	if err != nil || !ok {
		return nil, fmt.Errorf("round_to: step must be a number, got %s", describe(params[1]))
	}
	return RoundTo(n, step)
}

// RoundTo rounds n to the nearest multiple of step, halves away from zero:
// RoundTo(2459, 100) = 2500. The result has no more decimals than step.
func RoundTo(n, step float64) (float64, error) {
	if step <= 0 || math.IsNaN(step) || math.IsInf(step, 0) {
		return 0, fmt.Errorf("round_to: step must be a positive number, got %v", step)
	}
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("round_to: %v is not a finite number", n)
	}
	q := n / step
	if math.Abs(q) < 1e6 {
		// 1.005/0.01 is 100.49999999999999 in binary; people mean 100.5.
		q = math.Round(q*1e6) / 1e6
	}
	r := math.Round(q) * step
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return 0, fmt.Errorf("round_to: %v rounded to %v is out of range", n, step)
	}
	// Trim float noise (round_to(0.3, 0.1) is 0.3, not 0.30000000000000004).
	s := strconv.FormatFloat(step, 'f', -1, 64)
	decimals := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		decimals = len(s) - i - 1
	}
	if decimals > 0 {
		r, _ = strconv.ParseFloat(strconv.FormatFloat(r, 'f', decimals, 64), 64)
	}
	if r == 0 {
		r = 0 // no negative zero
	}
	return r, nil
}

func (p *Program) formatDate(params ...any) (any, error) {
	layout, ok, err := text("format_date layout", params[1])
	if err != nil || !ok {
		return nil, fmt.Errorf("format_date: the layout must be text such as '2 Jan 2006', got %s", describe(params[1]))
	}
	zone, _, err := text("format_date timezone", params[2])
	if err != nil {
		return nil, err
	}
	loc, err := p.zone(zone)
	if err != nil {
		return nil, fmt.Errorf("format_date: %w", err)
	}
	t, ok, err := AsTime(params[0], loc)
	if err != nil {
		return nil, fmt.Errorf("format_date: %w", err)
	}
	if !ok {
		return nil, nil
	}
	return t.In(loc).Format(layout), nil
}

// isoLayouts are the ISO 8601 shapes AsTime reads; the ones without an
// offset are read in the given location.
var isoLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102",
}

// AsTime reads a time.Time, an ISO 8601 string (a date, or a date and time
// with or without an offset; without one it is read in loc) or a number of
// milliseconds since the Unix epoch (as HubSpot sends dates; as text, more
// than eight digits, since 20261127 is a date). ok is false
// for nil or an empty string.
func AsTime(v any, loc *time.Location) (t time.Time, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x, true, nil
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, false, nil
		}
		if isDigits(s) && len(s) > 8 { // 20261127 is a date, not milliseconds
			ms, err := strconv.ParseInt(s, 10, 64)
			if err == nil {
				return time.UnixMilli(ms), true, nil
			}
		}
		for _, layout := range isoLayouts {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, true, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("%q is not an ISO 8601 date or time (e.g. 2026-11-27 or 2026-11-27T09:30:00Z)", clip(s))
	}
	f, ok, err := number(v)
	if err != nil || !ok {
		return time.Time{}, false, fmt.Errorf("want a time, an ISO 8601 string or epoch milliseconds, got %s", describe(v))
	}
	if math.IsNaN(f) || math.Abs(f) > 1e16 {
		return time.Time{}, false, fmt.Errorf("%v is out of range for epoch milliseconds", f)
	}
	return time.UnixMilli(int64(f)), true, nil
}

// text reads a string argument; ok is false for nil.
func text(helper string, v any) (s string, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	}
	return "", false, fmt.Errorf("%s: want text, got %s", helper, describe(v))
}

var (
	errNotNumber = errors.New("not a number")
	errZone      = errors.New("unknown timezone")
)

// number reads a numeric argument: any Go number, or text holding a decimal
// number (CRMs often store amounts as text; "1,25,000" is read as 125000).
// ok is false for nil.
func number(v any) (f float64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		return x, true, nil
	case int:
		return float64(x), true, nil
	case string:
		s := strings.ReplaceAll(strings.TrimSpace(x), ",", "")
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || s == "" || strings.ContainsAny(s, "xXpP_") {
			return 0, false, fmt.Errorf("%q: %w", clip(x), errNotNumber)
		}
		return f, true, nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		return float64(rv.Int()), true, nil
	case rv.CanUint():
		return float64(rv.Uint()), true, nil
	case rv.CanFloat():
		return rv.Float(), true, nil
	}
	return 0, false, fmt.Errorf("%s: %w", describe(v), errNotNumber)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// describe names a value's type for an error message without echoing a
// long value.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return fmt.Sprintf("text %q", clip(x))
	case bool:
		return fmt.Sprintf("bool %v", x)
	}
	return fmt.Sprintf("%T", v)
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
