package ingest

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/callee"
	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/store"
)

func ptr[T any](v T) *T { return &v }

func TestParsePolicyParams(t *testing.T) {
	tests := []struct {
		query string
		want  Overrides
		err   string // the parameter the error must name
	}{
		{"", Overrides{}, ""},
		{"min_trigger_time=9:00&max_trigger_time=18:30", Overrides{WindowStart: "09:00", WindowEnd: "18:30"}, ""},
		{"min_trigger_time=22:00&max_trigger_time=06:00", Overrides{WindowStart: "22:00", WindowEnd: "06:00"}, ""},
		{"min_trigger_time=24:00", Overrides{}, "min_trigger_time"},
		{"max_trigger_time=9.30", Overrides{}, "max_trigger_time"},
		{"carry_over=true", Overrides{CarryOver: ptr(true)}, ""},
		{"carry_over=0", Overrides{CarryOver: ptr(false)}, ""},
		{"carry_over=FALSE", Overrides{CarryOver: ptr(false)}, ""},
		{"carry_over=yes", Overrides{}, "carry_over"},
		{"num_of_retries=3", Overrides{Retries: ptr(3)}, ""},
		{"number_of_retries=0", Overrides{Retries: ptr(0)}, ""},
		{"num_of_retries=2&number_of_retries=5", Overrides{}, "num_of_retries"},
		{"num_of_retries=11", Overrides{}, "num_of_retries"},
		{"number_of_retries=-1", Overrides{}, "number_of_retries"},
		{"num_of_retries=two", Overrides{}, "num_of_retries"},
		{"gap_between_retries=2,4,6", Overrides{Gaps: []time.Duration{2 * time.Hour, 4 * time.Hour, 6 * time.Hour}}, ""},
		{"gap_between_retries=0.5,1.25", Overrides{Gaps: []time.Duration{30 * time.Minute, 75 * time.Minute}}, ""},
		{"gap_between_retries=30m,%201h", Overrides{Gaps: []time.Duration{30 * time.Minute, time.Hour}}, ""},
		{"gap_between_retries=0", Overrides{}, "gap_between_retries"},
		{"gap_between_retries=2,,4", Overrides{}, "gap_between_retries"},
		{"gap_between_retries=1000", Overrides{}, "gap_between_retries"},
		{"gap_between_retries=NaN", Overrides{}, "gap_between_retries"},
		{"gap_between_retries=-30m", Overrides{}, "gap_between_retries"},
		// The floor (1 minute) applies after rounding to the second.
		{"gap_between_retries=0.0001", Overrides{}, "gap_between_retries"},
		{"gap_between_retries=2,0.0001", Overrides{}, "gap_between_retries"},
		{"gap_between_retries=59s", Overrides{}, "gap_between_retries"},
		{"gap_between_retries=59.6s", Overrides{Gaps: []time.Duration{time.Minute}}, ""},
		{"gap_between_retries=1m", Overrides{Gaps: []time.Duration{time.Minute}}, ""},
		{"gap_between_retries=0.0167", Overrides{Gaps: []time.Duration{60 * time.Second}}, ""},
		{"gap_between_retries=0.016", Overrides{}, "gap_between_retries"},
		{"gap_between_retries=1ns", Overrides{}, "gap_between_retries"},
		{"timezone=Asia/Kolkata", Overrides{Timezone: "Asia/Kolkata"}, ""},
		{"timezone=callee", Overrides{Timezone: "callee"}, ""},
		{"timezone=contact", Overrides{Timezone: "contact"}, ""},
		{"timezone=Asia/Calcutta", Overrides{Timezone: "Asia/Calcutta"}, ""}, // read as Asia/Kolkata when the call is made
		{"timezone=Mars/Olympus", Overrides{}, "timezone"},
		{"timezone=Local", Overrides{}, "timezone"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParsePolicyParams(v)
			if tc.err != "" {
				pe, ok := err.(*ParamError)
				if !ok || pe.Param != tc.err || !strings.Contains(pe.Msg, tc.err) || !strings.Contains(pe.Msg, "use ") {
					t.Fatalf("err = %v, want a ParamError naming %s and the accepted form", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOverridesApply(t *testing.T) {
	base := store.Policy{Timezone: "Asia/Kolkata", Window: &store.Window{Start: "09:00", End: "18:00", Days: []string{"mon"}},
		Retry: store.RetryPolicy{Max: 1, Gaps: []store.Duration{store.Duration(time.Hour)}, On: []string{"busy"}}}
	got := Overrides{WindowEnd: "20:00", CarryOver: ptr(true), Retries: ptr(3), Gaps: []time.Duration{time.Minute}, Timezone: "callee"}.Apply(base)
	want := store.Policy{Timezone: "callee", Window: &store.Window{Start: "09:00", End: "20:00", CarryOver: true, Days: []string{"mon"}},
		Retry: store.RetryPolicy{Max: 3, Gaps: []store.Duration{store.Duration(time.Minute)}, On: []string{"busy"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v %+v\nwant %+v %+v", got, got.Window, want, want.Window)
	}
	if base.Window.End != "18:00" || base.Window.CarryOver {
		t.Fatal("Apply changed the agent's policy")
	}
	open := Overrides{WindowStart: "10:00"}.Apply(store.Policy{})
	if open.Window == nil || !reflect.DeepEqual(*open.Window, store.Window{Start: "10:00", End: "23:59"}) {
		t.Fatalf("window on an agent without one = %+v", open.Window)
	}
	if p := (Overrides{CarryOver: ptr(true)}).Apply(store.Policy{}); p.Window != nil {
		t.Fatal("carry_over alone must not invent a window")
	}
}

// FuzzParsePolicyParams: any query either parses into values the rest of
// callgate accepts, or fails with a ParamError naming a parameter.
func FuzzParsePolicyParams(f *testing.F) {
	for _, s := range []string{"min_trigger_time=09:00&max_trigger_time=18:00", "carry_over=1", "num_of_retries=3",
		"gap_between_retries=2,4,6", "gap_between_retries=30m,1h", "timezone=callee", "gap_between_retries=1e308", "min_trigger_time=%ff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		o, err := ParsePolicyParams(v)
		if err != nil {
			if _, ok := err.(*ParamError); !ok {
				t.Fatalf("error %T %v is not a ParamError", err, err)
			}
			return
		}
		for _, s := range []string{o.WindowStart, o.WindowEnd} {
			if s != "" && (len(s) != 5 || !clockRE.MatchString(s)) {
				t.Fatalf("window time %q", s)
			}
		}
		if o.Retries != nil && (*o.Retries < 0 || *o.Retries > MaxRetries) {
			t.Fatalf("retries %d", *o.Retries)
		}
		for _, g := range o.Gaps {
			if g < config.MinRetryGap || g > maxGap || g%time.Second != 0 {
				t.Fatalf("gap %s", g)
			}
		}
		if o.Timezone != "" {
			if _, err := callee.Resolve(o.Timezone, callee.Facts{Default: "UTC"}); err != nil {
				t.Fatalf("timezone %q accepted but does not resolve: %v", o.Timezone, err)
			}
		}
	})
}
