package leadsquared_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
	"github.com/callgate/callgate/sdk"
)

func creds(srv *leadsquaredtest.Server) sdk.Credentials {
	return sdk.Credentials{
		leadsquared.CredHostURL:   srv.URL,
		leadsquared.CredAccessKey: srv.AccessKey(),
		leadsquared.CredSecretKey: srv.SecretKey(),
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

var created = time.Date(2026, 11, 27, 6, 30, 12, 0, time.UTC)

func TestFetchRecords(t *testing.T) {
	srv := leadsquaredtest.New(leadsquaredtest.Options{})
	defer srv.Close()
	ada := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Ada", Mobile: "+91-9876543210", Company: "Acme", City: "Pune", DoNotCall: true, CreatedOn: created})
	bob := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Bob", Phone: "080-12345678", CreatedOn: created})
	srv.AddLead(ada)
	srv.AddLead(bob)
	p := leadsquared.New()

	res, err := p.FetchRecords(ctx(t), sdk.FetchRequest{
		Credentials: creds(srv), ObjectType: "lead",
		IDs:    []string{ada.ID(), strings.ToUpper(bob.ID()), "7d1e0c2b-0000-4000-8000-000000000000", ada.ID()},
		Fields: []string{"FirstName", "Company", "mx_City", "DoNotCall", "Score"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 || len(res.Missing) != 1 || res.Missing[0] != "7d1e0c2b-0000-4000-8000-000000000000" {
		t.Fatalf("records %d, missing %v", len(res.Records), res.Missing)
	}
	got := map[string]sdk.Record{}
	for _, r := range res.Records {
		got[r.ObjectID] = r
	}
	a, ok := got[ada.ID()]
	if !ok {
		t.Fatalf("no record for %s: %v", ada.ID(), got)
	}
	for field, want := range map[string]any{"FirstName": "Ada", "Company": "Acme", "mx_City": "Pune", "DoNotCall": true, "Score": 0.0, "CreatedOn": created} {
		if v := a.Fields[field].Any(); v != want {
			t.Errorf("%s = %#v, want %#v", field, v, want)
		}
	}
	if len(a.Phones) != 1 || a.Phones[0] != "+91-9876543210" {
		t.Errorf("phones = %q", a.Phones)
	}
	if b := got[strings.ToUpper(bob.ID())]; len(b.Phones) != 1 || b.Phones[0] != "080-12345678" {
		t.Errorf("bob (asked in upper case) = %+v", b)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != leadsquared.PathLeadsByIDs || r.KeysInQuery {
		t.Errorf("request %s %s keys-in-query=%v", r.Method, r.Path, r.KeysInQuery)
	}
	var body struct {
		SearchParameters struct{ LeadIds []string }
		Columns          struct{ Include_CSV string }
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.SearchParameters.LeadIds) != 3 {
		t.Errorf("asked for %v: duplicates should go", body.SearchParameters.LeadIds)
	}
	if want := "ProspectID,Mobile,Phone,CreatedOn,ModifiedOn,FirstName,Company,mx_City,DoNotCall,Score"; body.Columns.Include_CSV != want {
		t.Errorf("columns = %q, want %q", body.Columns.Include_CSV, want)
	}
}

func TestFetchRecordsBatchesAndDefaults(t *testing.T) {
	srv := leadsquaredtest.New(leadsquaredtest.Options{RateMax: 100})
	defer srv.Close()
	var ids []string
	for i := range 150 {
		l := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: fmt.Sprint("L", i), Mobile: fmt.Sprintf("+91-98765%05d", i)})
		srv.AddLead(l)
		ids = append(ids, l.ID())
	}
	res, err := leadsquared.New().FetchRecords(ctx(t), sdk.FetchRequest{Credentials: creds(srv), IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 150 || len(res.Missing) != 0 {
		t.Fatalf("records %d missing %d", len(res.Records), len(res.Missing))
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests for 150 ids, want 2", len(reqs))
	}
	if !strings.Contains(string(reqs[0].Body), "ProspectStage,DoNotCall") || !strings.Contains(string(reqs[0].Body), `"PageSize":100`) {
		t.Errorf("first request lacks the default columns or page size: %s", reqs[0].Body[:200])
	}
}

func TestErrorClasses(t *testing.T) {
	type setup func(srv *leadsquaredtest.Server, c sdk.Credentials) sdk.Credentials
	keep := func(_ *leadsquaredtest.Server, c sdk.Credentials) sdk.Credentials { return c }
	fail := func(status int, typ, msg, retry string) setup {
		return func(srv *leadsquaredtest.Server, c sdk.Credentials) sdk.Credentials {
			srv.Fail(status, typ, msg, retry)
			return c
		}
	}
	with := func(k, v string) setup {
		return func(_ *leadsquaredtest.Server, c sdk.Credentials) sdk.Credentials { c[k] = v; return c }
	}
	tests := []struct {
		name  string
		setup setup
		class sdk.Class
		want  string
		retry time.Duration
	}{
		{"ok", keep, "", "", 0},
		{"wrong secret", with(leadsquared.CredSecretKey, "wrong-secret-value-123"), sdk.ClassAuth, "keys rejected (401)", 0},
		{"no access key", with(leadsquared.CredAccessKey, ""), sdk.ClassAuth, "must both be set", 0},
		{"forbidden", fail(403, "MXUnAuthorizedAccessException", "User is not permitted", ""), sdk.ClassAuth, "(403)", 0},
		{"rate limited with Retry-After", fail(429, "MXAPIRateLimitExceededException", "API calls exceeded the limit of 25 in 5 second(s)", "7"), sdk.ClassRateLimited, "rate limit", 7 * time.Second},
		{"rate limited without Retry-After", fail(429, "", "", ""), sdk.ClassRateLimited, "rate limit", 5 * time.Second},
		{"rate limit exception on a 500", fail(500, "MXAPIRateLimitExceededException", "limit", ""), sdk.ClassRateLimited, "rate limit", 5 * time.Second},
		{"application exception", fail(500, "MXInvalidInputException", "Invalid column mx_Nope", ""), sdk.ClassPermanent, "MXInvalidInputException Invalid column mx_Nope", 0},
		{"server error", fail(500, "", "", ""), sdk.ClassTransient, "answered 500", 0},
		{"bad gateway", fail(502, "", "", ""), sdk.ClassTransient, "answered 502", 0},
		{"bad request", fail(400, "MXInvalidInputException", "bad json", ""), sdk.ClassPermanent, "refused (400)", 0},
		{"wrong path", with(leadsquared.CredHostURL, "PLACEHOLDER/v2/"), sdk.ClassTransient, "", 0},
		{"host with a path", with(leadsquared.CredHostURL, "https://api-in21.leadsquared.com/api"), sdk.ClassPermanent, "not an API host URL", 0},
		{"no host", with(leadsquared.CredHostURL, ""), sdk.ClassPermanent, "host_url is not set", 0},
		{"unreachable", with(leadsquared.CredHostURL, "http://127.0.0.1:1"), sdk.ClassTransient, "unreachable", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := leadsquaredtest.New(leadsquaredtest.Options{})
			defer srv.Close()
			l := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Ada", Mobile: "+91-9876543210"})
			srv.AddLead(l)
			c := tt.setup(srv, creds(srv))
			if c[leadsquared.CredHostURL] == "PLACEHOLDER/v2/" {
				// host_url pasted with LeadSquared's /v2/ suffix still works.
				c[leadsquared.CredHostURL] = srv.URL + "/v2/"
			}
			_, err := leadsquared.New().FetchRecords(ctx(t), sdk.FetchRequest{Credentials: c, IDs: []string{l.ID()}})
			if tt.class == "" || tt.name == "wrong path" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var se *sdk.Error
			if err == nil || sdk.ClassOf(err) != tt.class || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want class %s containing %q", err, tt.class, tt.want)
			}
			if tt.retry > 0 && (!asError(err, &se) || se.RetryAfter != tt.retry) {
				t.Errorf("retry after = %v, want %v", se, tt.retry)
			}
			for _, secret := range []string{srv.AccessKey(), srv.SecretKey(), "wrong-secret-value-123"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error carries a key: %v", err)
				}
			}
		})
	}
}

func TestNotFoundAPI(t *testing.T) {
	// A host that is not LeadSquared's API answers 404 for the service
	// path: permanent, and it names host_url.
	srv := leadsquaredtest.New(leadsquaredtest.Options{})
	defer srv.Close()
	srv.FailRaw(http.StatusNotFound, "<html>Endpoint not found.</html>")
	_, err := leadsquared.New().FetchRecords(ctx(t), sdk.FetchRequest{Credentials: creds(srv), IDs: []string{"a"}})
	if sdk.ClassOf(err) != sdk.ClassPermanent || !strings.Contains(err.Error(), "check host_url") {
		t.Fatalf("err = %v", err)
	}
}

func TestFakeRateLimit(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	srv := leadsquaredtest.New(leadsquaredtest.Options{RateMax: 2, Clock: func() time.Time { return now }})
	defer srv.Close()
	p := leadsquared.New()
	for i := range 3 {
		err := p.CheckCredentials(ctx(t), creds(srv))
		if i < 2 && err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if i == 2 && sdk.ClassOf(err) != sdk.ClassRateLimited {
			t.Fatalf("call 3 = %v, want rate_limited", err)
		}
	}
	now = now.Add(5 * time.Second)
	if err := p.CheckCredentials(ctx(t), creds(srv)); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestListFieldsAndCheckCredentials(t *testing.T) {
	srv := leadsquaredtest.New(leadsquaredtest.Options{})
	defer srv.Close()
	srv.AddField(leadsquaredtest.Field{SchemaName: "mx_Callback_Time", DisplayName: "Callback Time", DataType: "DateTime"})
	p := leadsquared.New()
	fields, err := p.ListFields(ctx(t), creds(srv), "lead")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]sdk.ValueType{}
	for _, f := range fields {
		types[f.Name] = f.Type
	}
	for name, want := range map[string]sdk.ValueType{
		"FirstName": sdk.TypeString, "Mobile": sdk.TypeString, "DoNotCall": sdk.TypeBool, "Score": sdk.TypeNumber,
		"CreatedOn": sdk.TypeTime, "mx_City": sdk.TypeString, "mx_Callback_Time": sdk.TypeTime,
		"ProspectAutoId": sdk.TypeString, // a Number in LeadSquared, but an id: sent and kept as text
	} {
		if got, ok := types[name]; !ok || got != want {
			t.Errorf("%s: type %v (listed %v), want %v", name, got, ok, want)
		}
	}
	if _, err := p.ListFields(ctx(t), creds(srv), "deal"); sdk.ClassOf(err) != sdk.ClassPermanent {
		t.Errorf("deal fields: %v", err)
	}
	if err := p.CheckCredentials(ctx(t), creds(srv)); err != nil {
		t.Errorf("CheckCredentials: %v", err)
	}
	bad := creds(srv)
	bad[leadsquared.CredAccessKey] = "u$rwrong"
	if err := p.CheckCredentials(ctx(t), bad); sdk.ClassOf(err) != sdk.ClassAuth {
		t.Errorf("CheckCredentials with a wrong key = %v", err)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Path != leadsquared.PathMetadata || !strings.Contains(last.Query, "schemaName=FirstName") {
		t.Errorf("check call = %+v", last)
	}
}

// TestInlineAndFetchedAgree: a lead from a webhook and the same lead read
// through the API give the same typed fields, so rules see one contact
// whichever path it came by.
func TestInlineAndFetchedAgree(t *testing.T) {
	srv := leadsquaredtest.New(leadsquaredtest.Options{})
	defer srv.Close()
	l := leadsquaredtest.NewLead(leadsquaredtest.LeadInput{FirstName: "Ada", LastName: "L", Mobile: "+91-9876543210", Company: "Acme", City: "Pune", CreatedOn: created})
	srv.AddLead(l)
	p := leadsquared.New()
	wr, err := p.HandleWebhook(ctx(t), sdk.WebhookRequest{Method: "POST", URL: "http://gw/call/crm-webhook?type=leadsquared",
		Headers: leadsquaredtest.WebhookHeaders(leadsquaredtest.ContentJSON, ""), Body: leadsquaredtest.WebhookBody(l)})
	if err != nil {
		t.Fatal(err)
	}
	inline := wr.Events[0].Record
	fields := []string{"FirstName", "LastName", "Company", "mx_City", "DoNotCall", "Score", "ProspectStage", "ProspectAutoId"}
	res, err := p.FetchRecords(ctx(t), sdk.FetchRequest{Credentials: creds(srv), IDs: []string{l.ID()}, Fields: fields})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("fetch: %v %+v", err, res)
	}
	fetched := res.Records[0]
	for _, f := range append(fields, "Mobile", "CreatedOn", "ModifiedOn", "ProspectID") {
		a, b := inline.Fields[f], fetched.Fields[f]
		if a.Type != b.Type || (a.Type == sdk.TypeTime && !a.Time.Equal(b.Time)) || (a.Type != sdk.TypeTime && a.Any() != b.Any()) {
			t.Errorf("%s: inline %#v, fetched %#v", f, a, b)
		}
	}
	if fmt.Sprint(inline.Phones) != fmt.Sprint(fetched.Phones) {
		t.Errorf("phones: inline %q, fetched %q", inline.Phones, fetched.Phones)
	}
}

func asError(err error, se **sdk.Error) bool {
	e, ok := err.(*sdk.Error)
	*se = e
	return ok
}
