package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/api"
)

// TestListingLimit: both listings read limit the same way: the default
// when absent, 1 to MaxLimit, and a 400 naming the parameter otherwise.
func TestListingLimit(t *testing.T) {
	parsers := map[string]func(url.Values) (int, error){
		"calls":  func(v url.Values) (int, error) { q, err := api.ParseCallQuery(v, "IN"); return q.Limit, err },
		"outbox": func(v url.Values) (int, error) { q, err := api.ParseOutboxQuery(v); return q.Limit, err },
	}
	tests := []struct {
		query   string
		want    int
		wantErr bool
	}{
		{"", api.DefaultLimit, false},
		{"limit=1", 1, false},
		{"limit=+500", api.MaxLimit, false},
		{"limit=%20200%20", 200, false},
		{"limit=0", 0, true},
		{"limit=501", 0, true},
		{"limit=ten", 0, true},
	}
	for name, parse := range parsers {
		for _, tt := range tests {
			t.Run(name+"/"+tt.query, func(t *testing.T) {
				v, _ := url.ParseQuery(tt.query)
				got, err := parse(v)
				if tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), "limit") {
						t.Fatalf("err = %v, want one naming limit", err)
					}
					return
				}
				if err != nil || got != tt.want {
					t.Fatalf("limit = %d, %v; want %d", got, err, tt.want)
				}
			})
		}
	}
}
