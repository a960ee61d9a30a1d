package store

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// How an erasure redacts each kind of record, and how it recognises the
// person's values in text (erase.go decides which records).

func (p *erasePlan) eraseCall(c *Call, now time.Time) {
	if c.ToNumber != "" {
		c.ToNumber = Erased
	}
	for k := range c.Variables {
		c.Variables[k] = Erased
	}
	for k := range c.Fields {
		c.Fields[k] = Erased
	}
	c.Reason = p.scrub(c.Reason)
	for i := range c.Attempts {
		c.Attempts[i].Reason = p.scrub(c.Attempts[i].Reason)
	}
	c.ErasedAt, c.UpdatedAt = &now, now
}

func (p *erasePlan) eraseEvent(ev *Event, now time.Time) {
	if ev.Value != "" {
		ev.Value = Erased
	}
	if len(ev.Record) > 0 {
		ev.Record = json.RawMessage(`"` + Erased + `"`)
	}
	ev.Reason = p.scrub(ev.Reason)
	for i := range ev.History {
		ev.History[i] = p.scrub(ev.History[i])
	}
	ev.ErasedAt, ev.UpdatedAt = &now, now
}

// personalKeys are the notification fields that carry a person's data:
// they are erased whole, whatever their value.
var personalKeys = map[string]bool{
	"to_number": true, "to": true, "number": true, "phone": true,
	"variables": true, "call_metadata": true, "metadata": true, "fields": true,
}

// eraseBody erases a notification body: personal fields of a JSON body
// are replaced, every other string is scrubbed; a body that is not JSON
// only loses the personal values found in it.
func (p *erasePlan) eraseBody(body []byte) []byte {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []byte(p.scrub(string(body)))
	}
	out, err := json.Marshal(p.eraseJSON(v, false))
	if err != nil {
		return []byte(p.scrub(string(body)))
	}
	return out
}

func (p *erasePlan) eraseJSON(v any, personal bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = p.eraseJSON(e, personal || personalKeys[k])
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = p.eraseJSON(e, personal)
		}
		return x
	case string:
		if personal {
			return Erased
		}
		return p.scrub(x)
	case float64, bool:
		if personal {
			return Erased
		}
	}
	return v
}

// quoted matches a Go-quoted value (%q), the way reasons cite raw data
// ("invalid phone number \"98 1234\" in phone").
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// scrub cuts the person's values out of a text and, in reasons, every
// quoted value.
func (p *erasePlan) scrub(s string) string {
	if s == "" {
		return s
	}
	for _, n := range p.needles {
		s = strings.ReplaceAll(s, string(n), Erased)
	}
	return quoted.ReplaceAllString(s, `"`+Erased+`"`)
}

// needlesFor lists the forms in which numbers and values appear in text:
// E.164, without its "+", the national number; and values of three
// characters or more (shorter ones would cut unrelated words). Longest
// first, so a longer form is replaced before a part of it.
func needlesFor(numbers, values []string) [][]byte {
	seen := map[string]bool{}
	var out [][]byte
	add := func(s string) {
		s = strings.TrimSpace(s)
		if len(s) < 3 || s == Erased || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, []byte(s))
	}
	for _, n := range numbers {
		add(n)
		add(strings.TrimPrefix(n, "+"))
		if num, err := phonenumbers.Parse(n, ""); err == nil {
			if nsn := phonenumbers.GetNationalSignificantNumber(num); len(nsn) >= 6 {
				add(nsn)
			}
		}
	}
	for _, v := range values {
		add(v)
	}
	slices.SortFunc(out, func(a, b []byte) int { return len(b) - len(a) })
	return out
}

func containsAny(b []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(b, n) {
			return true
		}
	}
	return false
}

// nationalNumbers are the numbers' national significant numbers (the
// digits after the country code), to find them however they were written.
func nationalNumbers(numbers []string) []string {
	var out []string
	for _, n := range numbers {
		if num, err := phonenumbers.Parse(n, ""); err == nil {
			if nsn := phonenumbers.GetNationalSignificantNumber(num); len(nsn) >= 6 {
				out = append(out, nsn)
			}
		}
	}
	return out
}

// mentionsNumber reports whether the event's property value, or a string
// of its inline record, is one of the numbers in any format ("098765
// 43210", "+91-98765-43210"): its digits end with the national number.
func mentionsNumber(ev Event, nsns []string) bool {
	if len(nsns) == 0 {
		return false
	}
	is := func(s string) bool {
		d := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		for _, n := range nsns {
			if strings.HasSuffix(d, n) && len(d) <= len(n)+4 {
				return true
			}
		}
		return false
	}
	if is(ev.Value) {
		return true
	}
	if len(ev.Record) == 0 {
		return false
	}
	var rec any
	if json.Unmarshal(ev.Record, &rec) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case string:
			return is(x)
		case map[string]any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(rec)
}
