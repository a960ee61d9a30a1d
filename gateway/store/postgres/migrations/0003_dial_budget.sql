-- One token bucket per dialer, shared by every replica (budget.go).
CREATE TABLE dial_budget (
    dialer     text PRIMARY KEY,
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL
);
