-- The inbox, the outbox and the DND list (gateway/store/postgres).
--
-- Each table keeps the record's JSON as the store package encodes it (json,
-- not jsonb, so the bytes and the nanoseconds in it come back as they went
-- in) and copies into columns only what queries select or order by.
-- Queue times (*_ns) are Unix nanoseconds, as the Go side compares them:
-- timestamptz keeps microseconds, and an event due at 10:00:00.000000500
-- must not be claimed at 10:00:00.000000400. Ids and numbers are COLLATE
-- "C": byte order, the order of the bbolt backend's keys.

-- events is the inbox. An event is in the queue while due_ns is set:
-- pending, claimable from due_ns = greatest(not_before, lease_until).
CREATE TABLE events (
    id          text COLLATE "C" PRIMARY KEY,      -- ULID: orders by arrival
    agent_id    text        NOT NULL,
    integration text        NOT NULL,
    type        text        NOT NULL,              -- plugin name
    object_type text        NOT NULL,
    object_id   text        NOT NULL,
    status      text        NOT NULL,
    received_at timestamptz NOT NULL,
    due_ns      bigint,                            -- set only while pending
    lease_owner text,                              -- the replica that claimed it
    lease_ns    bigint,                            -- until when the claim holds
    record      json        NOT NULL               -- store.Event
);

-- The queue: pending events in the order they may be claimed.
CREATE INDEX events_due ON events (due_ns, id) WHERE due_ns IS NOT NULL;
-- Reconciliation's lookups by CRM record.
CREATE INDEX events_object ON events (integration, object_type, object_id, id);

-- event_keys remembers dedupe keys (agent, integration, plugin key) until
-- they expire; the primary key is what makes a redelivered webhook a
-- duplicate, also when two replicas take it at once.
CREATE TABLE event_keys (
    key        text COLLATE "C" PRIMARY KEY,
    event_id   text        NOT NULL,
    expires_ns bigint NOT NULL
);
CREATE INDEX event_keys_expiry ON event_keys (expires_ns);

-- outbox holds notifications and CRM write-backs until delivered.
CREATE TABLE outbox (
    id      text COLLATE "C" PRIMARY KEY,
    kind    text        NOT NULL,
    call_id text        NOT NULL,
    dead    boolean     NOT NULL,
    next_ns bigint      NOT NULL,
    record  json        NOT NULL                   -- store.OutboxItem
);
CREATE INDEX outbox_due ON outbox (next_ns, id) WHERE NOT dead;

-- dnd is the do-not-call list, by E.164 number.
CREATE TABLE dnd (
    number text COLLATE "C" PRIMARY KEY,
    record json NOT NULL                           -- store.DNDEntry
);
