package rules

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestDocExamples runs the examples table of docs/rules.md, so the docs
// and the helpers cannot drift apart.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "<!-- examples:start -->")
	table, _, ok2 := strings.Cut(table, "<!-- examples:end -->")
	if !ok || !ok2 {
		t.Fatal("docs/rules.md has no examples table")
	}
	contact := map[string]any{
		"firstname": "priya", "lastname": "Sharma", "company": "Sharma Textiles", "amount": 124990.0,
		"hs_lead_status": "NEW", "mobilephone": "98765 43210",
		"createdate": time.Date(2026, 11, 27, 3, 30, 17, 883e6, time.UTC),
		"next_visit": "2026-11-30T10:30:00+05:30", "vip": true,
	}
	env := Env{
		Contact: contact,
		Event:   Event{Kind: "created", Type: "contact.creation", ObjectType: "contact", ObjectID: "512"},
		Call:    Call{AgentID: "sales-intro", ToNumber: "+919876543210"},
		Now:     time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC),
	}
	n := 0
	for _, row := range strings.Split(table, "\n") {
		if !strings.HasPrefix(row, "| `") {
			continue
		}
		cells := strings.SplitN(strings.TrimSuffix(strings.TrimPrefix(row, "| "), " |"), " | ", 2)
		if len(cells) != 2 {
			t.Fatalf("row %q: want two cells", row)
		}
		src := strings.Trim(cells[0], "`")
		want := cells[1]
		n++
		t.Run(src, func(t *testing.T) {
			p, err := Compile(Spec{When: "true", Variables: map[string]string{"x": src}, Location: kolkata(t)})
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Evaluate(env)
			if err != nil {
				t.Fatal(err)
			}
			got, present := res.Variables["x"]
			switch {
			case strings.HasPrefix(want, "error: "):
				msg := strings.Trim(strings.TrimPrefix(want, "error: "), "`")
				if !strings.Contains(res.VariableErrors["x"], msg) {
					t.Errorf("error = %q, want one containing %q", res.VariableErrors["x"], msg)
				}
			case want == "(absent)":
				if present || res.VariableErrors["x"] != "" {
					t.Errorf("got %q (error %q), want absent", got, res.VariableErrors["x"])
				}
			default:
				if w := strings.Trim(want, "`"); got != w || res.VariableErrors["x"] != "" {
					t.Errorf("got %q (error %q), want %q", got, res.VariableErrors["x"], w)
				}
			}
		})
	}
	if n < 20 {
		t.Errorf("only %d examples found", n)
	}
}
