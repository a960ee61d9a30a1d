package ingest

import (
	"net/url"
	"strings"
	"testing"
)

func TestParsePolicyParamsDuplicates(t *testing.T) {
	for _, tc := range []struct {
		query string
		err   string // the parameter the error must name; "" = accepted
	}{
		{"num_of_retries=1&num_of_retries=11", "num_of_retries"},
		{"num_of_retries=1&num_of_retries=1", ""},
		{"num_of_retries=3&number_of_retries=3", ""},
		{"number_of_retries=3&num_of_retries=4", "num_of_retries"},
		{"min_trigger_time=09:00&min_trigger_time=10:00", "min_trigger_time"},
		{"max_trigger_time=18:00&max_trigger_time=18:00", ""},
		{"carry_over=true&carry_over=false", "carry_over"},
		{"gap_between_retries=1&gap_between_retries=2", "gap_between_retries"},
		{"timezone=Asia/Kolkata&timezone=UTC", "timezone"},
		{"timezone=UTC&timezone=%20UTC", ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			_, err := ParsePolicyParams(v)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("identical repeats refused: %v", err)
				}
				return
			}
			pe, ok := err.(*ParamError)
			if !ok || pe.Param != tc.err || !strings.Contains(pe.Msg, tc.err) || !strings.Contains(pe.Msg, "Conflicting") {
				t.Fatalf("err = %v, want a conflict naming %s", err, tc.err)
			}
		})
	}
}

func TestParamErrorsDoNotEchoLongValues(t *testing.T) {
	long := strings.Repeat("9", 100000)
	for _, param := range []string{"min_trigger_time", "carry_over", "num_of_retries", "gap_between_retries", "timezone"} {
		t.Run(param, func(t *testing.T) {
			_, err := ParsePolicyParams(url.Values{param: {long}})
			if err == nil {
				t.Fatal("a 100000-character value was accepted")
			}
			if len(err.Error()) > 400 || !strings.Contains(err.Error(), param) {
				t.Fatalf("error is %d bytes (want under 400, naming %s): %.120s…", len(err.Error()), param, err)
			}
		})
	}
}
