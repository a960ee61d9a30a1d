package bolt

// allBuckets lists every top-level bucket; Open creates them. Each file of
// this package that owns buckets names them here.
var allBuckets = [][]byte{
	// inbox.go
	bucketInboxEvents, bucketInboxPending, bucketInboxKeys, bucketInboxExpiry, bucketInboxDue,
	// calls.go, schedule.go, dnd.go, outbox.go
	bucketCalls, bucketCallsByCreated, bucketCallsByAgent, bucketCallsByStatus, bucketCallsByAgentStatus, bucketCallsByPhone, bucketCallsActive, bucketCallsContact, bucketCallsBySource, bucketDue, bucketLeases, bucketDND,
	bucketOutbox, bucketOutboxDue, bucketOutboxClaims,
	// reconcile.go
	bucketEventsByObject, bucketReconcileCheckpoints, bucketReconcileListed,
}
