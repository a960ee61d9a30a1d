package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
)

// MaxSearchScan bounds how many stored calls or events one page of a
// search reads. A page ends after Limit matches or this many records,
// whichever comes first; its cursor resumes the scan where it stopped, so
// a search over any number of records costs at most this much per page
// (docs/performance.md, "Search").
const MaxSearchScan = 10000

// Search is a free-text query over calls and events (the q parameter):
// a contact id, a phone number, an email or a name.
//
// The rule: a call matches when Text equals its id or its CRM object id,
// when Phone equals its number, or (for a Text that is not a phone
// number) when Text is a case-insensitive substring of one of its
// variables or record fields. An event matches when Text equals its id,
// object id or related object id, when its inline record or property
// value holds the number or the text the same way, or when the call it
// became matches. Erased data matches nothing.
type Search struct {
	// Text is the query as typed, trimmed.
	Text string
	// Phone is Text in E.164 when it reads as a phone number, else "".
	Phone string
}

// NewSearch reads q. normalize turns a number into E.164 (the gateway's
// callee.Normalize with the server's default region); it is only tried on
// a q made of digits and the punctuation people write numbers with.
func NewSearch(q string, normalize func(string) (string, error)) Search {
	s := Search{Text: strings.TrimSpace(q)}
	if s.Text != "" && phoneLike(s.Text) && normalize != nil {
		if n, err := normalize(s.Text); err == nil {
			s.Phone = n
		}
	}
	return s
}

// IsZero reports whether the search is empty (matches everything).
func (s Search) IsZero() bool { return s.Text == "" }

// phoneLike reports whether s is written only with what a phone number
// is written with: digits, +, spaces, dashes, dots and parentheses.
func phoneLike(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits > 0
}

// MayMatch reports whether a stored record's JSON could match s: false
// only when none of the bytes a match needs are in it, so a search skips
// decoding most records.
func (s Search) MayMatch(raw []byte) bool {
	if strings.ContainsAny(s.Text, "<>&\"\\") || strings.ContainsFunc(s.Text, func(r rune) bool { return r < ' ' || r > unicode.MaxASCII }) {
		return true // JSON may have escaped it
	}
	if s.Phone != "" && bytes.Contains(raw, []byte(s.Phone)) {
		return true
	}
	return bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(s.Text)))
}

// MatchCall reports whether c matches s.
func (s Search) MatchCall(c *Call) bool {
	if s.IsZero() {
		return true
	}
	if strings.EqualFold(c.ID, s.Text) || (c.Source.ObjectID != "" && c.Source.ObjectID == s.Text) {
		return true
	}
	if s.Phone != "" {
		return c.ToNumber == s.Phone
	}
	if phoneLike(s.Text) {
		return false // a number that is not a valid phone number matches ids only
	}
	needle := strings.ToLower(s.Text)
	for _, v := range c.Variables {
		if v != Erased && strings.Contains(strings.ToLower(v), needle) {
			return true
		}
	}
	for _, v := range c.Fields {
		if str, ok := v.(string); ok && str != Erased && strings.Contains(strings.ToLower(str), needle) {
			return true
		}
	}
	return false
}

// MatchEvent reports whether ev matches s; call is the call ev became
// (nil when it has none).
func (s Search) MatchEvent(ev *Event, call *Call) bool {
	if s.IsZero() {
		return true
	}
	if strings.EqualFold(ev.ID, s.Text) || (ev.ObjectID != "" && ev.ObjectID == s.Text) ||
		(ev.RelatedObjectID != "" && ev.RelatedObjectID == s.Text) {
		return true
	}
	if call != nil && s.MatchCall(call) {
		return true
	}
	if ev.ErasedAt != nil {
		return false
	}
	values := []string{ev.Value}
	if len(ev.Record) > 0 {
		values = append(values, recordStrings(ev.Record)...)
	}
	for _, v := range values {
		if v != "" && s.matchValue(v) {
			return true
		}
	}
	return false
}

// matchValue matches one stored string: a number by its digits (a
// record's "098123 45678" is +919812345678's national form), any other
// query as a case-insensitive substring.
func (s Search) matchValue(v string) bool {
	if s.Phone != "" {
		d := strings.TrimLeft(digitsOf(v), "0")
		return len(d) >= 6 && strings.HasSuffix(digitsOf(s.Phone), d)
	}
	if phoneLike(s.Text) {
		return false
	}
	return strings.Contains(strings.ToLower(v), strings.ToLower(s.Text))
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

// recordStrings lists the string values of an inline record (sdk.Record
// as JSON: ObjectID, Fields, Phones), wherever they sit in it.
func recordStrings(raw json.RawMessage) []string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}
