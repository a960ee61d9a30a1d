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
