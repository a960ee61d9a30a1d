package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgProbe watches the PostgreSQL server a --store bench runs on, which on
// one machine shares the cores with the gateway: the CPU of the server
// processes working for the bench's database, and the transactions
// committed in it (how many webhooks share a commit).
type pgProbe struct {
	conn *pgx.Conn
	db   string // the database's name, as the server's process titles show it
}

func openPGProbe(ctx context.Context, url string) (*pgProbe, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("bench: connect to the --store database: %w", err)
	}
	p := &pgProbe{conn: conn}
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&p.db); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("bench: read the --store database's name: %w", err)
	}
	return p, nil
}

func (p *pgProbe) Close() {
	if p != nil {
		_ = p.conn.Close(context.Background())
	}
}

// analyze refreshes the planner's statistics of the bench's tables, as
// autovacuum does within a minute or so of a real install's first
// writes: without them, plans made while the tables were empty (a
// sequential scan for the inbox's depth, kept by each pooled connection's
// prepared statement) would be measured instead of the steady state.
func (p *pgProbe) analyze(ctx context.Context) error {
	if p == nil {
		return nil
	}
	if _, err := p.conn.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("bench: analyze the --store database: %w", err)
	}
	return nil
}

// commits is how many transactions the database has committed or rolled
// back, as the server's statistics say. Backends report theirs at most
// once a second, so a reading is up to a second behind (settle first).
func (p *pgProbe) commits(ctx context.Context) float64 {
	if p == nil {
		return 0
	}
	var n int64
	err := p.conn.QueryRow(ctx, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()").Scan(&n)
	if err != nil {
		return 0
	}
	return float64(n)
}

// serverCPU is the CPU time so far of each PostgreSQL process working for
// the bench: the backends connected to its database, and the WAL writer,
// checkpointer and background writer every database shares (other
// databases' backends are someone else's load). Nil for no probe.
func (p *pgProbe) serverCPU() map[int]time.Duration {
	if p == nil {
		return nil
	}
	out := map[int]time.Duration{}
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, path := range comms {
		comm, err := os.ReadFile(path)
		if err != nil || string(bytes.TrimSpace(comm)) != "postgres" {
			continue
		}
		dir := filepath.Dir(path)
		title, err := os.ReadFile(filepath.Join(dir, "cmdline"))
		if err != nil || !p.works(string(title)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(dir)); err == nil {
			out[pid] = procCPU(pid)
		}
	}
	return out
}

// works tells from a server process's title ("postgres: 15/main: callgate
// bench_x 127.0.0.1(51234) idle", "postgres: 15/main: walwriter") whether
// it works for the bench's database.
func (p *pgProbe) works(title string) bool {
	title = strings.ReplaceAll(title, "\x00", " ")
	for _, shared := range []string{"walwriter", "checkpointer", "background writer"} {
		if strings.HasSuffix(strings.TrimSpace(title), shared) {
			return true
		}
	}
	for _, f := range strings.Fields(title) {
		if f == p.db {
			return true
		}
	}
	return false
}

// cpuSince is the CPU the processes of now used since then; a process
// new since then counts from its start (one gone meanwhile is lost).
func cpuSince(then, now map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, cpu := range now {
		d += cpu - then[pid]
	}
	return d
}
