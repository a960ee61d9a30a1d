package leadsquared_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// callgateBin is the callgate binary TestMain built, served as
// `callgate plugin leadsquared` the way the gateway runs a built-in;
// buildErr says why there is none (the binary tests then fail with it,
// the others still run).
var callgateBin, buildErr = "", error(nil)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "callgate-leadsquared-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "leadsquared tests:", err)
		os.Exit(1)
	}
	callgateBin = filepath.Join(dir, "callgate")
	build := exec.Command("go", "build", "-o", callgateBin, "github.com/callgate/callgate")
	if out, err := build.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build github.com/callgate/callgate: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary returns the built callgate, or fails the test with why not.
func binary(t *testing.T) sdktest.Plugin {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return sdktest.Plugin{Path: callgateBin, Args: []string{"plugin", "leadsquared"}}
}

// fixtures are the golden payloads as LeadSquared posts them, with
// credentials for a fake LeadSquared.
func fixtures(t *testing.T, srv *leadsquaredtest.Server) sdktest.Fixtures {
	files, err := filepath.Glob("testdata/webhooks/*")
	if err != nil {
		t.Fatal(err)
	}
	var webhooks []sdktest.Webhook
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		ct := leadsquaredtest.ContentJSON
		if strings.HasSuffix(f, ".form") {
			ct = leadsquaredtest.ContentForm
		}
		webhooks = append(webhooks, sdktest.Webhook{
			Name: filepath.Base(f),
			Request: sdk.WebhookRequest{
				Method:  "POST",
				URL:     "https://calls.example.com/call/crm-webhook?type=leadsquared&agent_id=sales-intro",
				Headers: leadsquaredtest.WebhookHeaders(ct, ""),
				Body:    mustReadFile(t, f),
			},
		})
	}
	if len(webhooks) == 0 {
		t.Fatal("no golden payloads")
	}
	lead := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Ada", Mobile: "+91-9876543210"})
	srv.AddLead(lead)
	c := creds(srv)
	c[leadsquared.CredCallActivityEvent] = strconv.Itoa(leadsquaredtest.DefaultActivityEvent)
	return sdktest.Fixtures{Credentials: c, Webhooks: webhooks, Listing: listingFixture(srv),
		LogCall: &sdk.LogCallRequest{ObjectType: "lead", ObjectID: lead.ID(), Key: "01JDCONF-1",
			Call: sdk.LoggedCall{Direction: sdk.DirectionOutbound, Outcome: "completed", Duration: time.Minute, Title: "AI call",
				StartedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}}
}

// listingFixture stores five leads in an hour (two in the same second)
// and one on each side of it, and names the five.
func listingFixture(srv *leadsquaredtest.Server) *sdktest.Listing {
	since := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	add := func(at time.Time, auto int) string {
		l := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{AutoID: auto, FirstName: "Lead", CreatedOn: at})
		srv.AddLead(l)
		return l.ID()
	}
	add(since.Add(-time.Second), 1)
	add(since.Add(time.Hour), 99)
	var want []string
	for i, d := range []time.Duration{0, time.Minute, time.Minute, 2 * time.Minute, 59 * time.Minute} {
		want = append(want, add(since.Add(d), 10+i))
	}
	return &sdktest.Listing{ObjectType: "lead", Since: since, Until: since.Add(time.Hour), Want: want}
}

// TestConformance runs the SDK's suite on the plugin in process, over the
// real gRPC boundary, with every golden payload.
func TestConformance(t *testing.T) {
	srv := leadsquaredtest.New(leadsquaredtest.Options{})
	defer srv.Close()
	sdktest.Conformance(t, sdktest.Plugin{Impl: leadsquared.New()}, fixtures(t, srv))
}

// TestConformanceBinary runs it against `callgate plugin leadsquared`: the
// registered built-in, in its own process, as the gateway starts it.
func TestConformanceBinary(t *testing.T) {
	srv := leadsquaredtest.New(leadsquaredtest.Options{})
	defer srv.Close()
	sdktest.Conformance(t, binary(t), fixtures(t, srv))
}

// TestBinaryFetch reads leads from the fake through the plugin process.
func TestBinaryFetch(t *testing.T) {
	srv := leadsquaredtest.New(leadsquaredtest.Options{})
	defer srv.Close()
	l := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Ada", Mobile: "+91-9876543210", City: "Pune"})
	srv.AddLead(l)
	crm := sdktest.Start(t, binary(t))
	m, err := crm.Describe(ctx(t))
	if err != nil || m.Name != "leadsquared" {
		t.Fatalf("Describe = %+v, %v", m, err)
	}
	res, err := crm.FetchRecords(ctx(t), sdk.FetchRequest{Credentials: creds(srv), ObjectType: "lead", IDs: []string{l.ID()}, Fields: []string{"FirstName", "mx_City"}})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("fetch = %+v, %v", res, err)
	}
	if got := res.Records[0].Fields["mx_City"].Any(); got != "Pune" {
		t.Errorf("mx_City = %v", got)
	}
	bad := creds(srv)
	bad[leadsquared.CredSecretKey] = "not-the-secret-7a7a"
	err = crm.CheckCredentials(ctx(t), bad)
	if sdk.ClassOf(err) != sdk.ClassAuth || strings.Contains(err.Error(), "not-the-secret-7a7a") {
		t.Errorf("CheckCredentials with a wrong secret = %v", err)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
