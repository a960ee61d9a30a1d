package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// loadResult is what one load run measured.
type loadResult struct {
	Name     string
	Requests int
	Errors   map[string]int // by status ("503") or "transport"
	Elapsed  time.Duration
	P50, P99 time.Duration
	Max      time.Duration
	Use      perRequest // CPU and allocations per successful request
}

// Rate is successful requests per second.
func (r loadResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

func (r loadResult) String() string {
	s := fmt.Sprintf("%-8s %8d req  %9.0f req/s  p50 %7.2fms  p99 %7.2fms  max %7.2fms",
		r.Name, r.Requests, r.Rate(), ms(r.P50), ms(r.P99), ms(r.Max))
	if r.Use.SelfCPU > 0 {
		s += "  " + r.Use.String()
	}
	if len(r.Errors) > 0 {
		s += fmt.Sprintf("  errors %v", r.Errors)
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// webhookSigner builds signed HubSpot contact.creation requests, each
// with new object ids so none is a duplicate.
type webhookSigner struct {
	// urls are where requests go (and what is signed), in turn: the
	// replicas' webhook URLs, as a round-robin balancer spreads them.
	urls   []string
	turn   atomic.Int64
	secret string
	seq    atomic.Int64
	portal int64
	// ignored sends events of a type the plugin does not act on
	// (benchIgnoredType): the same verify, parse and commit, but stored
	// ignored at ingest, so the pipeline and scheduler stay idle.
	ignored bool
	// created, when set, is told each object id before it is sent (the
	// bench adds the contact to its fake HubSpot).
	created func(objectID int64)
}

// benchIgnoredType is a subscription type HubSpot does not send and the
// plugin reports as one nobody acts on: ingest stores it ignored. (A
// deletion no longer will: the pipeline cancels the contact's calls.)
const benchIgnoredType = "contact.callgateBench"

// request builds one signed webhook with n events.
func (s *webhookSigner) request(ctx context.Context, n int) (*http.Request, error) {
	now := time.Now()
	typ := "contact.creation"
	if s.ignored {
		typ = benchIgnoredType
	}
	evs := make([]hubspottest.Event, n)
	for i := range evs {
		id := s.seq.Add(1)
		if s.created != nil {
			s.created(1_000_000 + id)
		}
		evs[i] = hubspottest.Event{EventID: id, SubscriptionID: 1, PortalID: s.portal, AppID: 1, OccurredAt: now.UnixMilli(),
			SubscriptionType: typ, ObjectID: 1_000_000 + id, ChangeSource: "CRM_UI"}
	}
	body, err := json.Marshal(evs)
	if err != nil {
		return nil, err
	}
	url := s.urls[int(s.turn.Add(1)-1)%len(s.urls)]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.secret != "" {
		for k, v := range hubspot.SignV3(s.secret, http.MethodPost, url, body, now) {
			req.Header.Set(k, v)
		}
	}
	return req, nil
}

// runLoad sends single-event webhooks from clients goroutines for d and
// measures each request's latency, and what the requests cost (db: the
// database server to count too, nil for none).
func runLoad(ctx context.Context, name string, client *http.Client, s *webhookSigner, clients int, d time.Duration, db *pgProbe) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      = map[string]int{}
		wg        sync.WaitGroup
	)
	before := readUsage(db)
	start := time.Now()
	for range clients {
		wg.Add(1)
		go pprof.Do(context.Background(), pprof.Labels("role", "client"), func(context.Context) {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			localErrs := map[string]int{}
			for ctx.Err() == nil {
				req, err := s.request(context.Background(), 1)
				if err != nil {
					localErrs["build"]++
					continue
				}
				t0 := time.Now()
				status, err := do(client, req)
				lat := time.Since(t0)
				switch {
				case err != nil:
					localErrs["transport"]++
				case status != http.StatusOK:
					localErrs[fmt.Sprint(status)]++
				default:
					local = append(local, lat)
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			for k, v := range localErrs {
				errs[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := summarize(name, latencies, errs, elapsed)
	r.Use = before.per(readUsage(db), r.Requests)
	return r
}

// ackLatency sends n requests of size events each, one after another, and
// measures how long each takes to be acknowledged.
func ackLatency(ctx context.Context, name string, client *http.Client, s *webhookSigner, size, n int) loadResult {
	var latencies []time.Duration
	errs := map[string]int{}
	start := time.Now()
	for range n {
		req, err := s.request(ctx, size)
		if err != nil {
			errs["build"]++
			continue
		}
		t0 := time.Now()
		status, err := do(client, req)
		switch {
		case err != nil:
			errs["transport"]++
		case status != http.StatusOK:
			errs[fmt.Sprint(status)]++
		default:
			latencies = append(latencies, time.Since(t0))
		}
	}
	return summarize(name, latencies, errs, time.Since(start))
}

func do(client *http.Client, req *http.Request) (int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func summarize(name string, lat []time.Duration, errs map[string]int, elapsed time.Duration) loadResult {
	slices.Sort(lat)
	r := loadResult{Name: name, Requests: len(lat), Errors: errs, Elapsed: elapsed}
	if len(lat) > 0 {
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
		r.Max = lat[len(lat)-1]
	}
	return r
}

// bareHandler is the baseline: a net/http handler that reads the body and
// answers the same 200 JSON, doing nothing else.
func bareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"status":"done","message":"1 event received","accepted":1,"duplicates":0,"ignored":0}`+"\n")
	})
}
