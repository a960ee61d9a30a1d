package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/api"
)

func TestQueryErrorsDoNotEchoLongValues(t *testing.T) {
	long := strings.Repeat("x", 100000)
	for _, param := range []string{"status", "since", "until", "limit"} {
		t.Run("calls "+param, func(t *testing.T) {
			_, err := api.ParseCallQuery(url.Values{param: {long}}, "IN")
			if err == nil || len(err.Error()) > 300 || !strings.Contains(err.Error(), "…") {
				t.Fatalf("error of %d bytes: %.120v", len(err.Error()), err)
			}
		})
	}
	for _, param := range []string{"kind", "dead"} {
		t.Run("outbox "+param, func(t *testing.T) {
			_, err := api.ParseOutboxQuery(url.Values{param: {long}})
			if err == nil || len(err.Error()) > 300 || !strings.Contains(err.Error(), "…") {
				t.Fatalf("error of %d bytes: %.120v", len(err.Error()), err)
			}
		})
	}
}
