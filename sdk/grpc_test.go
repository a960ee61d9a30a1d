package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
	"github.com/callgate/callgate/sdk/sdktest"
)

// echo is a CRM that remembers what it was sent and answers with canned
// results, or with err, or panics.
type echo struct {
	manifest sdk.Manifest
	webhook  sdk.WebhookRequest
	events   []sdk.Event
	fetch    sdk.FetchRequest
	records  sdk.FetchResult
	update   sdk.UpdateRequest
	fields   []sdk.Field
	creds    sdk.Credentials
	objType  string
	list     sdk.ListRequest
	listed   sdk.ListResult
	err      error
	panicV   any
}

func (e *echo) fail() error {
	if e.panicV != nil {
		panic(e.panicV)
	}
	return e.err
}

func (e *echo) Describe(context.Context) (sdk.Manifest, error) { return e.manifest, nil }
func (e *echo) HandleWebhook(_ context.Context, r sdk.WebhookRequest) (sdk.WebhookResult, error) {
	e.webhook = r
	if err := e.fail(); err != nil {
		return sdk.WebhookResult{}, err
	}
	return sdk.WebhookResult{Events: e.events}, nil
}
func (e *echo) FetchRecords(_ context.Context, r sdk.FetchRequest) (sdk.FetchResult, error) {
	e.fetch = r
	if err := e.fail(); err != nil {
		return sdk.FetchResult{}, err
	}
	return e.records, nil
}
func (e *echo) UpdateRecord(_ context.Context, r sdk.UpdateRequest) error {
	e.update = r
	return e.fail()
}
func (e *echo) ListFields(_ context.Context, c sdk.Credentials, o string) ([]sdk.Field, error) {
	e.creds, e.objType = c, o
	if err := e.fail(); err != nil {
		return nil, err
	}
	return e.fields, nil
}
func (e *echo) ListRecords(_ context.Context, req sdk.ListRequest) (sdk.ListResult, error) {
	e.list = req
	if err := e.fail(); err != nil {
		return sdk.ListResult{}, err
	}
	return e.listed, nil
}
func (e *echo) CheckCredentials(_ context.Context, c sdk.Credentials) error {
	e.creds = c
	return e.fail()
}

var when = time.Date(2026, 11, 27, 9, 30, 15, 123456789, time.FixedZone("IST", 5*3600+1800))

func typedFields() map[string]sdk.Value {
	return map[string]sdk.Value{
		"firstname": sdk.StringValue("Ada"),
		"empty":     sdk.StringValue(""),
		"score":     sdk.NumberValue(42.5),
		"big":       sdk.NumberValue(math.MaxFloat64),
		"neg":       sdk.NumberValue(-0.25),
		"optin":     sdk.BoolValue(true),
		"optout":    sdk.BoolValue(false),
		"created":   sdk.TimeValue(when),
		"epoch":     sdk.TimeValue(time.Unix(0, 0).UTC()),
		"missing":   {},
	}
}

func sameFields(t *testing.T, got, want map[string]sdk.Value) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("fields: got %d, want %d: %v", len(got), len(want), got)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("field %q missing", k)
		}
		if g.Type != w.Type || g.String != w.String || g.Number != w.Number || g.Bool != w.Bool || !g.Time.Equal(w.Time) {
			t.Errorf("field %q: got %+v, want %+v", k, g, w)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	impl := &echo{}
	crm := sdktest.Serve(t, impl)
	ctx := context.Background()
	creds := sdk.Credentials{"access_token": "tok-123456", "base_url": "http://127.0.0.1:1"}

	t.Run("Describe", func(t *testing.T) {
		impl.manifest = sdk.Manifest{
			Name: "echo", Version: "1.2.3", ProtocolVersion: 1, DisplayName: "Echo",
			EventTypes:       []string{"contact.creation"},
			CredentialFields: []sdk.CredentialField{{Name: "access_token", Description: "token", Secret: true, Required: true}, {Name: "base_url"}},
			Capabilities:     []string{sdk.CapabilityFetch, sdk.CapabilityWriteback},
			ContentTypes:     []string{"application/json", "application/x-www-form-urlencoded"},
			PhoneFields:      []string{"Mobile", "Phone"},
		}
		got, err := crm.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, impl.manifest) {
			t.Fatalf("got %+v, want %+v", got, impl.manifest)
		}
	})

	t.Run("HandleWebhook", func(t *testing.T) {
		rec := &sdk.Record{ObjectID: "7", Fields: typedFields(), Phones: []string{"+14155550123", "0044 20"}}
		impl.events = []sdk.Event{
			{Key: "k1", Type: "contact.creation", Kind: sdk.KindCreated, ObjectType: "contact", ObjectID: "7",
				OccurredAt: when, Property: "p", Value: "v", Account: "62515", Record: rec},
			{Key: "k2", Kind: sdk.KindOther},
		}
		req := sdk.WebhookRequest{
			Method: "POST", URL: "https://calls.example.com/call/crm-webhook?type=echo&x=%20y",
			Headers:     map[string][]string{"X-Hubspot-Signature-V3": {"abc="}, "Accept": {"a", "b"}},
			Body:        []byte("\x00\xffnot utf8"),
			Credentials: creds,
			ReceivedAt:  when,
		}
		res, err := crm.HandleWebhook(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		got := impl.webhook
		if got.Method != req.Method || got.URL != req.URL || string(got.Body) != string(req.Body) ||
			!reflect.DeepEqual(got.Headers, req.Headers) || !reflect.DeepEqual(got.Credentials, req.Credentials) ||
			!got.ReceivedAt.Equal(when) {
			t.Fatalf("plugin got %+v, want %+v", got, req)
		}
		if len(res.Events) != 2 {
			t.Fatalf("events: %+v", res.Events)
		}
		e := res.Events[0]
		if e.Key != "k1" || e.Type != "contact.creation" || e.Kind != "created" || e.ObjectType != "contact" ||
			e.ObjectID != "7" || !e.OccurredAt.Equal(when) || e.Property != "p" || e.Value != "v" || e.Account != "62515" {
			t.Fatalf("event: %+v", e)
		}
		if e.Record == nil || e.Record.ObjectID != "7" || !reflect.DeepEqual(e.Record.Phones, rec.Phones) {
			t.Fatalf("inline record: %+v", e.Record)
		}
		sameFields(t, e.Record.Fields, rec.Fields)
		if res.Events[1].Record != nil || !res.Events[1].OccurredAt.IsZero() {
			t.Fatalf("second event should have no record and zero time: %+v", res.Events[1])
		}
	})

	t.Run("HandleWebhookEmpty", func(t *testing.T) {
		impl.events = nil
		res, err := crm.HandleWebhook(ctx, sdk.WebhookRequest{})
		if err != nil || len(res.Events) != 0 {
			t.Fatalf("got %+v, %v", res, err)
		}
		if !impl.webhook.ReceivedAt.IsZero() || len(impl.webhook.Body) != 0 {
			t.Fatalf("plugin got %+v", impl.webhook)
		}
	})

	t.Run("InvalidUTF8Answer", func(t *testing.T) {
		impl.events = []sdk.Event{{Key: "a\xffb", Value: "\xc3"}}
		res, err := crm.HandleWebhook(ctx, sdk.WebhookRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Events[0].Key != "a\uFFFDb" {
			t.Fatalf("key: %q", res.Events[0].Key)
		}
	})

	t.Run("FetchRecords", func(t *testing.T) {
		impl.records = sdk.FetchResult{
			Records: []sdk.Record{{ObjectID: "1", Fields: typedFields(), Phones: []string{"+1"}}, {ObjectID: "2"}},
			Missing: []string{"3"},
		}
		req := sdk.FetchRequest{Credentials: creds, ObjectType: "contact", IDs: []string{"1", "2", "3"}, Fields: []string{"firstname"}}
		res, err := crm.FetchRecords(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(impl.fetch, req) {
			t.Fatalf("plugin got %+v, want %+v", impl.fetch, req)
		}
		if len(res.Records) != 2 || res.Records[0].ObjectID != "1" || !reflect.DeepEqual(res.Missing, []string{"3"}) {
			t.Fatalf("result: %+v", res)
		}
		sameFields(t, res.Records[0].Fields, typedFields())
		if res.Records[1].Fields == nil {
			t.Fatal("fields of a record without fields should be an empty, writable map")
		}
	})

	t.Run("UpdateRecord", func(t *testing.T) {
		req := sdk.UpdateRequest{Credentials: creds, ObjectType: "contact", ObjectID: "9", Fields: typedFields()}
		if err := crm.UpdateRecord(ctx, req); err != nil {
			t.Fatal(err)
		}
		if impl.update.ObjectID != "9" || impl.update.ObjectType != "contact" || !reflect.DeepEqual(impl.update.Credentials, creds) {
			t.Fatalf("plugin got %+v", impl.update)
		}
		sameFields(t, impl.update.Fields, typedFields())
	})

	t.Run("ListFields", func(t *testing.T) {
		impl.fields = []sdk.Field{{Name: "a", Label: "A", Type: sdk.TypeString}, {Name: "b", Type: sdk.TypeTime}, {Name: "c", Type: sdk.TypeNull}}
		got, err := crm.ListFields(ctx, creds, "deal")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, impl.fields) || impl.objType != "deal" || !reflect.DeepEqual(impl.creds, creds) {
			t.Fatalf("got %+v (plugin saw %q %v)", got, impl.objType, impl.creds)
		}
	})

	t.Run("ListRecords", func(t *testing.T) {
		since := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
		req := sdk.ListRequest{Credentials: creds, ObjectType: "contact", Since: since, Until: since.Add(time.Hour),
			Modified: true, Cursor: "after:1700", Limit: 100}
		impl.listed = sdk.ListResult{Next: "after:1800", Records: []sdk.ListedRecord{
			{ObjectID: "1701", CreatedAt: since.Add(time.Minute), ModifiedAt: since.Add(2 * time.Minute)},
			{ObjectID: "1702", CreatedAt: since.Add(3 * time.Minute)}}}
		got, err := crm.ListRecords(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(impl.list, req) {
			t.Fatalf("plugin got %+v, want %+v", impl.list, req)
		}
		if got.Next != "after:1800" || len(got.Records) != 2 || got.Records[0].ObjectID != "1701" ||
			!got.Records[0].ModifiedAt.Equal(since.Add(2*time.Minute)) || !got.Records[1].ModifiedAt.IsZero() {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("CheckCredentials", func(t *testing.T) {
		if err := crm.CheckCredentials(ctx, creds); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(impl.creds, creds) {
			t.Fatalf("plugin got %v", impl.creds)
		}
	})
}

func TestErrorClassesRoundTrip(t *testing.T) {
	impl := &echo{manifest: sdk.Manifest{CredentialFields: []sdk.CredentialField{
		{Name: "access_token", Secret: true}, {Name: "base_url"}}}}
	crm := sdktest.Serve(t, impl)
	ctx := context.Background()
	creds := sdk.Credentials{"access_token": "pat-na1-SECRET", "base_url": "http://crm.test"}
	cases := []struct {
		name  string
		err   error
		class sdk.Class
		msg   string
		retry time.Duration
	}{
		{"invalid_signature", sdk.InvalidSignature("bad v3 signature"), sdk.ClassInvalidSignature, "bad v3 signature", 0},
		{"bad_request", sdk.BadRequest("body is not JSON"), sdk.ClassBadRequest, "body is not JSON", 0},
		{"auth", sdk.Auth("token rejected (401)"), sdk.ClassAuth, "token rejected (401)", 0},
		{"not_found", sdk.NotFound("contact 1"), sdk.ClassNotFound, "contact 1", 0},
		{"rate_limited", sdk.RateLimited(1500*time.Millisecond, "slow down"), sdk.ClassRateLimited, "slow down", 1500 * time.Millisecond},
		{"transient", sdk.Transient("503"), sdk.ClassTransient, "503", 0},
		{"permanent", sdk.Permanent("gone"), sdk.ClassPermanent, "gone", 0},
		{"unclassed", errors.New("plain"), sdk.ClassTransient, "plain", 0},
		{"wrapped", fmt.Errorf("fetch 1: %w", sdk.NotFound("contact 1")), sdk.ClassNotFound, "fetch 1: not_found: contact 1", 0},
		{"secret scrubbed", sdk.Auth("token pat-na1-SECRET rejected at http://crm.test"), sdk.ClassAuth, "token [redacted] rejected at http://crm.test", 0},
	}
	calls := map[string]func() error{
		"HandleWebhook": func() error {
			_, err := crm.HandleWebhook(ctx, sdk.WebhookRequest{Credentials: creds})
			return err
		},
		"FetchRecords": func() error {
			_, err := crm.FetchRecords(ctx, sdk.FetchRequest{Credentials: creds})
			return err
		},
		"UpdateRecord": func() error { return crm.UpdateRecord(ctx, sdk.UpdateRequest{Credentials: creds}) },
		"ListFields": func() error {
			_, err := crm.ListFields(ctx, creds, "contact")
			return err
		},
		"CheckCredentials": func() error { return crm.CheckCredentials(ctx, creds) },
	}
	for _, tc := range cases {
		for method, call := range calls {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				impl.err = tc.err
				err := call()
				var e *sdk.Error
				if !errors.As(err, &e) {
					t.Fatalf("got %T %v, want *sdk.Error", err, err)
				}
				if e.Class != tc.class || e.Message != tc.msg || e.RetryAfter != tc.retry {
					t.Fatalf("got %+v, want class %s message %q retry %s", e, tc.class, tc.msg, tc.retry)
				}
			})
		}
	}
}

func TestPanicBecomesPermanentError(t *testing.T) {
	impl := &echo{panicV: "boom with pat-na1-SECRET inside"}
	crm := sdktest.Serve(t, impl)
	ctx := context.Background()
	_, err := crm.HandleWebhook(ctx, sdk.WebhookRequest{Credentials: sdk.Credentials{"access_token": "pat-na1-SECRET"}})
	if sdk.ClassOf(err) != sdk.ClassPermanent || !strings.Contains(err.Error(), "panicked in HandleWebhook") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "pat-na1-SECRET") {
		t.Fatalf("secret leaked: %v", err)
	}
	impl.panicV = nil
	if _, err := crm.HandleWebhook(ctx, sdk.WebhookRequest{}); err != nil {
		t.Fatalf("plugin should survive its panic: %v", err)
	}
}

func TestUnimplemented(t *testing.T) {
	var u sdk.Unimplemented
	ctx := context.Background()
	_, err1 := u.FetchRecords(ctx, sdk.FetchRequest{})
	_, err2 := u.ListFields(ctx, nil, "contact")
	_, err3 := u.ListRecords(ctx, sdk.ListRequest{})
	for i, err := range []error{err1, u.UpdateRecord(ctx, sdk.UpdateRequest{}), err2, u.CheckCredentials(ctx, nil), err3} {
		if sdk.ClassOf(err) != sdk.ClassPermanent || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("method %d: got %v", i, err)
		}
	}
}

func TestCanceledCallIsTransient(t *testing.T) {
	crm := sdktest.Serve(t, &echo{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := crm.HandleWebhook(ctx, sdk.WebhookRequest{})
	var e *sdk.Error
	if !errors.As(err, &e) || e.Class != sdk.ClassTransient {
		t.Fatalf("got %v", err)
	}
}
