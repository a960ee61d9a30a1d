package pluginhost

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/pluginhost/internal/testcrm"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// The benchmarks make the same call three ways in one run: direct (the
// plugin's Go method, no protocol: the floor), grpc-loopback (the real
// protocol in-process over TCP loopback, no TLS: the cost of encoding),
// and plugin-process (a real plugin child process via Host: AutoMTLS over
// a Unix socket, the gateway's path).
//
// Besides wall time they report CPU time per call (cpu-us/op: the test
// process plus, for plugin-process, the plugin process), which a loaded
// machine inflates far less than wall time.
func benchTargets(b *testing.B) (map[string]sdk.CRM, int) {
	b.Helper()
	h, err := New(Config{Executable: testPlugin, Builtins: []string{"bench"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close() })
	proc, _ := h.CRM("bench")
	return map[string]sdk.CRM{
		"direct":         testcrm.New("bench"),
		"grpc-loopback":  sdktest.Serve(b, testcrm.New("bench")),
		"plugin-process": proc,
	}, h.Status()[0].PID
}

// cpuTime is the user+system CPU time used so far by this process and, if
// pid > 0, by process pid.
func cpuTime(b *testing.B, pid int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	d := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if pid > 0 {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatal(err)
		}
		// Fields after the parenthesised name: state is field 3, utime 14, stime 15.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		d += time.Duration(ut+st) * time.Second / 100 // USER_HZ
	}
	return d
}

// measure runs call b.N times and reports the CPU time per call.
func measure(b *testing.B, pid int, call func()) {
	b.ReportAllocs()
	start := cpuTime(b, pid)
	for b.Loop() {
		call()
	}
	b.ReportMetric(float64((cpuTime(b, pid)-start).Microseconds())/float64(b.N), "cpu-us/op")
}

func BenchmarkHandleWebhook(b *testing.B) {
	targets, pid := benchTargets(b)
	for _, events := range []int{1, 100} {
		for _, name := range []string{"direct", "grpc-loopback", "plugin-process"} {
			crm := targets[name]
			b.Run(name+"/events="+strconv.Itoa(events), func(b *testing.B) {
				req := sdk.WebhookRequest{
					Method: "POST", URL: "https://calls.example.com/call/crm-webhook?type=bench&agent_id=a",
					Headers:     map[string][]string{"Content-Type": {"application/json"}, "X-Hubspot-Signature-V3": {"c2lnbmF0dXJl"}},
					Body:        []byte(strconv.Itoa(events)),
					Credentials: sdk.Credentials{"access_token": "pat-na1-0000", "client_secret": "s3cr3t"},
					ReceivedAt:  time.Now(),
				}
				ctx := context.Background()
				measure(b, pidOf(name, pid), func() {
					res, err := crm.HandleWebhook(ctx, req)
					if err != nil || len(res.Events) != events {
						b.Fatalf("%d events, %v", len(res.Events), err)
					}
				})
			})
		}
	}
}

func BenchmarkFetchRecords(b *testing.B) {
	targets, pid := benchTargets(b)
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = strconv.Itoa(1000 + i)
	}
	for _, name := range []string{"direct", "grpc-loopback", "plugin-process"} {
		crm := targets[name]
		b.Run(name+"/records=100", func(b *testing.B) {
			req := sdk.FetchRequest{Credentials: sdk.Credentials{"access_token": "pat-na1-0000"}, ObjectType: "contact", IDs: ids,
				Fields: []string{"firstname", "lastname", "score", "optin", "createdate", "company"}}
			ctx := context.Background()
			measure(b, pidOf(name, pid), func() {
				res, err := crm.FetchRecords(ctx, req)
				if err != nil || len(res.Records) != 100 {
					b.Fatalf("%d records, %v", len(res.Records), err)
				}
			})
		})
	}
}

// pidOf is the plugin's pid for the plugin-process target, else 0.
func pidOf(target string, pid int) int {
	if target == "plugin-process" {
		return pid
	}
	return 0
}

// BenchmarkHandleWebhookConcurrent is the gateway's case under load: many
// 1-event webhooks at once into one plugin process, sent one call each
// (the raw gRPC client) or through the host's coalescer, in the same run.
// Parallelism 32 per P: 64 concurrent callers on 2 cores.
func BenchmarkHandleWebhookConcurrent(b *testing.B) {
	h, err := New(Config{Executable: testPlugin, Builtins: []string{"bench"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close() })
	coalesced, _ := h.CRM("bench")
	raw, err := h.procs["bench"].current()
	if err != nil {
		b.Fatal(err)
	}
	pid := h.Status()[0].PID
	for _, tc := range []struct {
		name string
		crm  sdk.CRM
	}{{"one-call-each", raw}, {"coalesced", coalesced}} {
		b.Run(tc.name, func(b *testing.B) {
			req := sdk.WebhookRequest{
				Method: "POST", URL: "https://calls.example.com/call/crm-webhook?type=bench&agent_id=a",
				Headers:     map[string][]string{"Content-Type": {"application/json"}, "X-Hubspot-Signature-V3": {"c2lnbmF0dXJl"}},
				Body:        []byte("1"),
				Credentials: sdk.Credentials{"access_token": "pat-na1-0000", "client_secret": "s3cr3t"},
				ReceivedAt:  time.Now(),
			}
			b.ReportAllocs()
			b.SetParallelism(32)
			start := cpuTime(b, pid)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if res, err := tc.crm.HandleWebhook(context.Background(), req); err != nil || len(res.Events) != 1 {
						b.Errorf("%d events, %v", len(res.Events), err)
						return
					}
				}
			})
			b.ReportMetric(float64((cpuTime(b, pid)-start).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}
