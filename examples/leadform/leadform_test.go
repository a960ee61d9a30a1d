package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// binary is the plugin built once by TestMain, for Conformance.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	// Fuzz workers re-run TestMain; they need no binary.
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "leadform-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "callgate-leadform")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the plugin: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const secret = "0123456789abcdef-leadform"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signed(body []byte) sdk.WebhookRequest {
	return sdk.WebhookRequest{
		Method:      "POST",
		URL:         "https://calls.example.com/call/crm-webhook?type=leadform&agent_id=a",
		Headers:     map[string][]string{"Content-Type": {"application/json"}, SignatureHeader: {Sign(secret, body)}},
		Body:        body,
		Credentials: sdk.Credentials{"signing_secret": secret},
		ReceivedAt:  time.Now(),
	}
}

func fixtures(t testing.TB) sdktest.Fixtures {
	return sdktest.Fixtures{
		Credentials: sdk.Credentials{"signing_secret": secret},
		Webhooks: []sdktest.Webhook{
			{Name: "single", Request: signed(fixture(t, "single.json"))},
			{Name: "batch", Request: signed(fixture(t, "batch.json"))},
		},
	}
}

func TestConformanceInProcess(t *testing.T) {
	sdktest.Conformance(t, sdktest.Plugin{Impl: New()}, fixtures(t))
}

func TestConformanceBinary(t *testing.T) {
	sdktest.Conformance(t, sdktest.Plugin{Path: binary}, fixtures(t))
}

func TestHandleWebhook(t *testing.T) {
	crm := sdktest.Serve(t, New())
	ctx := context.Background()

	t.Run("single", func(t *testing.T) {
		res, err := crm.HandleWebhook(ctx, signed(fixture(t, "single.json")))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Events) != 1 {
			t.Fatalf("events: %+v", res.Events)
		}
		e := res.Events[0]
		want := sdk.Event{Key: "leadform:contact-us:sub_01JD8X4N6Q", Type: "lead.submitted", Kind: sdk.KindCreated,
			ObjectType: "lead", ObjectID: "L-42", Account: "acme"}
		if e.Key != want.Key || e.Type != want.Type || e.Kind != want.Kind || e.ObjectType != want.ObjectType ||
			e.ObjectID != want.ObjectID || e.Account != want.Account || !e.OccurredAt.Equal(time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)) {
			t.Fatalf("event: %+v", e)
		}
		r := e.Record
		if r == nil || r.ObjectID != "L-42" || strings.Join(r.Phones, ",") != "+14155550123" {
			t.Fatalf("record: %+v", r)
		}
		ist := time.FixedZone("", 5*3600+1800)
		for name, want := range map[string]sdk.Value{
			"firstname":   sdk.StringValue("Ada"),
			"budget":      sdk.NumberValue(5000),
			"consent":     sdk.BoolValue(true),
			"callback_at": sdk.TimeValue(time.Date(2026, 11, 28, 10, 0, 0, 0, ist)),
			"notes":       {},
			"interests":   sdk.StringValue(`["pricing", "demo"]`),
			"phone":       sdk.StringValue("+14155550123"),
		} {
			got := r.Fields[name]
			if got.Type != want.Type || got.String != want.String || got.Number != want.Number || got.Bool != want.Bool || !got.Time.Equal(want.Time) {
				t.Errorf("field %s: got %+v, want %+v", name, got, want)
			}
		}
	})

	t.Run("batch", func(t *testing.T) {
		res, err := crm.HandleWebhook(ctx, signed(fixture(t, "batch.json")))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Events) != 2 || res.Events[0].ObjectID != "w-1" || res.Events[1].ObjectID != "L-7" ||
			strings.Join(res.Events[0].Record.Phones, "|") != "98765 43210|+91 22 1234 5678" {
			t.Fatalf("events: %+v", res.Events)
		}
	})

	bad := []struct {
		name  string
		req   func() sdk.WebhookRequest
		class sdk.Class
		msg   string
	}{
		{"no signature", func() sdk.WebhookRequest {
			r := signed(fixture(t, "single.json"))
			delete(r.Headers, SignatureHeader)
			return r
		}, sdk.ClassInvalidSignature, "missing"},
		{"wrong signature", func() sdk.WebhookRequest {
			r := signed(fixture(t, "single.json"))
			r.Body = append(r.Body, ' ')
			return r
		}, sdk.ClassInvalidSignature, "does not match"},
		{"malformed signature", func() sdk.WebhookRequest {
			r := signed(fixture(t, "single.json"))
			r.Headers[SignatureHeader] = []string{"md5=zz"}
			return r
		}, sdk.ClassInvalidSignature, "not sha256"},
		{"unsigned without secret", func() sdk.WebhookRequest { return sdk.WebhookRequest{Body: []byte(`{"submission_id":"1","lead":{}}`)} }, "", ""},
		{"empty", func() sdk.WebhookRequest { return sdk.WebhookRequest{} }, sdk.ClassBadRequest, "empty body"},
		{"not json", func() sdk.WebhookRequest { return sdk.WebhookRequest{Body: []byte("form=1")} }, sdk.ClassBadRequest, "not a JSON"},
		{"empty array", func() sdk.WebhookRequest { return sdk.WebhookRequest{Body: []byte("[]")} }, sdk.ClassBadRequest, "no submissions"},
		{"no submission id", func() sdk.WebhookRequest { return sdk.WebhookRequest{Body: []byte(`{"lead":{}}`)} }, sdk.ClassBadRequest, "no submission_id"},
		{"no lead", func() sdk.WebhookRequest { return sdk.WebhookRequest{Body: []byte(`{"submission_id":"1"}`)} }, sdk.ClassBadRequest, "no lead"},
		{"bad time", func() sdk.WebhookRequest {
			return sdk.WebhookRequest{Body: []byte(`{"submission_id":"1","submitted_at":"yesterday","lead":{}}`)}
		}, sdk.ClassBadRequest, "RFC 3339"},
		{"too many", func() sdk.WebhookRequest {
			return sdk.WebhookRequest{Body: []byte("[" + strings.Repeat(`{"submission_id":"1","lead":{}},`, MaxSubmissions) + `{"submission_id":"1","lead":{}}]`)}
		}, sdk.ClassBadRequest, "at most 100"},
		{"too big", func() sdk.WebhookRequest {
			return sdk.WebhookRequest{Body: []byte(`"` + strings.Repeat("x", MaxBodyBytes) + `"`)}
		}, sdk.ClassBadRequest, "over the"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := crm.HandleWebhook(ctx, tc.req())
			if tc.class == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if sdk.ClassOf(err) != tc.class || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("want %s error with %q, got %v", tc.class, tc.msg, err)
			}
		})
	}
}

func TestOptionalMethods(t *testing.T) {
	crm := sdktest.Serve(t, New())
	ctx := context.Background()
	if _, err := crm.FetchRecords(ctx, sdk.FetchRequest{IDs: []string{"1"}}); sdk.ClassOf(err) != sdk.ClassPermanent {
		t.Fatalf("FetchRecords: %v", err)
	}
	for _, tc := range []struct {
		secret string
		ok     bool
	}{{"", true}, {"short", false}, {secret, true}} {
		err := crm.CheckCredentials(ctx, sdk.Credentials{"signing_secret": tc.secret})
		if (err == nil) != tc.ok || (err != nil && strings.Contains(err.Error(), tc.secret)) {
			t.Errorf("CheckCredentials(%q): %v", tc.secret, err)
		}
	}
}

func FuzzHandleWebhook(f *testing.F) {
	for _, name := range []string{"single.json", "batch.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`[{"submission_id":"x","lead":{"fields":{"a":{"b":[1,2]}}}}]`))
	p := New()
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := p.HandleWebhook(context.Background(), sdk.WebhookRequest{Body: body})
		if err != nil {
			if sdk.ClassOf(err) != sdk.ClassBadRequest {
				t.Fatalf("want bad_request, got %v", err)
			}
			return
		}
		for _, e := range res.Events {
			if e.Key == "" || e.ObjectID == "" || e.Record == nil {
				t.Fatalf("incomplete event %+v", e)
			}
		}
	})
}
