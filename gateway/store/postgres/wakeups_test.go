package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/gateway/store/postgres"
)

// A commit on one replica wakes the workers of every replica.
func TestWakeupsReachOtherReplicas(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	inbox, outbox := rs[1].Changes(store.TopicInbox), rs[1].Changes(store.TopicOutbox)
	settle(rs[1], store.TopicInbox, store.TopicOutbox)
	if _, err := rs[0].AppendEvents(ctx, []store.Event{event("a")}, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, inbox, "inbox wake-up from the other replica")
	if err := rs[0].EnqueueOutbox(ctx, item(1, t0)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, outbox, "outbox wake-up from the other replica")
}

// The listening connection dies (a database restart, a proxy's idle
// timeout): the listener reconnects, and signals on reconnecting in case
// it missed a commit.
func TestWakeupsSurviveALostConnection(t *testing.T) {
	rs := replicas(t, 2)
	ctx := context.Background()
	inbox := rs[1].Changes(store.TopicInbox)
	settle(rs[1], store.TopicInbox)
	conn := connect(t, postgres.URLOf(rs[0]))
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("terminated %d listeners, %v; want both replicas'", killed, err)
	}
	waitFor(t, inbox, "the wake-up on reconnecting")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var listening int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if listening == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listeners back after 10s, want 2", listening)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := rs[0].AppendEvents(ctx, []store.Event{event("a")}, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, inbox, "inbox wake-up after the reconnect")
}

// settle waits until s listens and drains the signals of its first
// connect, so a test sees only the signals it causes.
func settle(s *postgres.Store, topics ...string) {
	time.Sleep(300 * time.Millisecond)
	for _, topic := range topics {
		select {
		case <-s.Changes(topic):
		default:
		}
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
	}
}
