package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// TestInboxWriterSurvivesABadRequest: a request the writer panics on (a
// time no ULID can carry) or cannot encode fails on its own, with a
// reason; requests committed with it and after it are stored.
func TestInboxWriterSurvivesABadRequest(t *testing.T) {
	_, in := openInbox(t, t.TempDir(), newClock().Now)
	ctx := context.Background()
	_, err := in.AppendEvents(ctx, []store.Event{ev("before-1970")}, store.AppendOptions{Now: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err == nil || !strings.Contains(err.Error(), "internal error storing the events") {
		t.Fatalf("append that panics = %v, want the internal error", err)
	}
	if res, err := in.AppendEvents(ctx, []store.Event{ev("after")}, store.AppendOptions{}); err != nil || res.Accepted != 1 {
		t.Fatalf("append after the panic = %+v, %v", res, err)
	}

	// Bad and good requests at once, so they share group commits.
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := ev(fmt.Sprintf("k%d", i))
			if i%4 == 0 {
				e.Overrides = json.RawMessage("{not json")
			}
			_, errs[i] = in.AppendEvents(ctx, []store.Event{e}, store.AppendOptions{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if bad := i%4 == 0; bad != (err != nil) {
			t.Errorf("request %d (bad: %v) = %v", i, bad, err)
		}
	}
	if got := pending(t, in); got != 1+30 {
		t.Errorf("pending = %d, want 31", got)
	}
}
