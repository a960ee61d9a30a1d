package sdktest

import (
	"strings"
	"testing"
)

func TestMediaTypeProblems(t *testing.T) {
	tests := []struct {
		name  string
		types []string
		want  string // substring of the only problem; "" for none
	}{
		{"none declared", nil, ""},
		{"json and form", []string{"application/json", "application/x-www-form-urlencoded", "text/plain"}, ""},
		{"vendor json", []string{"application/vnd.api+json"}, ""},
		{"no subtype", []string{"json"}, "type/subtype"},
		{"not a media type", []string{"application/json;;"}, "not a media type"},
		{"parameters", []string{"application/json; charset=utf-8"}, "bare lower-case"},
		{"upper case", []string{"Application/JSON"}, "bare lower-case"},
		{"wildcard", []string{"text/*"}, "bare lower-case"},
		{"empty", []string{""}, "not a media type"},
		{"twice", []string{"application/json", "application/json"}, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mediaTypeProblems(tt.types)
			switch {
			case tt.want == "" && len(got) > 0:
				t.Fatalf("problems %q, want none", got)
			case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
				t.Fatalf("problems %q, want one containing %q", got, tt.want)
			}
		})
	}
}
