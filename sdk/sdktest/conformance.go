package sdktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
)

// Fixtures feed Conformance what only the plugin's author knows.
type Fixtures struct {
	// Credentials for the valid webhooks (e.g. the client_secret they are
	// signed with). Base URLs should point at a fake or at nothing.
	Credentials sdk.Credentials
	// Webhooks are valid requests; each must parse into at least one event.
	Webhooks []Webhook
	// Prepare, if set, is called on a copy of each valid webhook right
	// before it is sent: sign it with a fresh timestamp, for example.
	Prepare func(req *sdk.WebhookRequest)
	// PanicWebhook, if set, is a request that makes the plugin panic; the
	// suite checks the panic comes back as an error and the plugin lives.
	PanicWebhook *sdk.WebhookRequest
	// CallTimeout bounds each call (default 10s).
	CallTimeout time.Duration
	// Listing checks a plugin that declares CapabilityReconcile: the
	// records the plugin's fake holds in a range. Without it the check is
	// skipped (and given to a plugin that does not declare it, it fails).
	Listing *Listing
	// LogCall checks a plugin that declares CapabilityLogCall: a request
	// (Credentials default to the fixtures') whose record exists in the
	// plugin's fake. Without it the check is skipped.
	LogCall *sdk.LogCallRequest
}

// Listing is a reconcile fixture: ListRecords over [Since, Until) (by
// modification with Modified) must return exactly the records Want, each
// once, oldest first, in pages of at most Limit (default 2, so that pages
// join) that chain through Next without gaps or repeats.
type Listing struct {
	ObjectType   string
	Since, Until time.Time
	Modified     bool
	Want         []string // object ids
	Limit        int
}

// Webhook is one valid webhook fixture.
type Webhook struct {
	Name    string
	Request sdk.WebhookRequest // Credentials default to Fixtures.Credentials
}

// HugeBodyBytes is the size of the oversized body Conformance sends.
const HugeBodyBytes = 5<<20 + 1024

var (
	knownCapabilities = []string{sdk.CapabilityWriteback, sdk.CapabilityListFields, sdk.CapabilityFetch, sdk.CapabilityInline, sdk.CapabilityReconcile, sdk.CapabilityLogCall}
	knownKinds        = []string{sdk.KindCreated, sdk.KindUpdated, sdk.KindDeleted, sdk.KindMerged, sdk.KindRestored, sdk.KindOther, sdk.KindErased}
	pluginName        = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
)

// Conformance runs the checks every callgate plugin must pass against p:
// a sane manifest; empty, garbage and huge (> 5 MiB) webhook bodies
// answered with bad_request (or invalid_signature, for a plugin that
// verifies signatures first) and never a crash; a panic surfacing as an
// error while the plugin lives on; all seven error classes surviving the
// protocol; secret credentials never appearing in any error; and each
// fixture webhook parsing into events with a key, a known kind and an
// object id, with the same keys when it is delivered again; and, for a
// plugin that declares the reconcile capability, a listing that returns
// each fixture record once across pages, an empty range that returns
// nothing, and a foreign cursor refused as bad_request.
func Conformance(t *testing.T, p Plugin, fx Fixtures) {
	t.Helper()
	if fx.CallTimeout <= 0 {
		fx.CallTimeout = 10 * time.Second
	}
	crm, pc := start(t, p)
	call := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), fx.CallTimeout)
	}
	alive := func(t *testing.T) {
		t.Helper()
		ctx, cancel := call()
		defer cancel()
		if _, err := crm.Describe(ctx); err != nil {
			t.Fatalf("plugin stopped answering: %v", err)
		}
		if pc != nil && pc.Exited() {
			t.Fatal("plugin process exited")
		}
	}

	ctx, cancel := call()
	m, err := crm.Describe(ctx)
	cancel()
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}

	t.Run("Manifest", func(t *testing.T) { checkManifest(t, m) })

	t.Run("BadBodies", func(t *testing.T) {
		bodies := []struct {
			name string
			body []byte
		}{
			{"empty", nil},
			{"garbage", []byte("\x00\xff\xfe{{not json at all\x01")},
			{"truncated json", []byte(`[{"objectId": 1, "subscriptionType": "contact.creation"`)},
			{"wrong json type", []byte(`"just a string"`)},
			{"huge", append(append([]byte(`[{"x":"`), bytes.Repeat([]byte("a"), HugeBodyBytes)...), `"}]`...)},
		}
		for _, b := range bodies {
			t.Run(b.name, func(t *testing.T) {
				ctx, cancel := call()
				defer cancel()
				_, err := crm.HandleWebhook(ctx, sdk.WebhookRequest{
					Method: "POST", URL: "http://127.0.0.1/call/crm-webhook?type=" + m.Name,
					Headers:     map[string][]string{"Content-Type": {"application/json"}},
					Body:        b.body,
					Credentials: fx.Credentials,
					ReceivedAt:  time.Now(),
				})
				if c := sdk.ClassOf(err); err == nil || (c != sdk.ClassBadRequest && c != sdk.ClassInvalidSignature) {
					t.Errorf("want a bad_request error, got %v", err)
				}
				alive(t)
			})
		}
	})

	t.Run("Panic", func(t *testing.T) {
		if fx.PanicWebhook != nil {
			ctx, cancel := call()
			defer cancel()
			req := *fx.PanicWebhook
			if req.Credentials == nil {
				req.Credentials = fx.Credentials
			}
			if _, err := crm.HandleWebhook(ctx, req); err == nil {
				t.Error("the panicking webhook returned no error")
			}
			alive(t)
		}
		// The SDK's recovery over the real boundary, with the plugin (when
		// in-process) behind a wrapper that panics.
		f := &faulty{CRM: inner(p, m), panicV: "conformance panic"}
		wrapped := Serve(t, f)
		ctx, cancel := call()
		defer cancel()
		for name, err := range everyMethod(ctx, wrapped, fx.Credentials) {
			if name == "Describe" {
				continue
			}
			if sdk.ClassOf(err) != sdk.ClassPermanent || !strings.Contains(err.Error(), "panicked") {
				t.Errorf("%s: a panic should come back as a permanent error, got %v", name, err)
			}
		}
		f.panicV = nil
		if _, err := wrapped.Describe(ctx); err != nil {
			t.Errorf("server died after a panic: %v", err)
		}
	})

	t.Run("ErrorClasses", func(t *testing.T) {
		f := &faulty{CRM: inner(p, m)}
		wrapped := Serve(t, f)
		ctx, cancel := call()
		defer cancel()
		for _, want := range []*sdk.Error{
			{Class: sdk.ClassInvalidSignature, Message: "signature mismatch"},
			{Class: sdk.ClassBadRequest, Message: "not json"},
			{Class: sdk.ClassAuth, Message: "token rejected (401)"},
			{Class: sdk.ClassNotFound, Message: "contact 1"},
			{Class: sdk.ClassRateLimited, Message: "slow down", RetryAfter: 1500 * time.Millisecond},
			{Class: sdk.ClassTransient, Message: "upstream 503"},
			{Class: sdk.ClassPermanent, Message: "gone for good"},
		} {
			f.err = want
			for name, err := range everyMethod(ctx, wrapped, fx.Credentials) {
				if name == "Describe" {
					continue
				}
				var got *sdk.Error
				if !errors.As(err, &got) || *got != *want {
					t.Errorf("%s %s: got %#v, want %#v", name, want.Class, err, want)
				}
			}
		}
	})

	t.Run("SecretsNotInErrors", func(t *testing.T) {
		creds, secrets := secretCredentials(m, fx.Credentials)
		if len(secrets) == 0 {
			t.Skip("the manifest declares no secret credential")
		}
		ctx, cancel := call()
		defer cancel()
		var errs []error
		for _, err := range everyMethod(ctx, crm, creds) {
			errs = append(errs, err)
		}
		for _, body := range [][]byte{nil, []byte("garbage"), []byte(`[{"objectId":"1"}]`)} {
			_, err := crm.HandleWebhook(ctx, sdk.WebhookRequest{Method: "POST", URL: "http://127.0.0.1/", Body: body, Credentials: creds, ReceivedAt: time.Now()})
			errs = append(errs, err)
		}
		for _, w := range fx.Webhooks {
			req := w.Request
			req.Credentials = creds
			_, err := crm.HandleWebhook(ctx, req)
			errs = append(errs, err)
		}
		for _, err := range errs {
			if err == nil {
				continue
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("a secret credential appears in an error: %q", err)
				}
			}
		}
	})

	t.Run("Reconcile", func(t *testing.T) {
		declared := slices.Contains(m.Capabilities, sdk.CapabilityReconcile)
		switch {
		case !declared && fx.Listing == nil:
			t.Skip("the manifest does not declare " + sdk.CapabilityReconcile)
		case !declared:
			t.Fatal("a listing fixture is given but the manifest does not declare " + sdk.CapabilityReconcile)
		case fx.Listing == nil:
			// A suite run without a fake behind the plugin (the gateway's
			// check of every built-in) cannot list; the plugin's own run,
			// with its fake, gives the fixture.
			t.Skip("the manifest declares " + sdk.CapabilityReconcile + " but the fixtures give no Listing: the listing is not checked in this run")
		}
		checkListing(t, crm, fx, call)
	})

	t.Run("LogCall", func(t *testing.T) {
		declared := slices.Contains(m.Capabilities, sdk.CapabilityLogCall)
		switch {
		case !declared && fx.LogCall == nil:
			t.Skip("the manifest does not declare " + sdk.CapabilityLogCall)
		case !declared:
			t.Fatal("a LogCall fixture is given but the manifest does not declare " + sdk.CapabilityLogCall)
		case fx.LogCall == nil:
			t.Skip("the manifest declares " + sdk.CapabilityLogCall + " but the fixtures give no LogCall request: logging is not checked in this run")
		}
		checkLogCall(t, crm, fx, call)
	})

	t.Run("Webhooks", func(t *testing.T) {
		if len(fx.Webhooks) == 0 {
			t.Skip("no webhook fixtures")
		}
		for _, w := range fx.Webhooks {
			t.Run(w.Name, func(t *testing.T) {
				first := deliver(t, crm, fx, w, call)
				if len(first) == 0 {
					t.Fatal("no events")
				}
				for i, e := range first {
					// An event the plugin could not use carries its Problem
					// and still a stable key; every other one names its record.
					if e.Key == "" || (e.Problem == "" && e.ObjectID == "") || !slices.Contains(knownKinds, e.Kind) {
						t.Errorf("event %d lacks a key, an object id (without a problem) or a known kind: %+v", i, e)
					}
				}
				again := deliver(t, crm, fx, w, call)
				if len(again) != len(first) {
					t.Fatalf("redelivery gave %d events, first delivery %d", len(again), len(first))
				}
				for i := range first {
					if again[i].Key != first[i].Key {
						t.Errorf("event %d: key %q on redelivery, %q first: dedupe keys must be stable", i, again[i].Key, first[i].Key)
					}
				}
			})
		}
	})
}

func deliver(t *testing.T, crm sdk.CRM, fx Fixtures, w Webhook, call func() (context.Context, context.CancelFunc)) []sdk.Event {
	t.Helper()
	req := w.Request
	req.Headers = cloneHeaders(req.Headers)
	if req.Credentials == nil {
		req.Credentials = fx.Credentials
	}
	if req.ReceivedAt.IsZero() {
		req.ReceivedAt = time.Now()
	}
	if fx.Prepare != nil {
		fx.Prepare(&req)
	}
	ctx, cancel := call()
	defer cancel()
	res, err := crm.HandleWebhook(ctx, req)
	if err != nil {
		t.Fatalf("HandleWebhook: %v", err)
	}
	return res.Events
}

func cloneHeaders(h map[string][]string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[k] = slices.Clone(v)
	}
	return out
}

func checkManifest(t *testing.T, m sdk.Manifest) {
	if !pluginName.MatchString(m.Name) {
		t.Errorf("name %q: want lower-case letters, digits, - or _ (it is the webhook's ?type=)", m.Name)
	}
	if strings.TrimSpace(m.Version) == "" {
		t.Error("no version")
	}
	if m.ProtocolVersion != sdk.ProtocolVersion {
		t.Errorf("protocol version %d, want %d", m.ProtocolVersion, sdk.ProtocolVersion)
	}
	for _, c := range m.Capabilities {
		if !slices.Contains(knownCapabilities, c) {
			t.Errorf("unknown capability %q (known: %v)", c, knownCapabilities)
		}
	}
	for _, p := range mediaTypeProblems(m.ContentTypes) {
		t.Error(p)
	}
	for i, f := range m.PhoneFields {
		if strings.TrimSpace(f) == "" || slices.Contains(m.PhoneFields[:i], f) {
			t.Errorf("phone field %q is empty or listed twice", f)
		}
	}
	seen := map[string]bool{}
	for _, f := range m.CredentialFields {
		if f.Name == "" || seen[f.Name] {
			t.Errorf("credential field with an empty or duplicate name: %+v", f)
		}
		seen[f.Name] = true
	}
}

// mediaTypeProblems wants each declared content type to be a bare,
// lower-case type/subtype media type (the gateway compares them with the
// request's parsed media type), listed once; it returns what is wrong.
func mediaTypeProblems(types []string) []string {
	var out []string
	for i, ct := range types {
		mt, params, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("content type %q is not a media type: %v", ct, err))
		case mt != ct || len(params) > 0 || !strings.Contains(mt, "/") || strings.Contains(mt, "*"):
			out = append(out, fmt.Sprintf("content type %q: want a bare lower-case type/subtype such as %q", ct, sdk.DefaultContentType))
		case slices.Contains(types[:i], ct):
			out = append(out, fmt.Sprintf("content type %q is listed twice", ct))
		}
	}
	return out
}

// secretCredentials returns base with every secret field set to a
// recognisable fake secret, any field named like a URL that base lacks
// pointed at a closed port, and the secret values.
func secretCredentials(m sdk.Manifest, base sdk.Credentials) (sdk.Credentials, []string) {
	creds := sdk.Credentials{}
	for k, v := range base {
		creds[k] = v
	}
	var secrets []string
	for _, f := range m.CredentialFields {
		switch {
		case f.Secret:
			v := "cgsecret-" + f.Name + "-9f8e7d6c5b4a"
			creds[f.Name] = v
			secrets = append(secrets, v)
		case creds[f.Name] == "" && strings.Contains(strings.ToLower(f.Name), "url"):
			creds[f.Name] = "http://127.0.0.1:1"
		}
	}
	return creds, secrets
}

// everyMethod calls every method with harmless inputs and returns each
// error by method name.
func everyMethod(ctx context.Context, crm sdk.CRM, creds sdk.Credentials) map[string]error {
	out := map[string]error{}
	_, out["Describe"] = crm.Describe(ctx)
	_, out["HandleWebhook"] = crm.HandleWebhook(ctx, sdk.WebhookRequest{Method: "POST", Body: []byte("{}"), Credentials: creds})
	_, out["FetchRecords"] = crm.FetchRecords(ctx, sdk.FetchRequest{Credentials: creds, ObjectType: "contact", IDs: []string{"1", "no-such-id"}})
	out["UpdateRecord"] = crm.UpdateRecord(ctx, sdk.UpdateRequest{Credentials: creds, ObjectType: "contact", ObjectID: "1",
		Fields: map[string]sdk.Value{"callgate_status": sdk.StringValue("completed")}})
	_, out["ListFields"] = crm.ListFields(ctx, creds, "contact")
	_, out["ListRecords"] = crm.ListRecords(ctx, sdk.ListRequest{Credentials: creds, ObjectType: "contact",
		Since: time.Unix(1_700_000_000, 0), Until: time.Unix(1_700_000_060, 0), Limit: 1})
	out["CheckCredentials"] = crm.CheckCredentials(ctx, creds)
	if l, ok := crm.(sdk.CallLogger); ok {
		_, out["LogCall"] = l.LogCall(ctx, sdk.LogCallRequest{Credentials: creds, ObjectType: "contact", ObjectID: "1",
			Key: "conformance-1", Call: sdk.LoggedCall{Direction: sdk.DirectionOutbound, Outcome: "completed"}})
	}
	return out
}

// checkLogCall logs fx.LogCall twice with one key and checks the second
// try finds what the first created (exactly once), that CheckOnly writes
// nothing and passes, and that a request without a key is refused.
func checkLogCall(t *testing.T, crm sdk.CRM, fx Fixtures, call func() (context.Context, context.CancelFunc)) {
	t.Helper()
	l, ok := crm.(sdk.CallLogger)
	if !ok {
		t.Fatal("the client is not an sdk.CallLogger")
	}
	req := *fx.LogCall
	if req.Credentials == nil {
		req.Credentials = fx.Credentials
	}
	ctx, cancel := call()
	defer cancel()
	check := req
	check.CheckOnly = true
	if _, err := l.LogCall(ctx, check); err != nil {
		t.Errorf("CheckOnly: %v", err)
	}
	first, err := l.LogCall(ctx, req)
	if err != nil {
		t.Fatalf("LogCall: %v", err)
	}
	if first.ActivityID == "" || len(first.TaskIDs) != len(req.Tasks) {
		t.Fatalf("LogCall gave activity %q and %d task ids for %d tasks", first.ActivityID, len(first.TaskIDs), len(req.Tasks))
	}
	again, err := l.LogCall(ctx, req)
	if err != nil {
		t.Fatalf("LogCall again with the same key: %v", err)
	}
	if again.ActivityID != first.ActivityID || !slices.Equal(again.TaskIDs, first.TaskIDs) {
		t.Errorf("the same key logged again: first %+v, then %+v", first, again)
	}
	noKey := req
	noKey.Key = ""
	if _, err := l.LogCall(ctx, noKey); sdk.ClassOf(err) != sdk.ClassBadRequest {
		t.Errorf("a request without a key: want bad_request, got %v", err)
	}
}

// checkListing pages through fx.Listing's range and checks every fixture
// record comes back once, in order, inside the range.
func checkListing(t *testing.T, crm sdk.CRM, fx Fixtures, call func() (context.Context, context.CancelFunc)) {
	t.Helper()
	l := *fx.Listing
	if l.Limit <= 0 {
		l.Limit = 2
	}
	list := func(req sdk.ListRequest) (sdk.ListResult, error) {
		ctx, cancel := call()
		defer cancel()
		req.Credentials, req.ObjectType, req.Modified, req.Limit = fx.Credentials, l.ObjectType, l.Modified, l.Limit
		return crm.ListRecords(ctx, req)
	}
	t.Run("Pages", func(t *testing.T) {
		seen := map[string]int{}
		var last time.Time
		cursor := ""
		for page := 0; ; page++ {
			if page > len(l.Want)+2 {
				t.Fatalf("still paging after %d pages for %d records: the cursor does not advance", page, len(l.Want))
			}
			res, err := list(sdk.ListRequest{Since: l.Since, Until: l.Until, Cursor: cursor})
			if err != nil {
				t.Fatalf("page %d: %v", page, err)
			}
			if len(res.Records) > l.Limit {
				t.Errorf("page %d has %d records, over the limit %d", page, len(res.Records), l.Limit)
			}
			for _, r := range res.Records {
				at := r.CreatedAt
				if l.Modified {
					at = r.ModifiedAt
				}
				if r.ObjectID == "" || at.Before(l.Since) || !at.Before(l.Until) {
					t.Errorf("page %d: record %q at %s is outside [%s, %s)", page, r.ObjectID, at, l.Since, l.Until)
				}
				if at.Before(last) {
					t.Errorf("page %d: record %q at %s comes after one at %s: not oldest first", page, r.ObjectID, at, last)
				}
				last = at
				seen[r.ObjectID]++
			}
			if res.Next == "" {
				break
			}
			if res.Next == cursor {
				t.Fatalf("page %d: Next repeats the cursor it was given", page)
			}
			cursor = res.Next
		}
		for _, id := range l.Want {
			if seen[id] != 1 {
				t.Errorf("record %q listed %d times, want once", id, seen[id])
			}
		}
		for id, n := range seen {
			if !slices.Contains(l.Want, id) {
				t.Errorf("record %q (%d times) is not a fixture record", id, n)
			}
		}
	})
	t.Run("EmptyRange", func(t *testing.T) {
		res, err := list(sdk.ListRequest{Since: l.Since.Add(-time.Hour), Until: l.Since.Add(-time.Hour + time.Millisecond)})
		if err != nil || len(res.Records) != 0 || res.Next != "" {
			t.Errorf("a range with no records: got %d records, next %q, error %v; want none, \"\", nil", len(res.Records), res.Next, err)
		}
	})
	t.Run("ForeignCursor", func(t *testing.T) {
		_, err := list(sdk.ListRequest{Since: l.Since, Until: l.Until, Cursor: "\x00not a cursor this plugin issued"})
		if sdk.ClassOf(err) != sdk.ClassBadRequest {
			t.Errorf("a cursor the plugin never issued: want bad_request, got %v", err)
		}
	})
}
