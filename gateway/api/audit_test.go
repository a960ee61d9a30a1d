package api_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/api"
)

var auditNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestParseAuditQuery(t *testing.T) {
	tests := []struct {
		query        string
		since, until time.Time
		agent        string
		err          string
	}{
		{"", auditNow.Add(-24 * time.Hour), auditNow, "", ""},
		{"since=72h&agent_id=sales", auditNow.Add(-72 * time.Hour), auditNow, "sales", ""},
		{"since=2026-11-27T00:00:00Z&until=2026-11-28T05:30:00%2B05:30", time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), "", ""},
		{"until=1h", auditNow.Add(-25 * time.Hour), auditNow.Add(-time.Hour), "", ""},
		{"since=yesterday", time.Time{}, time.Time{}, "", "since: "},
		{"until=-1h", time.Time{}, time.Time{}, "", "until: "},
		{"since=1h&until=2h", time.Time{}, time.Time{}, "", "until: must be after since"},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.query)
		q, err := api.ParseAuditQuery(v, auditNow)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) || !api.IsBadRequest(err) {
				t.Errorf("%q: err = %v, want %q (a bad request)", tt.query, err, tt.err)
			}
			continue
		}
		if err != nil || !q.Since.Equal(tt.since) || !q.Until.Equal(tt.until) || q.AgentID != tt.agent {
			t.Errorf("%q = %+v, %v; want %v – %v agent %q", tt.query, q, err, tt.since, tt.until, tt.agent)
		}
	}
}

// FuzzParseAuditQuery: any query either parses into a period that ends
// after it starts, or is refused naming the field.
func FuzzParseAuditQuery(f *testing.F) {
	f.Add("since=24h")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := api.ParseAuditQuery(v, auditNow)
		if err != nil {
			if !api.IsBadRequest(err) || !strings.Contains(err.Error(), ": ") {
				t.Fatalf("error %q is not a bad request naming a field", err)
			}
			return
		}
		if !q.Until.After(q.Since) {
			t.Fatalf("period %v – %v does not end after it starts", q.Since, q.Until)
		}
	})
}
