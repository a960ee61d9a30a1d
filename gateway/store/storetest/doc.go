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
// on the same data, as another replica would (its own pool, its own lease
// owner); with Peer nil the subtests about several processes skip, saying
// so. Reopen stands for a restart: it closes s and opens the same data
// again as a new process; with Reopen nil the restart subtests skip. The
// harness closes what Open, Peer and Reopen return (t.Cleanup), and must
// tolerate closing a store Reopen already closed.
//
// The suite keeps no clock of its own: every method takes the time it
// acts at, and lease expiry is tested with times in the future, never by
// sleeping. Waits (wake-ups) are bounded by a timeout.
package storetest
