package ingest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// clockRE is the hosted service's HH:MM pattern.
var clockRE = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):[0-5][0-9]$`)

// MaxRetries is the most extra attempts a request may ask for.
const MaxRetries = 10

// Overrides are a request's changes to the agent's call policy. Unset
// fields leave the agent's setting alone. Stored as JSON on each event.
type Overrides struct {
	WindowStart string          `json:"window_start,omitempty"` // HH:MM
	WindowEnd   string          `json:"window_end,omitempty"`   // HH:MM
	CarryOver   *bool           `json:"carry_over,omitempty"`
	Retries     *int            `json:"retries,omitempty"`
	Gaps        []time.Duration `json:"gaps,omitempty"`
	Timezone    string          `json:"timezone,omitempty"` // IANA name, "callee" or "contact"
}

// Empty reports whether o changes nothing.
func (o Overrides) Empty() bool {
	return o.WindowStart == "" && o.WindowEnd == "" && o.CarryOver == nil && o.Retries == nil && len(o.Gaps) == 0 && o.Timezone == ""
}

// ParamError is a bad policy parameter; its message names the parameter
// and the accepted form, and is safe to show the caller.
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return e.Msg }

// StatusCode is the HTTP status a bad parameter is answered with.
func (e *ParamError) StatusCode() int { return http.StatusBadRequest }

func paramErr(param, format string, args ...any) error {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// ParsePolicyParams reads the policy parameters of docs/webhooks.md from a
// query (crm-webhook) or from the fields of an /call/outbound body turned
// into values: min_trigger_time, max_trigger_time, carry_over,
// num_of_retries (alias number_of_retries), gap_between_retries,
// timezone. An absent or empty parameter is not an override. Errors are
// *ParamError.
//
// A parameter given twice with different values (num_of_retries=1&
// num_of_retries=11, or num_of_retries and number_of_retries that
// disagree) is refused: callgate will not guess which one was meant.
// Identical repeats count as one.
func ParsePolicyParams(v url.Values) (Overrides, error) {
	var o Overrides
	if err := singleValues(v, policyParams...); err != nil {
		return Overrides{}, err
	}
	if a, b := strings.TrimSpace(v.Get("num_of_retries")), strings.TrimSpace(v.Get("number_of_retries")); a != "" && b != "" && a != b {
		return Overrides{}, paramErr("num_of_retries", "Conflicting num_of_retries %s and number_of_retries %s: use one of them, once", reply.Quote(a), reply.Quote(b))
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"min_trigger_time", &o.WindowStart}, {"max_trigger_time", &o.WindowEnd}} {
		s := strings.TrimSpace(v.Get(p.name))
		if s == "" {
			continue
		}
		if !clockRE.MatchString(s) {
			return Overrides{}, paramErr(p.name, "invalid %s %s: use HH:MM on a 24-hour clock, e.g. 09:00", p.name, reply.Quote(s))
		}
		if len(s) == 4 { // 9:00 → 09:00, so windows compare as text
			s = "0" + s
		}
		*p.dst = s
	}
	if s := strings.TrimSpace(v.Get("carry_over")); s != "" {
		var b bool
		switch strings.ToLower(s) {
		case "true", "1":
			b = true
		case "false", "0":
		default:
			return Overrides{}, paramErr("carry_over", "invalid carry_over %s: use true, false, 1 or 0", reply.Quote(s))
		}
		o.CarryOver = &b
	}
	name, s := "num_of_retries", strings.TrimSpace(v.Get("num_of_retries"))
	if s == "" {
		name, s = "number_of_retries", strings.TrimSpace(v.Get("number_of_retries"))
	}
	if s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxRetries {
			return Overrides{}, paramErr(name, "invalid %s %s: use a whole number from 0 to %d", name, reply.Quote(s), MaxRetries)
		}
		o.Retries = &n
	}
	if s := strings.TrimSpace(v.Get("gap_between_retries")); s != "" {
		if len(s) > maxGapsText {
			return Overrides{}, paramErr("gap_between_retries", "invalid gap_between_retries %s: longer than %d characters; use hours (2,4,6 or 1.5) or durations (30m,1h)", reply.Quote(s), maxGapsText)
		}
		gaps, err := parseGaps(s)
		if err != nil {
			return Overrides{}, paramErr("gap_between_retries", "invalid gap_between_retries %s: %v; use hours (2,4,6 or 1.5) or durations (30m,1h)", reply.Quote(s), err)
		}
		o.Gaps = gaps
	}
	if s := strings.TrimSpace(v.Get("timezone")); s != "" {
		if callee.CheckSetting(s) != nil {
			return Overrides{}, paramErr("timezone", "invalid timezone %s: use an IANA name such as Asia/Kolkata, callee (the number's zone) or contact (the record's own zone)", reply.Quote(s))
		}
		o.Timezone = s
	}
	return o, nil
}

// policyParams are the query parameters ParsePolicyParams reads.
var policyParams = []string{"min_trigger_time", "max_trigger_time", "carry_over", "num_of_retries", "number_of_retries", "gap_between_retries", "timezone"}

// maxGapsText bounds gap_between_retries before it is parsed: ten gaps of
// a few characters each fit many times over, and an error quoting a part
// of it stays short.
const maxGapsText = 200

// singleValues refuses (400, naming the parameter) a parameter of names
// that v holds more than once with different values; identical repeats
// pass, as they say one thing.
func singleValues(v url.Values, names ...string) error {
	for _, name := range names {
		vals := v[name]
		for _, x := range vals[min(1, len(vals)):] {
			if strings.TrimSpace(x) != strings.TrimSpace(vals[0]) {
				return paramErr(name, "Conflicting values for %s: it is given %d times with different values (%s, %s); use it once", name, len(vals), reply.Quote(vals[0]), reply.Quote(x))
			}
		}
	}
	return nil
}

// maxGap bounds one retry gap (a week).
const maxGap = 7 * 24 * time.Hour

// parseGaps reads "2,4,6" (hours, decimals allowed) or "30m,1h". Each gap
// is at least config.MinRetryGap once rounded to the second.
func parseGaps(s string) ([]time.Duration, error) {
	parts := strings.Split(s, ",")
	if len(parts) > MaxRetries {
		return nil, fmt.Errorf("at most %d gaps", MaxRetries)
	}
	out := make([]time.Duration, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		var d time.Duration
		if h, err := strconv.ParseFloat(p, 64); err == nil {
			if h != h || h < 0 || h > maxGap.Hours() { // NaN too
				return nil, fmt.Errorf("gap %q out of range", p)
			}
			d = time.Duration(h * float64(time.Hour))
		} else if d, err = time.ParseDuration(p); err != nil {
			return nil, fmt.Errorf("gap %q is neither hours nor a duration", p)
		}
		// Checked after rounding to the stored second: 0.0001 h is 0.36 s,
		// which would be stored as 0 and redial at once.
		d = d.Round(time.Second)
		if d < config.MinRetryGap || d > maxGap {
			return nil, fmt.Errorf("gap %q must be at least %s (the floor between retries) and at most a week", p, shortDuration(config.MinRetryGap))
		}
		out = append(out, d)
	}
	return out, nil
}

// Apply returns p with o's changes. A window override on an agent without
// a window opens the missing side at 00:00 (start) or 23:59 (end).
func (o Overrides) Apply(p store.Policy) store.Policy {
	if o.WindowStart != "" || o.WindowEnd != "" {
		w := store.Window{Start: "00:00", End: "23:59"}
		if p.Window != nil {
			w = *p.Window
			w.Days = append([]string(nil), w.Days...)
		}
		if o.WindowStart != "" {
			w.Start = o.WindowStart
		}
		if o.WindowEnd != "" {
			w.End = o.WindowEnd
		}
		p.Window = &w
	}
	if o.CarryOver != nil && p.Window != nil {
		w := *p.Window
		w.CarryOver = *o.CarryOver
		p.Window = &w
	}
	if o.Retries != nil {
		p.Retry.Max = *o.Retries
	}
	if len(o.Gaps) > 0 {
		p.Retry.Gaps = make([]store.Duration, len(o.Gaps))
		for i, g := range o.Gaps {
			p.Retry.Gaps[i] = store.Duration(g)
		}
	}
	if o.Timezone != "" {
		p.Timezone = o.Timezone
	}
	return p
}

// shortDuration is d without zero units: 1m, not 1m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
