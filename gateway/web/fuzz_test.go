package web

import (
	"net/url"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/config"
)

// FuzzCallsQuery: whatever the filter form sends, the call history
// either gets a filter with an E.164 phone, a page size in range and an
// ordered date range, or an error naming the field.
func FuzzCallsQuery(f *testing.F) {
	for _, s := range []string{"", "agent_id=sales-intro&status=failed", "phone=098123+45678&from=2026-11-01&to=2026-11-30",
		"from=2026-13-01", "to=2026-11-01&from=2026-11-02", "cursor=AAAA&status=dialing"} {
		f.Add(s)
	}
	d := &Dashboard{opts: Options{Config: func() *config.Config { return config.Default() }, PageSize: 50}}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		_, q, err := d.callsQuery(v)
		if err != nil {
			if !strings.Contains(err.Error(), ":") {
				t.Fatalf("error %q names no field", err)
			}
			return
		}
		if q.Limit != 50 || (q.Phone != "" && q.Phone[0] != '+') {
			t.Fatalf("filter %+v", q)
		}
		if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
			t.Fatalf("until %s before since %s", q.Until, q.Since)
		}
		if q.Status != "" && !contains(api.CallStatuses, q.Status) {
			t.Fatalf("status %q let through", q.Status)
		}
	})
}
