package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/pipeline"
	"github.com/callgate/callgate/gateway/store"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRunWakesOnTheStoresCommit: an event appended by anyone (ingest,
// reconciliation, another replica) is processed at once: the store's
// Changes(store.TopicInbox) wakes Run, whose poll is an hour away.
func TestRunWakesOnTheStoresCommit(t *testing.T) {
	e := newEnv(t, "")
	e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
	cfg := e.pcfg
	cfg.PollInterval, cfg.Registerer = time.Hour, prometheus.NewRegistry()
	p, err := pipeline.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(50 * time.Millisecond) // Run's first pass finds nothing and sleeps
	id := e.add(t, event("sales", "created", "1"))[0].ID
	deadline := time.Now().Add(10 * time.Second)
	for e.get(t, id).Status == store.EventPending {
		if time.Now().After(deadline) {
			t.Fatal("Run did not process an appended event without a Wake")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v after cancel", err)
	}
}

func TestRunWakesOnNewEvents(t *testing.T) {
	e := newEnv(t, "")
	e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.p.Run(ctx) }()
	id := e.add(t, event("sales", "created", "1"))[0].ID
	e.p.Wake()
	deadline := time.Now().Add(5 * time.Second)
	for e.get(t, id).Status == store.EventPending {
		if time.Now().After(deadline) {
			t.Fatal("Run did not process a woken event")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v after cancel", err)
	}
}
