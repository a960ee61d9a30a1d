package pluginhost

import (
	"context"
	"strconv"
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
func benchTargets(b *testing.B) map[string]sdk.CRM {
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
	}
}

func BenchmarkHandleWebhook(b *testing.B) {
	targets := benchTargets(b)
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
				b.ReportAllocs()
				for b.Loop() {
					res, err := crm.HandleWebhook(ctx, req)
					if err != nil || len(res.Events) != events {
						b.Fatalf("%d events, %v", len(res.Events), err)
					}
				}
			})
		}
	}
}

func BenchmarkFetchRecords(b *testing.B) {
	targets := benchTargets(b)
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
			b.ReportAllocs()
			for b.Loop() {
				res, err := crm.FetchRecords(ctx, req)
				if err != nil || len(res.Records) != 100 {
					b.Fatalf("%d records, %v", len(res.Records), err)
				}
			}
		})
	}
}
