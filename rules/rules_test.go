package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCompileErrors(t *testing.T) {
	long := strings.Repeat("1 + ", MaxNodes) + "1"
	tests := []struct {
		name string
		spec Spec
		want []CompileError // Message is matched as a substring
	}{
		{"syntax error", Spec{When: "event.kind == "},
			[]CompileError{{Field: "when", Line: 1, Column: 14, Message: "unexpected token EOF"}}},
		{"when not bool", Spec{When: "event.kind"},
			[]CompileError{{Field: "when", Message: "expected bool, but got string"}}},
		{"when number", Spec{When: "1 + 2"},
			[]CompileError{{Field: "when", Message: "expected bool, but got int"}}},
		{"unknown helper", Spec{Variables: map[string]string{"x": "shout(contact.firstname)"}},
			[]CompileError{{Field: "variables.x", Line: 1, Column: 1, Message: "unknown name shout"}}},
		{"unknown env name", Spec{When: "lead.status == 'NEW'"},
			[]CompileError{{Field: "when", Line: 1, Column: 1, Message: "unknown name lead"}}},
		{"unknown event field", Spec{When: "event.knd == 'created'"},
			[]CompileError{{Field: "when", Line: 1, Column: 7, Message: "type rules.Event has no field knd"}}},
		{"wrong arity", Spec{Variables: map[string]string{"x": "words()"}},
			[]CompileError{{Field: "variables.x", Message: "not enough arguments to call words"}}},
		{"wrong argument type", Spec{Variables: map[string]string{"x": "format_date(now, 5)"}},
			[]CompileError{{Field: "variables.x", Message: "cannot use int as argument"}}},
		{"type mismatch", Spec{Variables: map[string]string{"x": "'a' -\n 1"}},
			[]CompileError{{Field: "variables.x", Line: 1, Column: 5, Message: "invalid operation: - (mismatched types string and int)"}}},
		{"node limit", Spec{Variables: map[string]string{"x": long}},
			[]CompileError{{Field: "variables.x", Message: "longer than the node limit (1000 nodes)"}}},
		{"empty variable", Spec{Variables: map[string]string{"x": "  "}},
			[]CompileError{{Field: "variables.x", Message: "expression is empty"}}},
		{"unknown required", Spec{Required: []string{"firstname"}},
			[]CompileError{{Field: "required_variables", Message: `"firstname" is not a variable`}}},
		{"every problem", Spec{
			When:      "event.kind ==",
			Variables: map[string]string{"b": "nope()", "a": "contact.x +"},
			Required:  []string{"c"},
		}, []CompileError{
			{Field: "when", Message: "unexpected token EOF"},
			{Field: "variables.a", Message: "unexpected token EOF"},
			{Field: "variables.b", Message: "unknown name nope"},
			{Field: "required_variables", Message: `"c" is not a variable`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(tt.spec)
			if p != nil || err == nil {
				t.Fatalf("Compile = %v, %v; want an error", p, err)
			}
			var errs CompileErrors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not CompileErrors: %v", err, err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				g := errs[i]
				if g.Field != w.Field || !strings.Contains(g.Message, w.Message) ||
					(w.Line != 0 && (g.Line != w.Line || g.Column != w.Column)) {
					t.Errorf("error %d = %+v, want %+v", i, *g, w)
				}
			}
		})
	}
}

func TestCompileErrorShowsCaret(t *testing.T) {
	_, err := Compile(Spec{When: "contact.amount > 'x' && unknown_fn()"})
	if err == nil {
		t.Fatal("want an error")
	}
	want := "when: 1:25: unknown name unknown_fn\n | contact.amount > 'x' && unknown_fn()\n | ........................^"
	if err.Error() != want {
		t.Errorf("error =\n%s\nwant\n%s", err, want)
	}
}

func TestFields(t *testing.T) {
	p, err := Compile(Spec{
		When: `contact["hs_lead_status"] in ['NEW', 'OPEN'] && contact.amount > 0 && event.kind == 'created'`,
		Variables: map[string]string{
			"name":    "title(contact.firstname) ?? 'there'",
			"amount":  "words(contact.amount)",
			"when":    "format_date(contact?.next_visit, '2 Jan')",
			"dynamic": "contact[event.property]",
			"nested":  "filter([contact.city], # != nil)",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"amount", "city", "firstname", "hs_lead_status", "next_visit"}
	if got := p.Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %v, want %v", got, want)
	}
	if !p.ComputedFields() {
		t.Error("ComputedFields() = false with contact[event.property] in a rule")
	}
	p.Fields()[0] = "changed"
	if p.Fields()[0] != "amount" {
		t.Error("Fields() hands out the program's own slice")
	}
}

func TestComputedFields(t *testing.T) {
	tests := []struct {
		when       string
		wantFields string
		want       bool
	}{
		{`contact["a"] == 1 && contact.b == 2 && contact?.c == 3`, "a,b,c", false},
		{`contact[event.property] == 1`, "", true},
		{`len(keys(contact)) > 3`, "", true},
		{`let c = contact; c.x == 1 && contact.y == 2`, "y", true},
		{`event.kind == 'created'`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			p, err := Compile(Spec{When: tt.when})
			if err != nil {
				t.Fatal(err)
			}
			if p.ComputedFields() != tt.want || strings.Join(p.Fields(), ",") != tt.wantFields {
				t.Errorf("ComputedFields() = %v, Fields() = %v; want %v, %s", p.ComputedFields(), p.Fields(), tt.want, tt.wantFields)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	loc := kolkata(t)
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC) // 09:30 in Kolkata
	spec := Spec{
		When: "event.kind == 'created' && (contact.hs_lead_status ?? 'NEW') in ['NEW', 'OPEN']",
		Variables: map[string]string{
			"firstname": "title(contact.firstname) ?? 'there'",
			"amount":    "words(round_to(contact.amount, 100))",
			"greeting":  "now.Hour() < 12 ? 'Good morning' : now.Hour() < 17 ? 'Good afternoon' : 'Good evening'",
			"company":   "contact.company",
			"visit":     "format_date(contact.next_visit, 'Monday 3 PM')",
			"premium":   "contact.amount > 100000",
			"created":   "contact.createdate",
		},
		Required: []string{"firstname", "company"},
		Location: loc,
	}
	p, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	contact := map[string]any{
		"firstname":  "ada",
		"amount":     124990.0,
		"company":    "Analytical Engines",
		"next_visit": "2026-11-30T10:00:00Z",
		"createdate": time.Date(2026, 11, 26, 18, 30, 0, 0, time.UTC),
	}
	tests := []struct {
		name    string
		env     Env
		want    Result
		wantErr string
	}{
		{
			name: "creation of a new lead",
			env:  Env{Contact: contact, Event: Event{Kind: "created"}, Now: now},
			want: Result{Call: true, Variables: map[string]string{
				"firstname": "Ada", "amount": "one lakh twenty-five thousand", "greeting": "Good morning",
				"company": "Analytical Engines", "visit": "Monday 3 PM", "premium": "true",
				"created": "2026-11-27T00:00:00+05:30",
			}, MissingFields: []string{"hs_lead_status"}},
		},
		{
			name: "property change is not a call",
			env:  Env{Contact: contact, Event: Event{Kind: "updated"}, Now: now},
			want: Result{Reason: `when rule "` + spec.When + `" was false`, MissingFields: []string{"hs_lead_status"}},
		},
		{
			name: "call timezone overrides the agent's",
			env:  Env{Contact: contact, Event: Event{Kind: "created"}, Now: now, Call: Call{Timezone: "America/New_York"}},
			want: Result{Call: true, Variables: map[string]string{
				"firstname": "Ada", "amount": "one lakh twenty-five thousand", "greeting": "Good evening",
				"company": "Analytical Engines", "visit": "Monday 5 AM", "premium": "true",
				"created": "2026-11-26T13:30:00-05:00",
			}, MissingFields: []string{"hs_lead_status"}},
		},
		{
			name: "empty record: defaults, absent variables, missing required",
			env:  Env{Event: Event{Kind: "created"}, Now: now.Add(9 * time.Hour)},
			want: Result{Call: true,
				Variables:       map[string]string{"firstname": "there", "greeting": "Good evening"},
				MissingFields:   []string{"amount", "company", "createdate", "firstname", "hs_lead_status", "next_visit"},
				MissingRequired: []string{"company"},
				VariableErrors:  map[string]string{"premium": "invalid operation: <nil> > int"},
			},
		},
		{
			name: "text where a number is compared",
			env: Env{Contact: map[string]any{"firstname": 42.0, "company": "X", "amount": "lots"},
				Event: Event{Kind: "created"}, Now: now},
			want: Result{Call: true,
				Variables:     map[string]string{"company": "X", "greeting": "Good morning"},
				MissingFields: []string{"createdate", "hs_lead_status", "next_visit"},
				VariableErrors: map[string]string{
					"firstname": "title: want text, got float64",
					"amount":    `round_to: "lots": not a number`,
					"premium":   "invalid operation: string > int",
				},
				MissingRequired: nil,
			},
		},
		{
			name:    "when rule fails at run time",
			env:     Env{Contact: map[string]any{"hs_lead_status": 7.0}, Event: Event{Kind: "created"}, Now: now},
			want:    Result{MissingFields: []string{"amount", "company", "createdate", "firstname", "next_visit"}},
			wantErr: `when rule "` + spec.When + `" failed`,
		},
		{
			name:    "unknown call timezone",
			env:     Env{Event: Event{Kind: "created"}, Call: Call{Timezone: "Nowhere/City"}},
			want:    Result{MissingFields: []string{"amount", "company", "createdate", "firstname", "hs_lead_status", "next_visit"}},
			wantErr: `unknown timezone "Nowhere/City"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Evaluate(tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				got.Reason = "" // checked by the error
			} else if err != nil {
				t.Fatal(err)
			}
			for name, msg := range got.VariableErrors {
				if w, ok := tt.want.VariableErrors[name]; ok && strings.Contains(msg, w) {
					got.VariableErrors[name] = w
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWhenOfUnknownType(t *testing.T) {
	p, err := Compile(Spec{When: "contact.vip"})
	if err != nil {
		t.Fatal(err) // a contact field's type is known only at run time
	}
	tests := []struct {
		vip      any
		wantCall bool
		wantErr  string
	}{
		{true, true, ""},
		{false, false, ""},
		{nil, false, ""},
		{"yes", false, `when rule "contact.vip" failed`},
	}
	for _, tt := range tests {
		res, err := p.Evaluate(Env{Contact: map[string]any{"vip": tt.vip}})
		if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("vip %v: error %v, want %q", tt.vip, err, tt.wantErr)
		}
		if res.Call != tt.wantCall {
			t.Errorf("vip %v: Call = %v, want %v", tt.vip, res.Call, tt.wantCall)
		}
	}
}

func TestDefaultWhen(t *testing.T) {
	p, err := Compile(Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if p.When() != DefaultWhen {
		t.Errorf("When() = %q", p.When())
	}
	for kind, want := range map[string]bool{"created": true, "updated": false, "": false} {
		res, err := p.Evaluate(Env{Event: Event{Kind: kind}})
		if err != nil || res.Call != want {
			t.Errorf("kind %q: Call = %v, %v; want %v", kind, res.Call, err, want)
		}
	}
	res, _ := p.Evaluate(Env{Event: Event{Kind: "updated"}})
	if want := `when rule "event.kind == 'created'" was false`; res.Reason != want {
		t.Errorf("Reason = %q, want %q", res.Reason, want)
	}
}

func TestEnvironmentNames(t *testing.T) {
	occurred := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	env := Env{
		Event: Event{Type: "contact.propertyChange", Kind: "updated", ObjectType: "contact", ObjectID: "123",
			Property: "hs_lead_status", Value: "OPEN", Account: "62515", OccurredAt: occurred},
		Call: Call{AgentID: "sales-intro", ToNumber: "+919876543210", Timezone: "UTC"},
		Now:  occurred.Add(time.Hour),
	}
	exprs := map[string]string{
		"event.type":                        "contact.propertyChange",
		"event.kind":                        "updated",
		"event.object_type":                 "contact",
		"event.object_id":                   "123",
		"event.property":                    "hs_lead_status",
		"event.value":                       "OPEN",
		"event.account":                     "62515",
		"event.occurred_at":                 "2026-11-27T04:00:00Z",
		"call.agent_id":                     "sales-intro",
		"call.to_number":                    "+919876543210",
		"call.timezone":                     "UTC",
		"now":                               "2026-11-27T05:00:00Z",
		"now - event.occurred_at":           "1h0m0s",
		"contact[event.property] ?? 'none'": "none",
		// date() reads in the agent's zone (Kolkata); results show in the call's (UTC).
		"date('2026-11-27 10:00', '2006-01-02 15:04')":        "2026-11-27T04:30:00Z",
		"date('2026-11-27 10:00', '2006-01-02 15:04', 'UTC')": "2026-11-27T10:00:00Z",
	}
	vars := map[string]string{}
	i := 0
	want := map[string]string{}
	for src, w := range exprs {
		name := fmt.Sprintf("v%d", i)
		vars[name], want[name] = src, w
		i++
	}
	p, err := Compile(Spec{When: "true", Variables: vars, Location: kolkata(t)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Evaluate(env)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Variables, want) {
		t.Errorf("Variables = %v\nwant %v", res.Variables, want)
	}
}

func TestDecision(t *testing.T) {
	tests := []struct {
		name       string
		res        Result
		wantCall   bool
		wantReason string
	}{
		{"call", Result{Call: true}, true, ""},
		{"when false", Result{Reason: "when rule \"x\" was false"}, false, "when rule \"x\" was false"},
		{"variable errors", Result{Call: true, VariableErrors: map[string]string{"b": "boom", "a": "bang"}},
			false, `variable "a": bang; variable "b": boom`},
		{"missing required", Result{Call: true, MissingRequired: []string{"firstname", "company"}},
			false, "required variables without a value: firstname, company"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call, reason := tt.res.Decision()
			if call != tt.wantCall || reason != tt.wantReason {
				t.Errorf("Decision() = %v, %q; want %v, %q", call, reason, tt.wantCall, tt.wantReason)
			}
		})
	}
}

// TestConcurrentEvaluate runs one Program from many goroutines; with -race
// it proves evaluation shares no mutable state.
func TestConcurrentEvaluate(t *testing.T) {
	p, err := Compile(Spec{
		When:      "contact.amount > 10",
		Variables: map[string]string{"amount": "words(contact.amount)", "day": "format_date(now, 'Monday')"},
		Location:  kolkata(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				n := float64(g*1000 + i + 11)
				zone := []string{"", "UTC", "Asia/Kolkata", "Europe/London"}[i%4]
				res, err := p.Evaluate(Env{Contact: map[string]any{"amount": n}, Call: Call{Timezone: zone}})
				if err != nil {
					t.Error(err)
					return
				}
				want, _ := Words(n)
				if !res.Call || res.Variables["amount"] != want {
					t.Errorf("amount %v: got %+v", n, res)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
