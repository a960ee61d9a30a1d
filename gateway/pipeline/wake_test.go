package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

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
