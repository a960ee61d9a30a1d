-- Calls, their schedule and leases, the per-contact dedupe entries, and
-- what reconciliation remembers between passes.
--
-- A call is its JSON record (store.Call, as bbolt stores it) plus the
-- columns the queries select, order and constrain on, all derived from the
-- record on every write (calls.go, callColumns). Times in those columns are
-- Unix nanoseconds (bigint): the records' own precision, so order, due
-- checks and page cursors agree exactly with the bbolt backend. Ids and the
-- keys that are ordered are COLLATE "C": byte order, as in bbolt.

CREATE TABLE calls (
    id               text COLLATE "C" PRIMARY KEY,
    agent_id         text NOT NULL,
    status           text NOT NULL,
    to_number        text NOT NULL DEFAULT '',
    -- to_number while the call is not final (and has a number that was not
    -- erased), else NULL: the unique index below is "at most one active
    -- call per (agent, number)"; NULLs never conflict.
    active_number    text,
    dialer           text NOT NULL DEFAULT '',
    -- next_attempt_at while scheduled or retry_scheduled: the due index.
    next_attempt_ns  bigint,
    -- lease_until while dialing, and the process that set it.
    lease_until_ns   bigint,
    lease_owner      text,
    source_type      text NOT NULL DEFAULT '',
    source_object_id text NOT NULL DEFAULT '',
    created_ns       bigint NOT NULL,
    record           json NOT NULL    -- store.Call
);

CREATE UNIQUE INDEX calls_active_number ON calls (agent_id, active_number);

-- ListCalls reads one of these ranges newest first, as bbolt's indexes.
CREATE INDEX calls_by_created      ON calls (created_ns, id);
CREATE INDEX calls_by_agent        ON calls (agent_id, created_ns, id);
CREATE INDEX calls_by_status       ON calls (status, created_ns, id);
CREATE INDEX calls_by_agent_status ON calls (agent_id, status, created_ns, id);
CREATE INDEX calls_by_phone        ON calls (to_number, created_ns, id);
CREATE INDEX calls_by_source       ON calls (source_type, source_object_id, created_ns, id)
    WHERE source_object_id <> '';

-- The schedule: due attempts per dialer, leases of attempts being dialed.
CREATE INDEX calls_due     ON calls (dialer, next_attempt_ns, id) WHERE next_attempt_ns IS NOT NULL;
CREATE INDEX calls_leases  ON calls (lease_until_ns, id) WHERE lease_until_ns IS NOT NULL;
CREATE INDEX calls_dialing ON calls (dialer) WHERE status = 'dialing';

-- The newest call per (agent, contact key), for CreateOptions.DedupeWindow.
CREATE TABLE call_contacts (
    agent_id    text NOT NULL,
    contact_key text NOT NULL,
    call_id     text COLLATE "C" NOT NULL,
    created_ns  bigint NOT NULL,
    PRIMARY KEY (agent_id, contact_key)
);

-- How far reconciliation of an integration has listed ("created" or
-- "modified"); it never moves back.
CREATE TABLE reconcile_checkpoints (
    integration text NOT NULL,
    listing     text NOT NULL,
    at_ns       bigint NOT NULL,
    PRIMARY KEY (integration, listing)
);

-- The records reconciliation listed, by their creation in the CRM, for the
-- audit; pruned after store.ListedRetention.
CREATE TABLE reconcile_listed (
    integration text COLLATE "C" NOT NULL,
    created_ns  bigint NOT NULL,
    object_type text COLLATE "C" NOT NULL,
    object_id   text COLLATE "C" NOT NULL,
    PRIMARY KEY (integration, created_ns, object_type, object_id)
);
