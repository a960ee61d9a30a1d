package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer/dialertest"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// trySend posts one signed HubSpot webhook to the gateway at base and
// returns the status (0 when the request did not get an answer).
func trySend(client *http.Client, base string, evs ...hubspottest.Event) int {
	path := "/call/crm-webhook?type=hubspot&agent_id=sales&x_api_key=" + webhookAPIKey
	body, _ := json.Marshal(evs)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	for k, v := range hubspottest.Sign(hubspotSecret, "v3", http.MethodPost, base+path, body, time.Now()) {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestCrashLosesNothingAndDoublesNothing sends webhooks from several
// goroutines, kills the gateway with SIGKILL mid-stream and starts it
// again on the same data. Senders retry what was not acknowledged, as
// HubSpot does (same event, next attemptNumber). Every contact must be
// called exactly once.
func TestCrashLosesNothingAndDoublesNothing(t *testing.T) {
	const senders, each = 4, 25
	hs := hubspottest.New(hubspottest.Options{RateMax: 100000})
	t.Cleanup(hs.Close)
	platform := dialertest.New(t, dialertest.HTTP, "")
	platform.AnswerSync("completed") // outcomes come back at once: the dialer's concurrency never fills up
	numbers := map[string]int64{}
	for i := range senders * each {
		id := int64(3000 + i)
		number := fmt.Sprintf("+919876%06d", i)
		numbers[number] = id
		hs.AddContact(fmt.Sprint(id), map[string]any{"firstname": fmt.Sprint("P", i), "mobilephone": number})
	}
	cfg := webhookConfig(hs.URL, platform.URL)
	dataDir := filepath.Join(t.TempDir(), "data")
	var current atomic.Pointer[gateway]
	current.Store(launch(t, gatewayOptions{Config: cfg, DataDir: dataDir}))

	var ackedBeforeCrash, acked atomic.Int64
	var crashed atomic.Bool
	occurred := time.Now().Add(-time.Second)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := int64(3000 + s*each + i)
				for attempt := 0; ; attempt++ {
					if attempt > 2000 {
						t.Errorf("contact %d: no 200 after %d tries", id, attempt)
						return
					}
					if trySend(client, current.Load().URL, creation(id, occurred, attempt)) == http.StatusOK {
						acked.Add(1)
						if !crashed.Load() {
							ackedBeforeCrash.Add(1)
						}
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	waitFor(t, 30*time.Second, "a third of the webhooks acknowledged", func() bool { return acked.Load() >= senders*each/3 })
	current.Load().Crash()
	crashed.Store(true)
	t.Logf("SIGKILL after %d acknowledged webhooks (%d dials placed)", ackedBeforeCrash.Load(), len(platform.Dials()))
	g := launch(t, gatewayOptions{Config: cfg, DataDir: dataDir})
	current.Store(g)
	wg.Wait()
	if t.Failed() {
		return
	}

	placed := func() map[string]int {
		out := map[string]int{}
		for _, d := range platform.Dials() {
			if d.Placed {
				out[d.ToNumber]++
			}
		}
		return out
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(placed()) != len(numbers) {
		if time.Now().After(deadline) {
			var page struct {
				Events []store.Event `json:"events"`
			}
			adminJSON(t, g, "/api/v1/events?limit=1000", &page)
			byStatus := map[string]int{}
			for _, ev := range page.Events {
				byStatus[ev.Status+": "+ev.Reason]++
			}
			t.Fatalf("after 60s %d of %d contacts called; events: %v", len(placed()), len(numbers), byStatus)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // room for a doubled dial to show up
	for number, n := range placed() {
		if _, ok := numbers[number]; !ok || n != 1 {
			t.Errorf("%s dialed %d times, want once", number, n)
		}
	}
	var page struct {
		Events []store.Event `json:"events"`
	}
	adminJSON(t, g, "/api/v1/events?limit=1000", &page)
	calls := map[string]bool{}
	for _, ev := range page.Events {
		if ev.Status != store.EventCalled {
			t.Errorf("event %s for contact %s: %s %q", ev.ID, ev.ObjectID, ev.Status, ev.Reason)
		}
		calls[ev.CallID] = true
	}
	if len(page.Events) != len(numbers) || len(calls) != len(numbers) {
		t.Fatalf("%d events and %d calls for %d contacts: a retried webhook was stored twice", len(page.Events), len(calls), len(numbers))
	}
	if ackedBeforeCrash.Load() == 0 {
		t.Fatal("the crash came before any webhook was acknowledged; the test proved nothing")
	}
}
