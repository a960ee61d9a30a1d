package hubspot_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

// TestClientLimiterKeepsUnderHubSpotsWindow fires requests from several
// goroutines at a fake whose rolling window allows 20 requests per 500 ms:
// once the plugin has read X-HubSpot-RateLimit-* it must never be refused.
func TestClientLimiterKeepsUnderHubSpotsWindow(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{RateMax: 20, RateInterval: 500 * time.Millisecond})
	ids := addContacts(srv, 4)
	if _, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // let the fake's window empty after the warm-up burst
	srv.Reset()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				_, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: []string{ids[g]}})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("fetch: %v", err)
	}
	if st := srv.Stats(); st.RateLimited != 0 || st.GetContact != 40 {
		t.Fatalf("stats %+v: the limiter let a burst through", st)
	}
}

// TestClientLimiterPerToken: one token's 429 does not hold back another's.
func TestClientLimiterPerToken(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	ids := addContacts(srv, 1)
	srv.FailNext(1, 429)
	if _, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids}); sdk.ClassOf(err) != sdk.ClassRateLimited {
		t.Fatalf("first token: %v", err)
	}
	other := sdk.Credentials{}
	for k, v := range creds {
		other[k] = v
	}
	other["access_token"] = "pat-other-" + strconv.Itoa(1)
	_, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: other, IDs: ids})
	if sdk.ClassOf(err) != sdk.ClassAuth {
		t.Fatalf("second token reached HubSpot and should be refused by it (401), got %v", err)
	}
}

// TestLimiterSpendsTheAllowance: at Max 1, 10 and 100 per interval the
// plugin never exceeds Max in any rolling interval of the fake and, kept
// busy by several goroutines, spends at least Max-1 of every full one (at
// Max 1: one request per interval, not one per two).
func TestLimiterSpendsTheAllowance(t *testing.T) {
	tests := []struct {
		max      int
		interval time.Duration
	}{
		{1, 250 * time.Millisecond},
		{10, 250 * time.Millisecond},
		{100, 600 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.max), func(t *testing.T) {
			p, srv, creds := setup(t, hubspottest.Options{RateMax: tc.max, RateInterval: tc.interval})
			ids := addContacts(srv, 4)
			// Warm up: the property definitions are read (and cached), and
			// the limiter learns Max; then the fake's window empties.
			if _, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids[:1]}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(tc.interval)
			srv.Reset()
			n := 6*tc.max + 1 // a little over six windows' worth
			var wg sync.WaitGroup
			work := make(chan string, n)
			for i := range n {
				work <- ids[i%len(ids)]
			}
			close(work)
			start := time.Now()
			errs := make(chan error, n)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for id := range work {
						if _, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: []string{id}}); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			took := time.Since(start)
			close(errs)
			for err := range errs {
				t.Errorf("fetch: %v", err)
			}
			st := srv.Stats()
			if st.RateLimited != 0 {
				t.Fatalf("HubSpot refused %d requests: %+v", st.RateLimited, st)
			}
			if got := srv.MaxInWindow(); got > tc.max {
				t.Fatalf("%d requests in one rolling interval, Max is %d", got, tc.max)
			}
			counts := srv.PerInterval()
			for k, c := range counts {
				if c > tc.max {
					t.Errorf("interval %d held %d requests, Max is %d (all: %v)", k, c, tc.max, counts)
				}
			}
			// n requests need (n-1)/max windows after the first. A limiter
			// that counts its own requests as others' use needs twice that;
			// the bound leaves room for round trips on a loaded machine
			// (each slot is held until an interval after its answer).
			if limit := time.Duration(float64((n-1)/tc.max)*1.5*float64(tc.interval)) + tc.interval/2; took > limit {
				t.Errorf("%d requests took %s, want under %s (per interval: %v)", n, took, limit, counts)
			}
			t.Logf("%d requests in %s, per interval %v", n, took, counts)
		})
	}
}
