package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
)

// FuzzParseEventQuery: any query string parses into a filter (limit in
// range, until not before since, a search phone in E.164) or is refused
// naming the parameter; and the search it holds matches any stored call
// or event without a panic.
func FuzzParseEventQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := api.ParseEventQuery(v, "IN")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid ") {
				t.Fatalf("error %q names no parameter", err)
			}
			return
		}
		if q.Limit < 0 || q.Limit > 1000 {
			t.Fatalf("limit %d out of range", q.Limit)
		}
		if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
			t.Fatal("until before since accepted")
		}
		if q.Search.Phone != "" && !strings.HasPrefix(q.Search.Phone, "+") {
			t.Fatalf("search phone %q is not E.164", q.Search.Phone)
		}
		now := time.Now()
		c := store.Call{ID: "01J", ToNumber: "+919812345678", Variables: map[string]string{"firstname": "Ada"},
			Fields: map[string]any{"email": "ada@example.com", "n": 1.0}, Source: store.Source{ObjectID: "123"}}
		ev := store.Event{ID: "01K", ObjectID: "123", Value: raw, Record: json.RawMessage(`{"Fields":{"x":{"String":"` + url.QueryEscape(raw) + `"}},"Phones":["098123 45678"]}`)}
		q.Search.MatchCall(&c)
		q.Search.MatchEvent(&ev, &c)
		ev.ErasedAt = &now
		q.Search.MatchEvent(&ev, nil)
	})
}
