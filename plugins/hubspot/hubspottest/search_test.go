package hubspottest_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// TestSearch: the search endpoint's filters, sorts, paging, total, result
// cap and its own rate limit, in HubSpot's shapes.
func TestSearch(t *testing.T) {
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	srv := hubspottest.New(hubspottest.Options{SearchCap: 4, SearchRatePerSec: 100})
	defer srv.Close()
	for i := range 6 {
		srv.AddContactAt(strconv.Itoa(10+i), base.Add(time.Duration(i)*time.Minute), base.Add(time.Duration(10-i)*time.Minute), nil)
	}
	ms := func(d time.Duration) string { return strconv.FormatInt(base.Add(d).UnixMilli(), 10) }
	search := func(body string) (int, map[string]any) {
		res, out := do(t, srv, srv.Token(), "POST", "/crm/v3/objects/contacts/search", body)
		return res.StatusCode, out
	}
	ids := func(out map[string]any) []string {
		var got []string
		rs, _ := out["results"].([]any)
		for _, r := range rs {
			got = append(got, r.(map[string]any)["id"].(string))
		}
		return got
	}
	tests := []struct {
		name      string
		body      string
		status    int
		want      string // fmt of ids
		total     float64
		nextAfter string
	}{
		{"GTE and LT, ascending, paged", `{"filterGroups":[{"filters":[{"propertyName":"createdate","operator":"GTE","value":"` + ms(time.Minute) + `"},{"propertyName":"createdate","operator":"LT","value":"` + ms(5*time.Minute) + `"}]}],"sorts":[{"propertyName":"createdate","direction":"ASCENDING"}],"limit":3}`,
			200, "[11 12 13]", 4, "3"},
		{"second page", `{"filterGroups":[{"filters":[{"propertyName":"createdate","operator":"GTE","value":"` + ms(time.Minute) + `"},{"propertyName":"createdate","operator":"LT","value":"` + ms(5*time.Minute) + `"}]}],"sorts":[{"propertyName":"createdate","direction":"ASCENDING"}],"limit":3,"after":"3"}`,
			200, "[14]", 4, ""},
		{"GT and LTE on the modified date, descending", `{"filterGroups":[{"filters":[{"propertyName":"hs_lastmodifieddate","operator":"GT","value":"` + ms(5*time.Minute) + `"},{"propertyName":"hs_lastmodifieddate","operator":"LTE","value":"` + ms(8*time.Minute) + `"}]}],"sorts":[{"propertyName":"hs_lastmodifieddate","direction":"DESCENDING"}]}`,
			200, "[12 13 14]", 3, ""},
		{"filter groups are ORed", `{"filterGroups":[{"filters":[{"propertyName":"hs_object_id","operator":"EQ","value":"10"}]},{"filters":[{"propertyName":"hs_object_id","operator":"EQ","value":"15"}]}]}`,
			200, "[10 15]", 2, ""},
		{"after past the cap", `{"limit":2,"after":"4"}`, 400, "[]", 0, ""},
		{"limit over 200", `{"limit":201}`, 400, "[]", 0, ""},
		{"bad operator", `{"filterGroups":[{"filters":[{"propertyName":"createdate","operator":"AROUND","value":"1"}]}]}`, 400, "[]", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := search(tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, out)
			}
			if status != 200 {
				if out["category"] != "VALIDATION_ERROR" || out["status"] != "error" {
					t.Errorf("400 body %v, want HubSpot's VALIDATION_ERROR", out)
				}
				return
			}
			if got := fmt.Sprint(ids(out)); got != tc.want {
				t.Errorf("ids %s, want %s", got, tc.want)
			}
			if out["total"] != tc.total {
				t.Errorf("total %v, want %v", out["total"], tc.total)
			}
			next := ""
			if p, ok := out["paging"].(map[string]any); ok {
				next, _ = p["next"].(map[string]any)["after"].(string)
			}
			if next != tc.nextAfter {
				t.Errorf("paging.next.after %q, want %q", next, tc.nextAfter)
			}
		})
	}
	t.Run("hs_lastmodifieddate when asked", func(t *testing.T) {
		_, out := search(`{"filterGroups":[{"filters":[{"propertyName":"hs_object_id","operator":"EQ","value":"12"}]}],"properties":["hs_lastmodifieddate"]}`)
		props := out["results"].([]any)[0].(map[string]any)["properties"].(map[string]any)
		if props["hs_lastmodifieddate"] != "2026-03-02T09:08:00.000Z" || props["createdate"] != "2026-03-02T09:02:00.000Z" {
			t.Errorf("properties %v", props)
		}
	})
}

// TestSearchRateLimit: over the search rate the fake answers 429 with
// HubSpot's body and, like every search reply, no rate-limit headers.
func TestSearchRateLimit(t *testing.T) {
	srv := hubspottest.New(hubspottest.Options{SearchRatePerSec: 2})
	defer srv.Close()
	for i := range 3 {
		res, out := do(t, srv, srv.Token(), "POST", "/crm/v3/objects/contacts/search", `{}`)
		if res.Header.Get("X-HubSpot-RateLimit-Max") != "" {
			t.Errorf("search reply %d carries X-HubSpot-RateLimit-Max", i)
		}
		if i < 2 && res.StatusCode != 200 {
			t.Fatalf("request %d: %d %v", i, res.StatusCode, out)
		}
		if i == 2 && (res.StatusCode != 429 || out["errorType"] != "RATE_LIMIT" || out["policyName"] != "SECONDLY") {
			t.Fatalf("third request in a second: %d %v", res.StatusCode, out)
		}
	}
	if srv.SearchCount() != 2 || srv.Stats().RateLimited != 1 {
		t.Errorf("searches %d, rate limited %d", srv.SearchCount(), srv.Stats().RateLimited)
	}
}
