package bolt

import (
	"sync"
)

// wakeups hold one channel per topic, each with room for one signal: a
// commit that made work signals after it committed, and signals collapse
// (one receive may stand for several commits). Only this process writes
// the file, so these are all the signals there are.
type wakeups struct {
	mu    sync.Mutex
	chans map[string]chan struct{}
}

func (w *wakeups) ch(topic string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.chans == nil {
		w.chans = map[string]chan struct{}{}
	}
	c := w.chans[topic]
	if c == nil {
		c = make(chan struct{}, 1)
		w.chans[topic] = c
	}
	return c
}

func (w *wakeups) signal(topic string) {
	select {
	case w.ch(topic) <- struct{}{}:
	default: // a signal is already waiting
	}
}

// Changes returns the channel signalled after commits that made work for
// topic: store.TopicInbox (events appended, replayed, woken or pending
// again), store.TopicOutbox (outbox items written) or
// store.TopicDialer(name) (a call created, or due again, on that dialer).
func (db *Store) Changes(topic string) <-chan struct{} { return db.wake.ch(topic) }
