package store

import (
	"context"
	"io"
	"time"
)

// Store is everything callgate keeps durably, behind one boundary: the
// inbox of accepted CRM events, calls and their schedule, the outbox of
// notifications, the DND list and what reconciliation remembers. Two
// backends implement it, gateway/store/bolt (one process, one file: the
// default) and gateway/store/postgres (several replicas on one database);
// gateway/store/storetest holds the behaviour both must show.
//
// Every method commits before it returns: a nil error means durable. Every
// method takes a context; a backend that cannot be interrupted (bbolt)
// checks it before it starts.
//
// The parts are separate interfaces so a consumer can ask for the least it
// needs; most consumers declare a smaller one still, where they are.
type Store interface {
	Events
	Calls
	Schedule
	Outbox
	DND
	Reconciliation
	Reports
	Eraser
	Wakeups

	// NewID returns a new, time-ordered id (a ULID) for an event, call or
	// outbox item.
	NewID(t time.Time) string
	// Ping reports whether the store takes writes now (for /readyz and for
	// ingest's 503 while a database is unreachable).
	Ping(ctx context.Context) error
	// Info says which backend this is and where, for logs and `health`;
	// it never holds a password.
	Info() Info
	Close() error
}

// Info describes an open store.
type Info struct {
	Backend  string // "bolt" or "postgres"
	Location string // the file path, or the URL with its password removed
	// Shared is true when other processes may use the same store at once
	// (postgres): leases then carry owners and only expired ones are taken.
	Shared bool
	Owner  string // this process's lease owner, e.g. host:pid:ulid
}

// Events is the inbox: the durable queue of accepted CRM events.
type Events interface {
	// AppendEvents commits new events (dedupe by Key within the TTL) and
	// returns what became of each. Concurrent calls share commits.
	AppendEvents(ctx context.Context, evs []Event, o AppendOptions) (AppendResult, error)
	// ClaimEvents leases up to max pending events that are due at now, to
	// this process until now+lease. An event leased by anyone else is taken
	// only after its lease expires.
	ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, max int) ([]Event, error)
	// SaveEvents stores what became of claimed events (a terminal status,
	// or pending again with NotBefore) and releases their leases.
	SaveEvents(ctx context.Context, evs []Event) error
	GetEvent(ctx context.Context, id string) (Event, error)
	ListEvents(ctx context.Context, f EventFilter) ([]Event, string, error)
	// ViewEvents joins each event with what its call did since.
	ViewEvents(ctx context.Context, evs []Event) ([]EventView, error)
	ReplayEvent(ctx context.Context, id string, now time.Time) (Event, error)
	ReplayEvents(ctx context.Context, f EventFilter, now time.Time, dryRun bool) (BulkReplay, error)
	// PendingEvents counts events not yet terminal, across every process.
	PendingEvents(ctx context.Context) (int, error)
	PendingByAgent(ctx context.Context) (map[string]map[string]int, error)
	// WakeOrphans makes due again the events waiting on an agent or
	// integration for which back returns true.
	WakeOrphans(ctx context.Context, now time.Time, back func(agent, integration string) bool) (int, error)
	// ExpireKeys forgets dedupe keys older than their TTL.
	ExpireKeys(ctx context.Context, now time.Time) (int, error)
}

// Calls is the call history: one record per person to call, with every
// attempt.
type Calls interface {
	// CreateCall stores c unless a call for the same contact key (or
	// number) is active within o's window; then it returns that call and
	// false.
	CreateCall(ctx context.Context, c Call, o CreateOptions) (Call, bool, error)
	// CreateCalls creates a batch in one commit, each as CreateCall would.
	CreateCalls(ctx context.Context, batch []NewCall) ([]Created, error)
	GetCall(ctx context.Context, id string) (Call, error)
	UpdateCall(ctx context.Context, c Call, outbox []OutboxItem) error
	// MutateCall applies fn to the stored call and commits the result with
	// the outbox items fn returns, atomically; fn may return ErrNoChange.
	MutateCall(ctx context.Context, id string, fn func(c *Call) ([]OutboxItem, error)) (Call, error)
	ListCalls(ctx context.Context, f CallFilter) ([]Call, string, error)
	CountCalls(ctx context.Context, f CallFilter) (int, error)
	SourceCalls(ctx context.Context, f SourceFilter) ([]Call, error)
	// ActiveCalls returns the non-final calls of an agent to a number.
	ActiveCalls(ctx context.Context, agentID, number string) ([]Call, error)
}

// Schedule is the due index of waiting attempts, per dialer, and the
// leases of attempts being dialed.
type Schedule interface {
	NextDue(ctx context.Context, dialer string) (time.Time, bool, error)
	DueCalls(ctx context.Context, dialer string, now time.Time, limit int) ([]Call, error)
	// ClaimDue passes up to limit due calls of dialer to fn, each with
	// whether its number is on the DND list as of this commit, and commits
	// what fn made of them. Two processes never claim the same call.
	ClaimDue(ctx context.Context, dialer string, now time.Time, limit int, fn func(c *Call, dnd bool) (bool, []OutboxItem, error)) ([]Call, error)
	DueDialers(ctx context.Context) ([]string, error)
	NextLease(ctx context.Context) (time.Time, bool, error)
	ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]string, error)
	// InFlight counts the calls dialing on dialer across every process.
	InFlight(ctx context.Context, dialer string) (int, error)
	// OrphanedDialing returns the calls left dialing by a process that is
	// gone: with bbolt every dialing call at open (the file lock proves the
	// last process exited); with a shared store those whose lease expired.
	OrphanedDialing(ctx context.Context, now time.Time) ([]Call, error)
}

// Outbox holds notifications and CRM write-backs until delivered.
type Outbox interface {
	EnqueueOutbox(ctx context.Context, items ...OutboxItem) error
	UpdateOutbox(ctx context.Context, it OutboxItem) error
	DeleteOutbox(ctx context.Context, id string) error
	GetOutbox(ctx context.Context, id string) (OutboxItem, error)
	// ClaimOutbox takes up to limit due items for this process until
	// now+lease (their NextAt moves there), so no two processes deliver
	// one item at once.
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxItem, error)
	NextOutboxAt(ctx context.Context) (time.Time, bool, error)
	ListOutbox(ctx context.Context, f OutboxFilter) ([]OutboxItem, string, error)
	RetryOutbox(ctx context.Context, id string, now time.Time) error
	OutboxDepth(ctx context.Context) (pending, dead int, err error)
}

// DND is the do-not-call list.
type DND interface {
	AddDND(ctx context.Context, number, note string, now time.Time) error
	RemoveDND(ctx context.Context, number string) error
	ListDND(ctx context.Context) ([]DNDEntry, error)
	IsDND(ctx context.Context, number string) (bool, error)
}

// Reconciliation is what gateway/reconcile remembers between passes.
type Reconciliation interface {
	EventsForObject(ctx context.Context, integration, objectType, objectID string) ([]string, error)
	LatestEvents(ctx context.Context, integration, objectType string, objectIDs []string) (map[string]time.Time, error)
	Checkpoint(ctx context.Context, integration, listing string) (time.Time, error)
	RecordListing(ctx context.Context, integration, listing string, checkpoint time.Time, recs []ListedRecord, prune time.Time) error
	ListedRecords(ctx context.Context, integration string, since, until time.Time) ([]ListedRecord, error)
	RecentAccount(ctx context.Context, integration string) (string, error)
}

// Reports are the read-only figures of the overview and the audit.
type Reports interface {
	CallStats(ctx context.Context, bounds []time.Time) ([]PeriodStats, error)
	Audit(ctx context.Context, f AuditFilter) (Audit, error)
	Unaccounted(ctx context.Context, integration string, since, until time.Time) (int, error)
}

// Eraser removes a person's data (docs/privacy.md).
type Eraser interface {
	Erase(ctx context.Context, req EraseRequest) (EraseReport, error)
}

// Topics a Wakeups channel can be asked for.
const (
	TopicInbox  = "inbox"  // events became due (appended, replayed, woken)
	TopicOutbox = "outbox" // outbox items were committed
)

// TopicDialer is the topic of attempts becoming due on one dialer.
func TopicDialer(name string) string { return "dialer:" + name }

// Wakeups tell a waiting worker that work it waits for was committed, by
// this process or, on a shared store, by another replica. A wake-up is a
// hint, never the only way to find work: a worker also polls on a bounded
// timer, so a lost signal delays work and loses none.
type Wakeups interface {
	// Changes returns the channel for topic; it holds at most one pending
	// signal. One reader per topic and process.
	Changes(topic string) <-chan struct{}
}

// Backuper is implemented by a store that can write a consistent copy of
// itself as one file (bolt). A PostgreSQL install is backed up with the
// database's own tools.
type Backuper interface {
	WriteBackup(ctx context.Context, w io.Writer, size func(int64)) (int64, error)
}

// DialBudget is implemented by a shared store that paces dials across
// replicas: one token bucket per dialer, kept in the store, so a dialer's
// rate holds for the whole cluster. A process-local store needs none (the
// scheduler then paces in memory).
type DialBudget interface {
	// TakeDials grants up to want dials on dialer now from a bucket that
	// refills at perSecond up to burst; it returns how many it granted.
	TakeDials(ctx context.Context, dialer string, want int, perSecond float64, burst int, now time.Time) (int, error)
}

// CappedClaimer is implemented by a shared store that holds a dialer's
// concurrency for the whole cluster in the claim itself: ClaimDue that
// takes no more than maxInFlight less the calls dialing on dialer (every
// replica's), counted in the claim's transaction while other claims of the
// dialer wait. A process-local store needs none: its process is the only
// one dialing.
type CappedClaimer interface {
	ClaimDueCapped(ctx context.Context, dialer string, now time.Time, limit, maxInFlight int, fn func(c *Call, dnd bool) (bool, []OutboxItem, error)) ([]Call, error)
}
