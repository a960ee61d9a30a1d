package cli

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/gateway/notify"
	"github.com/callgate/callgate/gateway/pluginhost"
	"github.com/callgate/callgate/gateway/store"
	"github.com/callgate/callgate/sdk"
)

// startNotifier builds the notifier that delivers call notifications
// (server.notify, agents' notify) and CRM write-backs (agents' writeback)
// from the store's outbox, and runs it in the background. Agents' settings
// are read from the running config, so a reload applies them at once;
// server.notify and notify_secret need a restart.
//
// The scheduler builds outbox items inside its transactions and has no
// hook after the commit, so the returned scheduler.Notifier wakes the
// delivery loop once the items it built are committed; without that, new
// items would wait for the loop's idle timer (a minute).
func (a *app) startNotifier(cfg *config.Config, host *pluginhost.Host) (*wakingNotifier, error) {
	n, err := notify.New(notify.Config{
		Store:      a.store,
		Secret:     cfg.Server.NotifySecret,
		ServerURLs: cfg.Server.Notify,
		AgentURLs: func(agentID string) []string {
			if ag, ok := a.cfg.Load().Agents[agentID]; ok {
				return ag.Notify
			}
			return nil
		},
		Writeback: func(agentID string) bool {
			ag, ok := a.cfg.Load().Agents[agentID]
			return ok && ag.Writeback
		},
		CRM: func(integration string) (notify.CRMUpdater, sdk.Credentials, bool) {
			in, ok := a.cfg.Load().Integrations[integration]
			if !ok {
				return nil, nil, false
			}
			typ := in.Type
			if typ == "" {
				typ = in.Name
			}
			crm, ok := host.CRM(typ)
			if !ok {
				return nil, nil, false
			}
			return crm, sdk.Credentials(in.Credentials), true
		},
		Logger:     a.log,
		Registerer: a.registry,
	})
	if err != nil {
		return nil, err
	}
	w := &wakingNotifier{n: n, db: a.store, stop: make(chan struct{})}
	a.goRun("notify", n.Run)
	// Registered after the store, so it runs before the store closes.
	a.onClose("notify", w.close)
	urls, secret := slices.Clone(cfg.Server.Notify), cfg.Server.NotifySecret
	a.onReload("notify", func(next *config.Config) error {
		if !slices.Equal(next.Server.Notify, urls) || next.Server.NotifySecret != secret {
			return errors.New("server.notify and server.notify_secret changes need a restart; agents' notify and writeback changes are applied")
		}
		return nil
	})
	return w, nil
}

// wakingNotifier is the scheduler's notify.Notifier that also wakes the
// delivery loop after the items it built are committed.
type wakingNotifier struct {
	n    *notify.Notifier
	db   *store.DB
	stop chan struct{} // closed at shutdown

	mu     sync.Mutex // orders wg.Add against close
	closed bool
	wg     sync.WaitGroup
}

// commitWait bounds how long a wake waits for its items to be committed:
// a transaction that rolled back, or a submission found to be a
// duplicate, never commits them.
const commitWait = 2 * time.Second

// Items builds the items (see notify.Notifier.Items) and, when there are
// any, wakes the delivery loop once the first of them is in the store. It
// is called inside the scheduler's write transaction, so it must not read
// the store itself: the wait runs on its own goroutine.
func (w *wakingNotifier) Items(call store.Call, attempt *store.Attempt, final bool) []store.OutboxItem {
	items := w.n.Items(call, attempt, final)
	if len(items) == 0 {
		return items
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return items // shutting down: the loop's next start delivers them
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.wakeWhenCommitted(items[0].ID)
	}()
	return items
}

// wakeWhenCommitted polls for the item, at short and growing intervals,
// then wakes the delivery loop: when it appears, or (it may already have
// been delivered by a pass started meanwhile) when commitWait has passed.
func (w *wakingNotifier) wakeWhenCommitted(id string) {
	deadline := time.Now().Add(commitWait)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		_, err := w.db.GetOutbox(id)
		if err == nil || !errors.Is(err, store.ErrNotFound) || time.Now().After(deadline) {
			w.n.Wake()
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-w.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// close stops the waits still pending; the delivery loop itself stops with
// the background work.
func (w *wakingNotifier) close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.stop)
	}
	w.mu.Unlock()
	w.wg.Wait()
	return nil
}
