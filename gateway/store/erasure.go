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

// Erasure is how an erasure redacts each kind of record, and how it
// recognises the person's values in text (EraseTarget decides which
// records). Every backend redacts with it, so an erased record reads the
// same whichever store held it.
type Erasure struct {
	needles       [][]byte // the numbers' forms and the values, longest first
	numberNeedles [][]byte // the numbers' forms only
	nsns          []string // the numbers' national significant numbers
}

// NewErasure redacts the numbers (E.164) and values (the person's
// variables and record fields) of one person.
func NewErasure(numbers, values []string) *Erasure {
	return &Erasure{needles: needlesFor(numbers, values), numberNeedles: needlesFor(numbers, nil), nsns: nationalNumbers(numbers)}
}

// EraseCall redacts a call: its number, variables and record fields, and
// the person's values (and every quoted value) in its reasons; the
// attempts lose what the platform reported about the conversation
// (recording, transcript, summary, disposition, caller id, data). A call
// not final yet is canceled: callers cancel first (with notifications),
// but a call that became due meanwhile must not be dialed with its number
// erased.
func (p *Erasure) EraseCall(c *Call, now time.Time) {
	if !Final(c.Status) {
		c.Status, c.NextAttemptAt, c.LeaseUntil = CallCanceled, nil, nil
		c.Reason = "canceled: the person's data was erased"
	}
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
		eraseAttempt(&c.Attempts[i], p)
	}
	c.ErasedAt, c.UpdatedAt = &now, now
}

// eraseAttempt redacts what the platform reported about one attempt; its
// outcome, times, duration and provider id stay for the audit.
func eraseAttempt(a *Attempt, p *Erasure) {
	a.Reason = p.scrub(a.Reason)
	if a.RecordingURL != "" {
		a.RecordingURL = Erased
	}
	if len(a.Transcript) > 0 {
		a.Transcript = []Turn{{Text: Erased}}
	}
	if a.Summary != "" {
		a.Summary = Erased
	}
	if a.Disposition != "" {
		a.Disposition = Erased
	}
	if a.FromNumber != "" {
		a.FromNumber = Erased
	}
	for k := range a.Data {
		a.Data[k] = Erased
	}
}

// EraseEvent redacts an event: its property value and inline record, and
// the person's values in its reason and history.
func (p *Erasure) EraseEvent(ev *Event, now time.Time) {
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

// SettleErased ends a pending event whose person was erased: it will not
// be processed now (EraseReport.SettledEvents).
func SettleErased(ev *Event) {
	ev.Status, ev.NotBefore = EventIgnored, time.Time{}
	ev.Reason = "not processed: the person's data was erased before it was"
}

// EraseOutbox redacts a notification: its body and its last error.
func (p *Erasure) EraseOutbox(it *OutboxItem, now time.Time) {
	it.Body = p.EraseBody(it.Body)
	it.LastError = p.scrub(it.LastError)
	it.UpdatedAt = now
}

// personalKeys are the notification fields that carry a person's data:
// they are erased whole, whatever their value.
var personalKeys = map[string]bool{
	"to_number": true, "to": true, "number": true, "phone": true,
	"variables": true, "call_metadata": true, "metadata": true, "fields": true,
	// What the conversation produced (docs/dialers.md, "Outcome fields"),
	// under the hosted names and callgate's. Not "data": the envelope's own.
	"recordingUrl": true, "recording_url": true, "transcription": true, "transcript": true,
	"summary": true, "disposition": true, "from": true, "from_number": true, "post_call": true,
	// A CRM write-back's call log: its rendered title and body, its tasks'
	// titles and bodies, and the properties follow-ups set.
	"title": true, "body": true, "properties": true,
}

// EraseBody erases a notification body: personal fields of a JSON body
// are replaced, every other string is scrubbed; a body that is not JSON
// only loses the personal values found in it.
func (p *Erasure) EraseBody(body []byte) []byte {
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

func (p *Erasure) eraseJSON(v any, personal bool) any {
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

// Scrub cuts the person's values out of a text and every quoted value.
func (p *Erasure) Scrub(s string) string { return p.scrub(s) }

func (p *Erasure) scrub(s string) string {
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

// HoldsNumber reports whether b (a stored record, a key) holds one of the
// numbers in one of the forms they are written in (E.164, without "+",
// national): a cheap test before decoding.
func (p *Erasure) HoldsNumber(b []byte) bool {
	for _, n := range p.numberNeedles {
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

// MentionsNumber reports whether the event's property value, or a string
// of its inline record, is one of the numbers in any format ("098765
// 43210", "+91-98765-43210"): its digits end with the national number.
func (p *Erasure) MentionsNumber(ev Event) bool {
	nsns := p.nsns
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
