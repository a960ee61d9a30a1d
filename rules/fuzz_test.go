package rules

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// Seeds live in testdata/fuzz/<Target>/ as well as here.

func FuzzWords(f *testing.F) {
	for _, n := range []float64{0, 2500, 125000, 1e7, -1.5, 1e14 + 2e7, math.MaxFloat64, 5e-324} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n float64) {
		got, err := Words(n)
		if math.IsNaN(n) || math.IsInf(n, 0) {
			if err == nil {
				t.Fatalf("Words(%v) = %q, want an error", n, got)
			}
			return
		}
		if err != nil || got == "" {
			t.Fatalf("Words(%v) = %q, %v", n, got, err)
		}
		if (n < 0) != strings.HasPrefix(got, "minus ") {
			t.Fatalf("Words(%v) = %q: sign wrong", n, got)
		}
		if strings.Contains(got, "  ") || strings.HasSuffix(got, " ") {
			t.Fatalf("Words(%v) = %q: stray spaces", n, got)
		}
		for _, r := range got {
			if !unicode.IsLower(r) && r != ' ' && r != '-' {
				t.Fatalf("Words(%v) = %q: unexpected %q", n, got, r)
			}
		}
	})
}

func FuzzRoundTo(f *testing.F) {
	f.Add(2459.0, 100.0)
	f.Add(987.0, 1000.0)
	f.Add(1.005, 0.01)
	f.Add(-250.0, 100.0)
	f.Add(1e308, 1e-308)
	f.Fuzz(func(t *testing.T, n, step float64) {
		got, err := RoundTo(n, step)
		if err != nil {
			return
		}
		if math.IsNaN(got) || math.IsInf(got, 0) {
			t.Fatalf("RoundTo(%v, %v) = %v", n, step, got)
		}
		if math.Abs(n) < 1e12 && step >= 1e-6 && step < 1e12 {
			if d := math.Abs(got - n); d > step/2*(1+1e-6)+1e-9 {
				t.Fatalf("RoundTo(%v, %v) = %v: %v away", n, step, got, d)
			}
		}
	})
}

func FuzzFormatDate(f *testing.F) {
	f.Add("2026-11-27T09:30:00Z", "2 Jan 2006", "")
	f.Add("2026-11-27", "Monday 3 PM", "America/New_York")
	f.Add("1795750217883", "2006-01-02 15:04", "UTC")
	f.Add("2026-11-27 09:30:00.5+05:30", "Jan _2", "Asia/Kolkata")
	f.Add("garbage", "", "Bad/Zone")
	p := &Program{location: time.UTC, region: "IN", zones: &sync.Map{}}
	f.Fuzz(func(t *testing.T, when, layout, zone string) {
		if len(layout) > 200 {
			return
		}
		got, err := p.formatDate(when, layout, zone)
		if err == nil && strings.TrimSpace(when) != "" && got == nil {
			t.Fatalf("format_date(%q) = nil without an error", when)
		}
	})
}

func FuzzE164(f *testing.F) {
	f.Add("98765 43210", "IN")
	f.Add("+1 (415) 555-0123", "")
	f.Add("(415) 555-0123", "us")
	f.Add("0044 20 7946 0958", "GB")
	f.Add("tel:+91-98765-43210;ext=1", "ZZ")
	f.Fuzz(func(t *testing.T, s, region string) {
		got, err := E164(s, region)
		if err != nil {
			t.Fatalf("E164(%q, %q): %v", s, region, err)
		}
		if got == "" {
			return
		}
		e := got
		if len(e) < 3 || e[0] != '+' || strings.TrimLeft(e[1:], "0123456789") != "" {
			t.Fatalf("E164(%q, %q) = %q, not E.164", s, region, e)
		}
		if again, _ := E164(e, "ZZ"); again != e {
			t.Fatalf("E164(%q) = %v, want it unchanged", e, again)
		}
	})
}

func FuzzCompile(f *testing.F) {
	f.Add("event.kind == 'created'", "title(contact.firstname) ?? 'there'")
	f.Add(`contact["hs_lead_status"] in ['NEW']`, "words(round_to(contact.amount, 100))")
	f.Add("now.Hour() < 12", "format_date(contact.createdate, 'Monday 3 PM')")
	f.Add("contact.amount > 1000 &&", "e164(contact.phone, 'US')")
	f.Add("true", "filter([contact.a, contact.b], # != nil)")
	contact := map[string]any{"firstname": "ada", "amount": 2459.0, "createdate": "2026-11-27",
		"phone": "9876543210", "a": true, "hs_lead_status": "NEW"}
	f.Fuzz(func(t *testing.T, when, variable string) {
		if len(when) > 500 || len(variable) > 500 {
			return
		}
		p, err := Compile(Spec{When: when, Variables: map[string]string{"v": variable}})
		if err != nil {
			if _, ok := err.(CompileErrors); !ok {
				t.Fatalf("Compile error %T is not CompileErrors", err)
			}
			return
		}
		if strings.Contains(when+variable, "..") || strings.Contains(when+variable, "repeat") {
			return // ranges and repeat may be slow by design; a config author chose them
		}
		res, _ := p.Evaluate(Env{Contact: contact, Event: Event{Kind: "created"}})
		if res.Call && res.Variables == nil {
			t.Fatal("Call without a variables map")
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(`{"id":"512","properties":{"firstname":"priya","createdate":"2026-11-27T03:30:17.883Z"}}`))
	f.Add([]byte(`{"amount":2500,"vip":true,"x":null}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"id":1e400,"properties":{}}`))
	p, err := Compile(Spec{When: "contact.vip ?? true", Variables: map[string]string{
		"n": "title(contact.firstname)", "w": "words(contact.amount)", "d": "format_date(contact.createdate, '2 Jan')"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, fields, err := ParseRecord(data)
		if err != nil {
			return
		}
		if fields == nil {
			t.Fatal("nil fields without an error")
		}
		if _, err := p.Try(Trial{Record: data}); err != nil {
			t.Fatalf("Try on a record ParseRecord accepts: %v", err)
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`[{"eventId":1,"portalId":62515,"occurredAt":1795750217883,"subscriptionType":"contact.creation","objectId":512}]`))
	f.Add([]byte(`{"kind":"updated","property":"hs_lead_status","value":"OPEN","occurred_at":"2026-11-27T09:00:00+05:30"}`))
	f.Add([]byte(`{"occurredAt":"1795750217883"}`))
	f.Add([]byte(` `))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseEvent(data)
		if err == nil && ev.Kind == "" {
			t.Fatalf("ParseEvent(%q) has no kind", data)
		}
	})
}
