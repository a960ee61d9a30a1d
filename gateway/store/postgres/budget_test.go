package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// The dial budget is one bucket per dialer shared by every replica: what
// one takes, the others cannot, and it refills at the rate up to the burst.
func TestDialBudgetAcrossReplicas(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	take := func(i, want int, at time.Time) int {
		t.Helper()
		n, err := rs[i].TakeDials(ctx, "voice", want, 5, 10, at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := take(0, 8, t0); n != 8 {
		t.Fatalf("first take of 8 from a full bucket of 10: %d", n)
	}
	if n := take(1, 8, t0); n != 2 {
		t.Fatalf("the other replica got %d, want the 2 left", n)
	}
	if n := take(0, 8, t0); n != 0 {
		t.Fatalf("an empty bucket gave %d", n)
	}
	if n := take(1, 8, t0.Add(time.Second)); n != 5 {
		t.Fatalf("after 1s at 5/s: %d, want 5", n)
	}
	if n := take(0, 100, t0.Add(time.Hour)); n != 10 {
		t.Fatalf("after an hour: %d, want the burst of 10", n)
	}
	if n := take(1, 3, t0.Add(time.Minute)); n != 0 {
		t.Fatalf("a clock behind the bucket's earned %d", n)
	}
	if n, _ := rs[0].TakeDials(ctx, "other", 3, 5, 10, t0); n != 3 {
		t.Fatalf("another dialer's bucket: %d", n)
	}

	// Many goroutines on both replicas never take more than there is.
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	at := t0.Add(2 * time.Hour) // full again: 10
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := rs[i%2].TakeDials(ctx, "voice", 3, 5, 10, at)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 10 {
		t.Fatalf("16 concurrent takes got %d dials, want exactly the 10 in the bucket", total)
	}
}

// ClaimDueCapped holds the dialer's concurrency for the whole cluster:
// replicas claiming at once never put more calls in dialing than the cap.
func TestClaimDueCappedAcrossReplicas(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	createDue(t, rs[0], 40, "voice", t0)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := rs[i%2].ClaimDueCapped(ctx, "voice", t0.Add(time.Second), 5, 7, dial(t0.Add(time.Hour))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n, err := rs[1].InFlight(ctx, "voice")
	if err != nil {
		t.Fatal(err)
	}
	if n != 7 {
		t.Fatalf("%d calls dialing after 8 concurrent capped claims, want the cap of 7", n)
	}
	if got, _ := rs[0].ClaimDueCapped(ctx, "voice", t0.Add(time.Second), 5, 7, dial(t0.Add(time.Hour))); len(got) != 0 {
		t.Fatalf("a claim at the cap took %d", len(got))
	}
}
