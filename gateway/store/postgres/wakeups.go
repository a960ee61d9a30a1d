package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"
)

// wakeChannel is the one LISTEN/NOTIFY channel of a database; the payload
// is the topic (store.TopicInbox, store.TopicDialer(name), …), so one
// LISTEN serves every topic, dialers added by a reload included.
const wakeChannel = "callgate_wakeup"

// Backoff of the listener's reconnects.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 10 * time.Second
)

// Changes returns the channel that receives after a commit, by any
// replica, made work of topic due. It holds at most one pending signal.
func (s *Store) Changes(topic string) <-chan struct{} { return s.wake.changes(topic) }

// notify queues a wake-up of each topic in the transaction q: PostgreSQL
// delivers it to every listening replica when, and only if, q commits
// (and sends one per topic however many a transaction queues).
func notify(ctx context.Context, q querier, topics ...string) error {
	_, err := q.Exec(ctx, "SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t", wakeChannel, topics)
	return err
}

// wakeups keeps one connection LISTENing and turns notifications into
// signals on per-topic channels. While the connection is down no signal
// arrives; workers poll on a bounded timer anyway, and every topic is
// signalled on reconnect so nothing committed meanwhile waits for a poll.
type wakeups struct {
	cfg    *pgx.ConnConfig
	log    hclog.Logger
	mu     sync.Mutex
	chans  map[string]chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func newWakeups(cfg *pgx.ConnConfig, log hclog.Logger) *wakeups {
	ctx, cancel := context.WithCancel(context.Background())
	w := &wakeups{cfg: cfg.Copy(), log: log, chans: map[string]chan struct{}{}, cancel: cancel, done: make(chan struct{})}
	go w.listen(ctx)
	return w
}

func (w *wakeups) changes(topic string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.chanLocked(topic)
}

func (w *wakeups) chanLocked(topic string) chan struct{} {
	ch := w.chans[topic]
	if ch == nil {
		ch = make(chan struct{}, 1)
		w.chans[topic] = ch
	}
	return ch
}

// signal wakes topic's reader; a signal already pending absorbs it.
func (w *wakeups) signal(topic string) {
	w.mu.Lock()
	ch := w.chanLocked(topic)
	w.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (w *wakeups) signalAll() {
	w.mu.Lock()
	topics := make([]string, 0, len(w.chans))
	for t := range w.chans {
		topics = append(topics, t)
	}
	w.mu.Unlock()
	for _, t := range topics {
		w.signal(t)
	}
}

func (w *wakeups) close() {
	w.cancel()
	<-w.done
}

// listen holds a LISTEN session until close, reconnecting with backoff.
func (w *wakeups) listen(ctx context.Context) {
	defer close(w.done)
	backoff := listenBackoffMin
	for {
		connected, err := w.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = listenBackoffMin
		}
		w.log.Warn("wake-ups from other replicas paused: listening connection lost; reconnecting",
			"error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, listenBackoffMax)
	}
}

// session connects, LISTENs and passes notifications on until the
// connection fails; connected says whether LISTEN took.
func (w *wakeups) session(ctx context.Context) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, w.cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+wakeChannel); err != nil {
		return false, err
	}
	w.signalAll() // what was committed while no one listened
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		w.signal(n.Payload)
	}
}
