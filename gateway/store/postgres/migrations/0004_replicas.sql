-- Every open store (a callgate replica) and when it last said it was
-- alive (replicas.go). A lease whose owner has not been seen for a while
-- is a gone replica's: its events and dialing calls are taken back without
-- waiting for the lease to run out.
CREATE TABLE replicas (
    owner   text COLLATE "C" PRIMARY KEY,
    seen_ns bigint NOT NULL
);

-- Who is delivering an outbox item it claimed (ClaimOutbox), so a gone
-- replica's claims are taken back with its other leases.
ALTER TABLE outbox ADD COLUMN lease_owner text;
