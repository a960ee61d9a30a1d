package rules

import (
	"runtime"
	"testing"
	"time"
)

// measureCPU runs fn b.N times on one locked thread and reports, beside
// the wall time, the thread's CPU time per op ("cpu-ns/op").
func measureCPU(b *testing.B, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	start, ok := threadCPU()
	n := 0
	for b.Loop() {
		fn()
		n++
	}
	if end, ok2 := threadCPU(); ok && ok2 && n > 0 {
		b.ReportMetric(float64(end-start)/float64(n), "cpu-ns/op")
	}
}

// typicalAgent is the benchmark's agent: one when rule and five variables,
// the shapes docs/rules.md recommends.
func typicalAgent(tb testing.TB) Spec {
	return Spec{
		When: "event.kind == 'created' && (contact.hs_lead_status ?? 'NEW') in ['NEW', 'OPEN']",
		Variables: map[string]string{
			"firstname": "title(contact.firstname) ?? 'there'",
			"company":   "contact.company ?? ''",
			"amount":    "words(round_to(contact.amount, 100))",
			"greeting":  "now.Hour() < 12 ? 'Good morning' : now.Hour() < 17 ? 'Good afternoon' : 'Good evening'",
			"visit":     "format_date(contact.next_visit, 'Monday 3 PM')",
		},
		Required: []string{"firstname"},
		Location: kolkata(tb),
	}
}

func benchEnv() Env {
	return Env{
		Contact: map[string]any{
			"firstname": "priya", "company": "Sharma Textiles", "amount": 124990.0,
			"hs_lead_status": "NEW", "next_visit": time.Date(2026, 11, 30, 4, 30, 0, 0, time.UTC),
		},
		Event: Event{Kind: "created", Type: "contact.creation", ObjectID: "512"},
		Now:   time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC),
	}
}

// handWritten is the baseline: the same decision and variables written in
// Go, with the same map lookups, helpers and formatting.
func handWritten(env Env, loc *time.Location) (Result, error) {
	var res Result
	for _, f := range []string{"amount", "company", "firstname", "hs_lead_status", "next_visit"} {
		if env.Contact[f] == nil {
			res.MissingFields = append(res.MissingFields, f)
		}
	}
	status, _ := env.Contact["hs_lead_status"].(string)
	if status == "" {
		status = "NEW"
	}
	res.Call = env.Event.Kind == "created" && (status == "NEW" || status == "OPEN")
	if !res.Call {
		return res, nil
	}
	now := env.Now.In(loc)
	res.Variables = make(map[string]string, 5)
	if s, ok := env.Contact["firstname"].(string); ok {
		res.Variables["firstname"] = Title(s)
	} else {
		res.Variables["firstname"] = "there"
	}
	if s, ok := env.Contact["company"].(string); ok {
		res.Variables["company"] = s
	}
	if n, ok := env.Contact["amount"].(float64); ok {
		r, err := RoundTo(n, 100)
		if err != nil {
			return res, err
		}
		if res.Variables["amount"], err = Words(r); err != nil {
			return res, err
		}
	}
	switch h := now.Hour(); {
	case h < 12:
		res.Variables["greeting"] = "Good morning"
	case h < 17:
		res.Variables["greeting"] = "Good afternoon"
	default:
		res.Variables["greeting"] = "Good evening"
	}
	if t, ok := env.Contact["next_visit"].(time.Time); ok {
		res.Variables["visit"] = t.In(loc).Format("Monday 3 PM")
	}
	return res, nil
}

func TestHandWrittenBaselineAgrees(t *testing.T) {
	p, err := Compile(typicalAgent(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Evaluate(benchEnv())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := handWritten(benchEnv(), kolkata(t))
	if len(got.Variables) != 5 || len(want.Variables) != 5 {
		t.Fatalf("variables: rules %v, baseline %v", got.Variables, want.Variables)
	}
	for k, v := range want.Variables {
		if got.Variables[k] != v {
			t.Errorf("%s: rules %q, baseline %q", k, got.Variables[k], v)
		}
	}
}

// BenchmarkEvaluate compares a typical agent's rules (one when, five
// variables) with the same logic written in Go, per record.
func BenchmarkEvaluate(b *testing.B) {
	loc := kolkata(b)
	p, err := Compile(typicalAgent(b))
	if err != nil {
		b.Fatal(err)
	}
	env := benchEnv()
	b.Run("baseline=go", func(b *testing.B) {
		measureCPU(b, func() {
			if _, err := handWritten(env, loc); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("rules", func(b *testing.B) {
		measureCPU(b, func() {
			if _, err := p.Evaluate(env); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkCompile measures compiling the typical agent (once per config
// load and agent).
func BenchmarkCompile(b *testing.B) {
	spec := typicalAgent(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(spec); err != nil {
			b.Fatal(err)
		}
	}
}
