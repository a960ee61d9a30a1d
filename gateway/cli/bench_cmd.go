package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/callgate/callgate/gateway/config"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
)

// Bench secrets: valid only for the bench's own temporary gateway on 127.0.0.1.
const (
	benchAPIKey       = "bench-api-key"
	benchClientSecret = "bench-client-secret"
)

// benchOptions are the flags of `callgate bench`.
type benchOptions struct {
	Clients   int
	Duration  time.Duration
	BigEvents int // events in one "big" request
	BigCount  int // big requests sent one after another
	Verbose   bool
	// IngestOnly sends events of a type nobody acts on, which ingest
	// stores as ignored: the figures are the webhook path up to the fsync'd commit,
	// without the pipeline and scheduler competing for the disk.
	IngestOnly bool
	// Rounds alternates bare and gateway loads this many times, so a
	// neighbour's burst hits both targets alike; the figures are given per
	// round and as min / median / max.
	Rounds int
	// CPUProfile, when set, writes a CPU profile of each gateway round to
	// CPUProfile.N; the load generator's goroutines carry the pprof label
	// role=client, so the gateway's samples can be told from its own.
	CPUProfile string
	// MemProfile, when set, writes the allocations of the gateway rounds
	// (the load generator's included) to this file.
	MemProfile string
	// Drain, on the full path, waits after each gateway round (up to this
	// long) until every accepted creation has been dialled, and reports
	// calls/s during the load, while draining, and end to end.
	Drain time.Duration
	// Store, when set, is a postgres:// URL the gateways keep their data in
	// instead of a temporary bbolt file. The bench runs the migrations and
	// writes into it, and removes nothing: give it a throwaway database.
	Store string
	// Replicas is how many gateways run on the one Store database, each
	// with its own listener and plugin processes; the load goes to them in
	// turn (1 without Store: a bbolt file has one process).
	Replicas int
}

func newBenchCmd(o *rootOptions) *cobra.Command {
	var b benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the webhook path: signed HubSpot webhooks against a bare handler and the gateway",
		Long: "Starts a gateway on a temporary data dir (the real plugin process, fsync'd inbox,\n" +
			"pipeline, scheduler and log dialer, with an in-process fake HubSpot) and a bare\n" +
			"net/http handler, then sends signed single-event contact.creation webhooks from\n" +
			"--clients concurrent clients for --duration to each, and reports requests/s and\n" +
			"p50/p99 latency. Last, it sends --big-count requests of --big-events events one\n" +
			"after another and reports how long each took to be acknowledged.\n\n" +
			"--store postgres://… runs the gateway on that PostgreSQL database instead: the bench\n" +
			"migrates it and writes into it, so name a throwaway database. --replicas N starts N\n" +
			"gateways on it (each its own listener and plugin processes) and sends the load to\n" +
			"them in turn, as a balancer would.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runBench(ctx, o, b)
		},
	}
	cmd.Flags().IntVar(&b.Clients, "clients", 32, "concurrent clients")
	cmd.Flags().DurationVar(&b.Duration, "duration", 10*time.Second, "how long each load runs")
	cmd.Flags().IntVar(&b.BigEvents, "big-events", 100, "events in each request of the acknowledgement test")
	cmd.Flags().IntVar(&b.BigCount, "big-count", 50, "requests in the acknowledgement test")
	cmd.Flags().BoolVar(&b.IngestOnly, "ingest-only", false, "send events of a type nobody acts on (stored ignored): measure ingest without the pipeline")
	cmd.Flags().IntVar(&b.Rounds, "rounds", 1, "alternate the bare and gateway loads this many times")
	cmd.Flags().StringVar(&b.CPUProfile, "cpuprofile", "", "write a CPU profile of each gateway round to `FILE`.N")
	cmd.Flags().DurationVar(&b.Drain, "drain", 0, "full path: after each gateway round wait up to `D` until every accepted creation is dialled; report end-to-end calls/s")
	cmd.Flags().StringVar(&b.MemProfile, "memprofile", "", "write the allocations made during the gateway rounds to `FILE`")
	cmd.Flags().StringVar(&b.Store, "store", "", "run on this PostgreSQL database (`URL`, postgres://…) instead of bbolt; the bench migrates and writes into it: use a throwaway one")
	cmd.Flags().IntVar(&b.Replicas, "replicas", 1, "with --store: run `N` gateways on the database and spread the load over them")
	cmd.Flags().BoolVarP(&b.Verbose, "verbose", "v", false, "show the gateway's log (warnings and errors)")
	return cmd
}

func benchConfig(addr, dataDir, hubspotURL, hubspotToken string) string {
	keySum := sha256.Sum256([]byte(benchAPIKey))
	return fmt.Sprintf(`
server {
  listen           = %q
  public_url       = "http://%s"
  data_dir         = %q
  inbox_high_water = 10000000
  log_level        = "warn"
  # Every bench client comes from 127.0.0.1: no per-address cap here.
  max_connections        = 65536
  max_connections_per_ip = 65536
}
api_key "bench" { sha256 = %q }
integration "hubspot" {
  access_token  = %q
  client_secret = %q
  base_url      = %q
}
dialer "log" {
  type        = "log"
  concurrency = 1000
}
agent "bench" {
  dialer    = "log"
  variables = { firstname = "contact.firstname ?? 'there'" }
}
`, addr, addr, dataDir, hex.EncodeToString(keySum[:]), hubspotToken, benchClientSecret, hubspotURL)
}

func runBench(ctx context.Context, o *rootOptions, b benchOptions) error {
	b.Replicas = max(b.Replicas, 1)
	if err := checkBenchStore(b); err != nil {
		return err
	}
	applyGCDefaults() // as serve does: the gateway runs in this process
	fake := hubspottest.New(hubspottest.Options{RateMax: 1 << 30})
	defer fake.Close()
	var logOut io.Writer = io.Discard
	if b.Verbose {
		logOut = o.Stderr
	}
	locals, err := startBenchGateways(ctx, b, fake, logOut)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			closeGateways(locals)
		}
	}()
	var db *pgProbe
	if b.Store != "" {
		if db, err = openPGProbe(ctx, b.Store); err != nil {
			return err
		}
		defer db.Close()
	}

	bare := &http.Server{Handler: bareHandler()}
	bareLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("bench: listen: %w", err)
	}
	go func() { _ = bare.Serve(bareLn) }()
	defer bare.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: b.Clients * 2, MaxIdleConnsPerHost: b.Clients * 2}, Timeout: 30 * time.Second}
	all := bases(locals)
	for _, base := range all {
		if err := waitReady(ctx, client, base+"/readyz"); err != nil {
			return fmt.Errorf("bench: gateway not ready: %w", err)
		}
	}
	query := "/call/crm-webhook?type=hubspot&agent_id=bench&x_api_key=" + benchAPIKey
	var urls []string
	for _, base := range all {
		urls = append(urls, base+query)
	}
	gw := &webhookSigner{urls: urls, secret: benchClientSecret, portal: 62515, ignored: b.IngestOnly,
		created: func(id int64) {
			fake.AddContact(fmt.Sprint(id), map[string]any{"firstname": "Bench", "mobilephone": fmt.Sprintf("+9198%08d", id%100_000_000)})
		}}
	bareSigner := &webhookSigner{urls: []string{"http://" + bareLn.Addr().String() + query}, secret: benchClientSecret, portal: 62515, ignored: b.IngestOnly}

	what := "contact.creation (the pipeline, scheduler and log dialer work behind)"
	if b.IngestOnly {
		what = benchIgnoredType + " (stored ignored: ingest alone)"
	}
	fmt.Fprintf(o.Stdout, "callgate bench: %d clients × %s per target, signed single-event HubSpot webhooks, %s\n", b.Clients, b.Duration, what)
	fmt.Fprintf(o.Stdout, "store: %s\n", benchStoreName(b))
	runLoad(ctx, "warmup", client, gw, b.Clients, min(b.Duration/5, 2*time.Second), db) // plugin caches, connections
	if err := db.analyze(ctx); err != nil {
		return err
	}
	var bares, gws []loadResult
	var txs []float64
	for i := range max(b.Rounds, 1) {
		rb := runLoad(ctx, "bare", client, bareSigner, b.Clients, b.Duration, db)
		fmt.Fprintln(o.Stdout, rb)
		stop, err := startProfile(b.CPUProfile, i)
		if err != nil {
			return err
		}
		memStop := startMemProfile(b.MemProfile)
		calls0, hooks0 := batchCounter(ctx, client, all)
		dials0 := metricSum(ctx, client, all, "callgate_scheduler_dials_total")
		tx0 := db.commits(ctx)
		rg := runLoad(ctx, "gateway", client, gw, b.Clients, b.Duration, db)
		stop()
		memStop()
		calls1, hooks1 := batchCounter(ctx, client, all)
		fmt.Fprintln(o.Stdout, rg)
		if db != nil && rg.Requests > 0 {
			time.Sleep(dbStatsDelay) // the backends' last second of statistics
			perHook := (db.commits(ctx) - tx0) / float64(rg.Requests)
			txs = append(txs, perHook)
			fmt.Fprintf(o.Stdout, "database: %.2f transactions per webhook (reads included; on the full path the pipeline's and scheduler's too)\n", perHook)
		}
		if b.Drain > 0 && !b.IngestOnly {
			fmt.Fprintln(o.Stdout, drainCalls(ctx, client, all, dials0, rg, b.Drain))
		}
		if calls1 > calls0 {
			fmt.Fprintf(o.Stdout, "webhooks per plugin call: %.1f\n", (hooks1-hooks0)/(calls1-calls0))
		}
		if rb.Rate() > 0 {
			fmt.Fprintf(o.Stdout, "gateway/bare rate: %.2f (goal ≥ 0.50); gateway p99 %.2fms (goal < 50ms)\n", rg.Rate()/rb.Rate(), ms(rg.P99))
		}
		bares, gws = append(bares, rb), append(gws, rg)
	}
	if len(gws) > 1 {
		printRounds(o.Stdout, bares, gws)
		if len(txs) > 0 {
			fmt.Fprintf(o.Stdout, "  transactions/webhook %s\n", spreadOf(txs, "%.2f"))
		}
	}
	if err := writeMemProfile(b.MemProfile); err != nil {
		return err
	}
	big := ackLatency(ctx, fmt.Sprintf("%d-event", b.BigEvents), client, gw, b.BigEvents, b.BigCount)
	fmt.Fprintln(o.Stdout, big)
	fmt.Fprintf(o.Stdout, "%d-event request acknowledged in p50 %.2fms, p99 %.2fms (goal < 50ms)\n", b.BigEvents, ms(big.P50), ms(big.P99))
	fmt.Fprintf(o.Stdout, "inbox still pending at the end: %d events\n", pendingNow(ctx, client, all[0]))

	stopped = true
	if err := closeGateways(locals); err != nil {
		return fmt.Errorf("bench: gateway: %w", err)
	}
	return nil
}

// dbStatsDelay is how long after a round the bench waits before reading
// the database's transaction count: PostgreSQL backends report their
// statistics at most once a second.
const dbStatsDelay = 1200 * time.Millisecond

// benchStoreName says what the gateways run on, without a password.
func benchStoreName(b benchOptions) string {
	if b.Store == "" {
		return "bbolt (a temporary file, fsync'd commits)"
	}
	return fmt.Sprintf("PostgreSQL %s, %d replica(s), load spread over them in turn", config.RedactURL(b.Store), b.Replicas)
}

// pendingNow reads the inbox depth from /metrics (0 when unreadable).
func pendingNow(ctx context.Context, client *http.Client, base string) int {
	return int(metricNow(ctx, client, base, "callgate_inbox_pending_events"))
}

// metricNow reads one unlabelled or first-labelled sample from /metrics
// (0 when unreadable).
func metricNow(ctx context.Context, client *http.Client, base, name string) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			var n float64
			if _, err := fmt.Sscanf(rest[i+1:], "%g", &n); err == nil {
				return n
			}
		}
	}
	return 0
}

// metricSum adds up every series of a metric from every gateway's
// /metrics (an unreadable one counts 0).
func metricSum(ctx context.Context, client *http.Client, bases []string, name string) float64 {
	var sum float64
	for _, base := range bases {
		sum += metricSeries(ctx, client, base, name)
	}
	return sum
}

// metricSeries adds up every series of a metric from /metrics (0 when
// unreadable).
func metricSeries(ctx context.Context, client *http.Client, base, name string) float64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		var n float64
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			if _, err := fmt.Sscanf(rest[i+1:], "%g", &n); err == nil {
				sum += n
			}
		}
	}
	return sum
}

// drainCalls waits (up to limit) until the scheduler has dialled a call
// for each creation the round got accepted, and reports calls/s while the
// load ran, while the backlog drained, and end to end.
func drainCalls(ctx context.Context, client *http.Client, bases []string, dials0 float64, rg loadResult, limit time.Duration) string {
	atEnd := metricSum(ctx, client, bases, "callgate_scheduler_dials_total") - dials0
	want := float64(rg.Requests)
	start := time.Now()
	done := atEnd
	for done < want && time.Since(start) < limit && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		done = metricSum(ctx, client, bases, "callgate_scheduler_dials_total") - dials0
	}
	drain := time.Since(start)
	s := fmt.Sprintf("calls: %.0f of %d dialled; %.0f calls/s during the load, drain %.1fs", done, rg.Requests, atEnd/rg.Elapsed.Seconds(), drain.Seconds())
	if drain > 100*time.Millisecond {
		s += fmt.Sprintf(" at %.0f calls/s", (done-atEnd)/drain.Seconds())
	}
	return s + fmt.Sprintf("; end to end %.0f calls/s", done/(rg.Elapsed+drain).Seconds())
}

// batchCounter reads how many coalesced plugin calls and webhooks in them
// the gateways have made so far, for webhooks per call over a round.
func batchCounter(ctx context.Context, client *http.Client, bases []string) (calls, webhooks float64) {
	for _, base := range bases {
		calls += metricNow(ctx, client, base, "callgate_plugin_webhook_batch_size_count")
		webhooks += metricNow(ctx, client, base, "callgate_plugin_webhook_batch_size_sum")
	}
	return calls, webhooks
}
