package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// TestOrphanedEventsWait: pending events of an agent (or integration) that
// left the config wait server.orphan_grace for it with a reason, proceed
// when it comes back, and fail naming it when it does not.
func TestOrphanedEventsWait(t *testing.T) {
	remove := func(e *env, what string) func() {
		switch what {
		case "agent":
			ag := e.cfg.Agents["sales"]
			delete(e.cfg.Agents, "sales")
			return func() { e.cfg.Agents["sales"] = ag }
		default:
			in := e.cfg.Integrations["hubspot"]
			delete(e.cfg.Integrations, "hubspot")
			return func() { e.cfg.Integrations["hubspot"] = in }
		}
	}
	for _, tt := range []struct{ what, name string }{{"agent", `agent "sales"`}, {"integration", `integration "hubspot"`}} {
		t.Run(tt.what+" comes back within the grace", func(t *testing.T) {
			e := newEnv(t, "")
			e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
			restore := remove(e, tt.what)
			id := e.add(t, event("sales", "created", "1"))[0].ID
			e.run(t)
			ev := e.get(t, id)
			want := tt.name + " is not in the config (since 2026-11-27T05:00:00Z); waiting up to 24h0m0s (server.orphan_grace) for it to come back"
			if ev.Status != store.EventPending || !strings.Contains(ev.Reason, want) || !ev.OrphanedAt.Equal(t0) {
				t.Fatalf("after the removal: %s %q (orphaned at %s), want pending with %q", ev.Status, ev.Reason, ev.OrphanedAt, want)
			}
			e.clk.Advance(23 * time.Hour)
			e.run(t)
			if ev = e.get(t, id); ev.Status != store.EventPending || !strings.Contains(ev.Reason, "since 2026-11-27T05:00:00Z") {
				t.Fatalf("23h later: %s %q, want still pending since the first miss", ev.Status, ev.Reason)
			}
			restore()
			e.clk.Advance(orphanRecheck)
			e.run(t)
			if ev = e.get(t, id); ev.Status != store.EventCalled || !ev.OrphanedAt.IsZero() {
				t.Fatalf("after it came back: %s %q (orphaned at %s), want called", ev.Status, ev.Reason, ev.OrphanedAt)
			}
		})
		t.Run(tt.what+" does not come back", func(t *testing.T) {
			e := newEnv(t, "")
			e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
			remove(e, tt.what)
			id := e.add(t, event("sales", "created", "1"))[0].ID
			e.run(t)
			e.clk.Advance(24*time.Hour - time.Second)
			e.run(t)
			if ev := e.get(t, id); ev.Status != store.EventPending {
				t.Fatalf("a second before the grace ends: %s %q", ev.Status, ev.Reason)
			}
			e.clk.Advance(time.Second) // the re-check is capped at the deadline
			e.run(t)
			ev := e.get(t, id)
			want := tt.name + " is not in the config (since 2026-11-27T05:00:00Z) and did not come back within server.orphan_grace (24h0m0s)"
			if ev.Status != store.EventFailed || !strings.Contains(ev.Reason, want) {
				t.Fatalf("after the grace: %s %q, want failed with %q", ev.Status, ev.Reason, want)
			}
		})
	}
	t.Run("the grace is the live config's", func(t *testing.T) {
		e := newEnv(t, "")
		remove(e, "agent")
		e.cfg.Server.OrphanGrace = 0
		id := e.add(t, event("sales", "created", "1"))[0].ID
		e.run(t)
		if ev := e.get(t, id); ev.Status != store.EventFailed || !strings.Contains(ev.Reason, "within server.orphan_grace (0s)") {
			t.Fatalf("with orphan_grace 0s: %s %q, want failed at once", ev.Status, ev.Reason)
		}
	})
	t.Run("a reload that brings the agent back wakes its events", func(t *testing.T) {
		e := newEnv(t, "")
		e.hs.AddContact("1", map[string]any{"phone": "+91 98765 43210"})
		restore := remove(e, "agent")
		id := e.add(t, event("sales", "created", "1"))[0].ID
		e.add(t, event("strict", "created", "2")) // pending on a miss, not on its agent: not woken
		e.run(t)
		restore()
		back := func(agent, integration string) bool {
			return e.cfg.Agents[agent] != nil && e.cfg.Integrations[integration] != nil
		}
		n, err := e.inbox.WakeOrphans(context.Background(), e.clk.Now(), back)
		if err != nil || n != 1 {
			t.Fatalf("WakeOrphans = %d, %v; want 1", n, err)
		}
		e.run(t) // no clock advance: due at once
		if ev := e.get(t, id); ev.Status != store.EventCalled {
			t.Fatalf("after the wake: %s %q, want called", ev.Status, ev.Reason)
		}
	})
}

// orphanRecheck mirrors the pipeline's re-check of waiting events.
const orphanRecheck = time.Minute
