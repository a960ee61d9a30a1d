package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store/postgres/pgtest"
)

// TestBenchRuns is a smoke run of `callgate bench`: both targets answer,
// no request fails, and every figure is reported.
func TestBenchRuns(t *testing.T) {
	var out bytes.Buffer
	o := &rootOptions{Stdout: &out, Stderr: &out}
	b := benchOptions{Clients: 4, Duration: 300 * time.Millisecond, BigEvents: 100, BigCount: 3}
	// CALLGATE_BENCH_DURATION=10s runs the full measurement (make loadtest
	// uses the binary instead: callgate bench).
	if d, err := time.ParseDuration(os.Getenv("CALLGATE_BENCH_DURATION")); err == nil {
		clients := 32
		if n, err := strconv.Atoi(os.Getenv("CALLGATE_BENCH_CLIENTS")); err == nil {
			clients = n
		}
		b = benchOptions{Clients: clients, Duration: d, BigEvents: 100, BigCount: 50, IngestOnly: os.Getenv("CALLGATE_BENCH_INGEST_ONLY") != ""}
		defer func() { t.Log("\n" + out.String()) }()
	}
	err := runBench(context.Background(), o, b)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	for _, want := range []string{"bare ", "gateway ", "gateway/bare rate:", "100-event request acknowledged in"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "errors map") {
		t.Fatalf("requests failed:\n%s", out.String())
	}
}

// TestBenchOnPostgres runs the bench on a fresh PostgreSQL database with
// two replicas: the bench migrates it, both replicas take load, the
// database's transactions and server CPU are reported, every accepted
// creation is dialled, and the password is never shown.
func TestBenchOnPostgres(t *testing.T) {
	url := pgtest.Empty(t)
	var out bytes.Buffer
	o := &rootOptions{Stdout: &out, Stderr: &out}
	b := benchOptions{Clients: 4, Duration: 300 * time.Millisecond, BigEvents: 10, BigCount: 2, Rounds: 2,
		Drain: 20 * time.Second, Store: url, Replicas: 2}
	if err := runBench(context.Background(), o, b); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"2 replica(s)", "transactions per webhook", "µs db", "transactions/webhook", "end to end"} {
		if !strings.Contains(text, want) {
			t.Fatalf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "errors map") || strings.Contains(text, ":callgate@") {
		t.Fatalf("requests failed or the password is shown:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "calls: "); ok {
			var done, want int
			if _, err := fmt.Sscanf(rest, "%d of %d", &done, &want); err != nil || done != want {
				t.Fatalf("not every creation dialled: %q", line)
			}
		}
	}
}

func TestBenchStoreChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    benchOptions
		want string // "" for accepted
	}{
		{"bbolt", benchOptions{Replicas: 1}, ""},
		{"postgres x3", benchOptions{Store: "postgres://u:p@127.0.0.1/bench_x", Replicas: 3}, ""},
		{"no replicas", benchOptions{Replicas: 0}, "want 1 or more"},
		{"bbolt x2", benchOptions{Replicas: 2}, "needs --store"},
		{"not a URL", benchOptions{Store: "host=127.0.0.1 password=secret", Replicas: 1}, "postgres:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkBenchStore(tc.b)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "secret"):
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func TestPGProbeWorks(t *testing.T) {
	p := &pgProbe{db: "bench_pg1"}
	for _, tc := range []struct {
		title string
		want  bool
	}{
		{"postgres: 15/main: callgate bench_pg1 127.0.0.1(51234) idle\x00\x00", true},
		{"postgres: 15/main: callgate bench_pg1 127.0.0.1(51234) INSERT", true},
		{"postgres: 15/main: callgate bench_pg3 127.0.0.1(51234) idle", false},
		{"postgres: 15/main: callgate callgate_test_ab12 127.0.0.1(40000) idle", false},
		{"postgres: 15/main: walwriter ", true},
		{"postgres: 15/main: checkpointer ", true},
		{"postgres: 15/main: background writer ", true},
		{"postgres: 15/main: autovacuum launcher ", false},
		{"/usr/lib/postgresql/15/bin/postgres\x00-D\x00/var/lib/postgresql/15/main", false},
	} {
		if got := p.works(tc.title); got != tc.want {
			t.Errorf("works(%q) = %v, want %v", tc.title, got, tc.want)
		}
	}
}
