package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// BenchmarkCallsPage renders page 1 of the call history, unfiltered and
// filtered by status, with 100 calls stored (the baseline) and with
// 100,000. Server-side pagination should keep the two within a small
// factor of each other.
func BenchmarkCallsPage(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		f := newFixture(b, "")
		fill(b, f, n)
		c := newClient(b, f.srv.URL)
		c.signIn()
		for _, q := range []string{"", "?status=failed", "?phone=%2B919800000042"} {
			b.Run(fmt.Sprintf("calls=%d/query=%q", n, q), func(b *testing.B) {
				for b.Loop() {
					resp, _ := c.get("/ui/calls" + q)
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
		}
	}
}

// fill stores n calls in batches through the store's CreateCalls.
func fill(b *testing.B, f *fixture, n int) {
	b.Helper()
	statuses := []string{store.CallCompleted, store.CallFailed, store.CallSkipped, store.CallCanceled}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 5000
	for i := 0; i < n; i += batch {
		var ncs []store.NewCall
		for j := i; j < i+batch && j < n; j++ {
			at := start.Add(time.Duration(j) * time.Minute)
			ncs = append(ncs, store.NewCall{
				Call: store.Call{AgentID: "sales-intro", Status: statuses[j%len(statuses)], Reason: "bench",
					ToNumber: fmt.Sprintf("+9198%08d", j%1000), Dialer: "log", Variables: map[string]string{"firstname": "Ada"},
					Source: store.Source{Type: "hubspot", ObjectID: fmt.Sprint(j)}},
				Options: store.CreateOptions{Now: at},
			})
		}
		if _, err := f.db.CreateCalls(context.Background(), ncs); err != nil {
			b.Fatal(err)
		}
	}
}
