package cli

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
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
