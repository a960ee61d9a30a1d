// Package storetest is the conformance suite of store.Store: every
// behaviour the gateway relies on from its store, written only against
// the interface, so that each backend (gateway/store/bolt,
// gateway/store/postgres) proves it with the same tests. It is the store's
// counterpart of sdk/sdktest.
//
// A backend runs it from one test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			Open: func(t *testing.T) store.Store { … a fresh, empty store, closed at t.Cleanup … },
//			// Shared backends only:
//			Peer:   func(t *testing.T, s store.Store) store.Store { … a second handle on s's data … },
//			Shared: true,
//			// Optional:
//			Reopen: func(t *testing.T, s store.Store) store.Store { … close s, open its data again … },
//		})
//	}
//
// Open is called once per subtest and must return an empty store with the
// default dedupe TTL (store.DefaultDedupeTTL). Peer opens a second handle
// on the same data, as another replica would (its own connections, its
// own lease owner); with Peer nil the subtests about several processes
// skip, saying so. Shared must agree with Info().Shared: it chooses which
// lease rules apply at a restart (one process: every lease is released;
// shared: only expired ones are taken back). Reopen stands for a restart:
// it closes s and opens the same data again as a new process; with Reopen
// nil the restart subtests skip. The harness closes what Open, Peer and
// Reopen return (t.Cleanup), and must tolerate closing a store Reopen
// already closed.
//
// The subtests are grouped by part of the interface: Info, Events, Calls,
// Schedule, Outbox, DND, Reconciliation, Reports, Erase, Wakeups, Backup
// (only for a store.Backuper) and Restart. Each opens its own store, so
// one can be run alone (-run 'TestConformance/Outbox/LeaseMovesNextAt').
//
// The suite keeps no clock of its own: every method takes the time it
// acts at, and lease expiry is tested with times in the future, never by
// sleeping. Waits for wake-ups are bounded by a timeout, and the claiming
// workers of the concurrency subtests by the amount of work, so a broken
// backend fails rather than hangs.
package storetest
