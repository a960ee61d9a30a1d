package hubspot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

// setup starts a fake HubSpot and a plugin pointed at it.
func setup(t *testing.T, o hubspottest.Options) (*hubspot.Plugin, *hubspottest.Server, sdk.Credentials) {
	t.Helper()
	srv := hubspottest.New(o)
	t.Cleanup(srv.Close)
	p, err := hubspot.NewWithOptions(hubspot.Options{HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	creds := sdk.Credentials{hubspot.CredAccessToken: srv.Token(), hubspot.CredBaseURL: srv.URL}
	if o.ObjectsPath != "" {
		creds[hubspot.CredObjectsPath] = o.ObjectsPath
		creds[hubspot.CredPropertiesPath] = o.PropertiesPath
	}
	return p, srv, creds
}

func addContacts(srv *hubspottest.Server, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = srv.AddContact(strconv.Itoa(5000+i), map[string]any{"firstname": "Ada " + strconv.Itoa(i), "phone": "+1415555" + strconv.Itoa(1000+i)})
	}
	return ids
}

func TestFetchRequestCounts(t *testing.T) {
	tests := []struct {
		ids, wantGets, wantBatches, wantMax int
	}{
		{1, 1, 0, 0},
		{2, 0, 1, 2},
		{100, 0, 1, 100},
		{101, 0, 2, 100},
		{250, 0, 3, 100},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.ids)+" ids", func(t *testing.T) {
			p, srv, creds := setup(t, hubspottest.Options{})
			ids := addContacts(srv, tc.ids)
			res, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, ObjectType: "contact", IDs: ids, Fields: []string{"firstname"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Records) != tc.ids || len(res.Missing) != 0 {
				t.Fatalf("%d records, missing %v", len(res.Records), res.Missing)
			}
			st := srv.Stats()
			if st.GetContact != tc.wantGets || st.BatchRead != tc.wantBatches || st.MaxBatchInputs != tc.wantMax {
				t.Errorf("stats %+v; want %d GETs, %d batch reads of at most %d", st, tc.wantGets, tc.wantBatches, tc.wantMax)
			}
			if st.ListProperties != 1 || st.Total != 1+tc.wantGets+tc.wantBatches {
				t.Errorf("total %d requests, %d property reads", st.Total, st.ListProperties)
			}
		})
	}
}

func TestFetchPropertiesAndTypes(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	srv.AddProperty(hubspottest.Property{Name: "renewal_date", Label: "Renewal", Type: "date", FieldType: "date"})
	srv.AddProperty(hubspottest.Property{Name: "score", Label: "Score", Type: "number", FieldType: "number"})
	srv.AddProperty(hubspottest.Property{Name: "whatsapp", Label: "WhatsApp", Type: "phone_number", FieldType: "phonenumber"})
	srv.AddContact("77", map[string]any{
		"firstname": "Ada", "lastname": "", "score": "17.5", "hs_email_optout": "true", "hs_is_unworked": "false",
		"renewal_date": "1572480000000", "mobilephone": "+919876543210", "phone": "+14155550123",
		"hs_calculated_phone_number": "+14155550123", "whatsapp": "+447700900123", "hs_timezone": "asia_slash_kolkata",
	})
	fields := []string{"firstname", "lastname", "score", "hs_email_optout", "hs_is_unworked", "renewal_date", "hs_timezone", "whatsapp", "no_such_property"}
	res, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: []string{"77"}, Fields: fields})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	rec := res.Records[0]
	want := map[string]sdk.Value{
		"firstname":       sdk.StringValue("Ada"),
		"score":           sdk.NumberValue(17.5),
		"hs_email_optout": sdk.BoolValue(true),
		"hs_is_unworked":  sdk.BoolValue(false),
		"renewal_date":    sdk.TimeValue(time.Date(2019, 10, 31, 0, 0, 0, 0, time.UTC)),
		"hs_timezone":     sdk.StringValue("asia_slash_kolkata"),
		"mobilephone":     sdk.StringValue("+919876543210"),
		"hs_object_id":    sdk.NumberValue(77),
	}
	for name, w := range want {
		got, ok := rec.Fields[name]
		if !ok || got.Type != w.Type || got.Any() != w.Any() && !(w.Type == sdk.TypeTime && got.Time.Equal(w.Time)) {
			t.Errorf("%s = %+v, want %+v", name, got, w)
		}
	}
	for _, absent := range []string{"lastname", "no_such_property"} {
		if v, ok := rec.Fields[absent]; ok {
			t.Errorf("%s present as %+v; empty and unknown properties are absent", absent, v)
		}
	}
	if created := rec.Fields["createdate"]; created.Type != sdk.TypeTime {
		t.Errorf("createdate (ISO 8601 datetime) = %+v", created)
	}
	if rec.Timezone != "Asia/Kolkata" {
		t.Errorf("record timezone %q, want Asia/Kolkata (hs_timezone asia_slash_kolkata)", rec.Timezone)
	}
	wantPhones := []string{"+919876543210", "+14155550123", "+447700900123"}
	if !slices.Equal(rec.Phones, wantPhones) {
		t.Errorf("phones %v, want %v", rec.Phones, wantPhones)
	}
	// Exactly the requested properties plus the phone ones went to HubSpot.
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	q := strings.Split(mustQuery(t, last.RawQuery, "properties"), ",")
	wantProps := append(append(slices.Clone(fields), hubspot.PhoneProperties()...), hubspot.TimezoneProperty)
	slices.Sort(q)
	wantProps = uniqSorted(wantProps)
	if !slices.Equal(q, wantProps) {
		t.Errorf("properties asked %v, want %v", q, wantProps)
	}
}

func TestFetchBatchPropertiesExact(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	ids := addContacts(srv, 3)
	if _, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids, Fields: []string{"company", "firstname"}}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	var body struct {
		Properties            []string            `json:"properties"`
		PropertiesWithHistory []string            `json:"propertiesWithHistory"`
		Inputs                []map[string]string `json:"inputs"`
	}
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{"company", "firstname"}, hubspot.PhoneProperties()...), hubspot.TimezoneProperty)
	if !slices.Equal(body.Properties, want) || body.PropertiesWithHistory == nil || len(body.Inputs) != 3 {
		t.Errorf("batch body %+v", body)
	}
	if reqs[len(reqs)-1].RawQuery != "archived=false" {
		t.Errorf("query %q", reqs[len(reqs)-1].RawQuery)
	}
}

func TestFetchMissing(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	ids := addContacts(srv, 3)
	// Partial 207: two ids unknown, one not yet visible (eventual consistency).
	srv.HideFor(ids[2], 1)
	res, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: append(ids, "999", "998")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 || !slices.Equal(res.Missing, []string{ids[2], "999", "998"}) {
		t.Fatalf("records %d, missing %v", len(res.Records), res.Missing)
	}
	// The single-id path: 404 is missing, not an error; the hidden contact shows up on the next read.
	res, err = p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: []string{"999"}})
	if err != nil || len(res.Missing) != 1 || len(res.Records) != 0 {
		t.Fatalf("single unknown: %+v %v", res, err)
	}
	res, err = p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: []string{ids[2]}})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("hidden contact on the second read: %+v %v", res, err)
	}
}

func TestFetchErrors(t *testing.T) {
	tests := []struct {
		name     string
		prepare  func(*hubspottest.Server, sdk.Credentials)
		ids      int
		class    sdk.Class
		says     []string
		minRetry time.Duration
		maxRetry time.Duration
	}{
		{name: "401 wrong token", prepare: func(s *hubspottest.Server, c sdk.Credentials) { c[hubspot.CredAccessToken] = "pat-na1-wrong" },
			ids: 2, class: sdk.ClassAuth, says: []string{"token rejected (401)"}},
		{name: "403 missing scopes", prepare: func(s *hubspottest.Server, c sdk.Credentials) { s.SetMissingScopes("crm.objects.contacts.read") },
			ids: 2, class: sdk.ClassAuth, says: []string{"crm.objects.contacts.read", "MISSING_SCOPES"}},
		{name: "429 ten-secondly without headers", prepare: func(s *hubspottest.Server, c sdk.Credentials) { s.FailNext(2, 429) },
			ids: 2, class: sdk.ClassRateLimited, says: []string{"TEN_SECONDLY_ROLLING"}, minRetry: 10 * time.Second, maxRetry: 10 * time.Second},
		{name: "429 with Retry-After", prepare: func(s *hubspottest.Server, c sdk.Credentials) {
			s.FailNextWith(429, map[string]string{"Retry-After": "37"}, "")
		}, ids: 2, class: sdk.ClassRateLimited, minRetry: 37 * time.Second, maxRetry: 37 * time.Second},
		{name: "429 without any rate-limit headers", prepare: func(s *hubspottest.Server, c sdk.Credentials) {
			s.FailNextWith(429, map[string]string{"X-HubSpot-RateLimit-Max": "", "X-HubSpot-RateLimit-Remaining": "", "X-HubSpot-RateLimit-Interval-Milliseconds": "", "X-HubSpot-RateLimit-Secondly": ""}, "")
		}, ids: 2, class: sdk.ClassRateLimited, minRetry: 10 * time.Second, maxRetry: 10 * time.Second},
		{name: "429 daily", prepare: func(s *hubspottest.Server, c sdk.Credentials) { s.ExhaustDaily() },
			ids: 2, class: sdk.ClassRateLimited, says: []string{"daily", "midnight"}, minRetry: time.Hour, maxRetry: time.Hour},
		{name: "429 html body", prepare: func(s *hubspottest.Server, c sdk.Credentials) {
			s.FailNextWith(429, map[string]string{"Content-Type": "text/html"}, "<html>slow down</html>")
		}, ids: 2, class: sdk.ClassRateLimited, minRetry: 10 * time.Second, maxRetry: 10 * time.Second},
		{name: "500", prepare: func(s *hubspottest.Server, c sdk.Credentials) { s.FailNext(2, 500) },
			ids: 2, class: sdk.ClassTransient, says: []string{"500"}},
		{name: "502 html", prepare: func(s *hubspottest.Server, c sdk.Credentials) {
			s.FailNextWith(502, nil, "<html><body>Bad Gateway</body></html>")
		}, ids: 1, class: sdk.ClassTransient, says: []string{"502"}},
		{name: "404 on the batch path itself", prepare: func(s *hubspottest.Server, c sdk.Credentials) {
			c[hubspot.CredObjectsPath] = "/crm/v3/objects/nope"
		}, ids: 2, class: sdk.ClassPermanent, says: []string{"objects_path"}},
		{name: "400 validation", prepare: func(s *hubspottest.Server, c sdk.Credentials) { s.FailNext(2, 400) },
			ids: 2, class: sdk.ClassPermanent, says: []string{"400"}},
		{name: "unreachable", prepare: func(s *hubspottest.Server, c sdk.Credentials) { c[hubspot.CredBaseURL] = "http://127.0.0.1:1" },
			ids: 2, class: sdk.ClassTransient, says: []string{"cannot reach HubSpot"}},
		{name: "no token", prepare: func(s *hubspottest.Server, c sdk.Credentials) { delete(c, hubspot.CredAccessToken) },
			ids: 2, class: sdk.ClassAuth, says: []string{"access_token is not set"}},
		{name: "bad base_url", prepare: func(s *hubspottest.Server, c sdk.Credentials) { c[hubspot.CredBaseURL] = "ftp://x" },
			ids: 2, class: sdk.ClassPermanent, says: []string{"base_url"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, srv, creds := setup(t, hubspottest.Options{})
			ids := addContacts(srv, tc.ids)
			tc.prepare(srv, creds)
			_, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids})
			var se *sdk.Error
			if !errors.As(err, &se) || se.Class != tc.class {
				t.Fatalf("err %v, want class %s", err, tc.class)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if tc.maxRetry > 0 && (se.RetryAfter < tc.minRetry || se.RetryAfter > tc.maxRetry) {
				t.Errorf("retry after %s, want %s..%s", se.RetryAfter, tc.minRetry, tc.maxRetry)
			}
			if strings.Contains(err.Error(), srv.Token()) || strings.Contains(err.Error(), "pat-na1-wrong") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestFetchRateLimitPausesLocally(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	ids := addContacts(srv, 2)
	srv.FailNext(1, 429)
	_, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids})
	if sdk.ClassOf(err) != sdk.ClassRateLimited {
		t.Fatalf("first: %v", err)
	}
	before := srv.Stats().Total
	_, err = p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids})
	if sdk.ClassOf(err) != sdk.ClassRateLimited || srv.Stats().Total != before {
		t.Fatalf("during the pause: %v, %d requests sent", err, srv.Stats().Total-before)
	}
}

func TestFetchSlowResponse(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	ids := addContacts(srv, 2)
	srv.SetLatency(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.FetchRecords(ctx, sdk.FetchRequest{Credentials: creds, IDs: ids})
	if sdk.ClassOf(err) != sdk.ClassTransient || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err %v, want transient deadline", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %s; the context deadline was 100ms", time.Since(start))
	}
}

func TestFetchDateVersionedPath(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{ObjectsPath: "/crm/objects/2026-03/contacts", PropertiesPath: "/crm/properties/2026-03/contacts"})
	ids := addContacts(srv, 2)
	res, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids})
	if err != nil || len(res.Records) != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids[:1]})
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestPropertiesCachedWithTTL(t *testing.T) {
	srv := hubspottest.New(hubspottest.Options{})
	defer srv.Close()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p, err := hubspot.NewWithOptions(hubspot.Options{Clock: func() time.Time { return now }, PropertiesTTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	creds := sdk.Credentials{hubspot.CredAccessToken: srv.Token(), hubspot.CredBaseURL: srv.URL}
	ids := addContacts(srv, 1)
	for range 3 {
		if _, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids}); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Stats().ListProperties; n != 1 {
		t.Fatalf("%d property reads within the TTL, want 1", n)
	}
	now = now.Add(11 * time.Minute)
	if _, err := p.FetchRecords(context.Background(), sdk.FetchRequest{Credentials: creds, IDs: ids}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats().ListProperties; n != 2 {
		t.Fatalf("%d property reads after the TTL, want 2", n)
	}
}

func mustQuery(t *testing.T, raw, key string) string {
	t.Helper()
	for _, part := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k == key {
			v = strings.ReplaceAll(v, "%2C", ",")
			return v
		}
	}
	t.Fatalf("no %s in %q", key, raw)
	return ""
}

func uniqSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func TestIANAZone(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"america_slash_new_york", "America/New_York"},
		{"asia_slash_kolkata", "Asia/Kolkata"},
		{"america_slash_argentina_slash_buenos_aires", "America/Argentina/Buenos_Aires"},
		{"america_slash_port_hyphen_au_hyphen_prince", "America/Port-Au-Prince"}, // the host matches case
		{"us_slash_eastern", "Us/Eastern"},
		{"cuba", "Cuba"},
		{"Europe/London", "Europe/London"},
		{"  ", ""},
		{"", ""},
	} {
		if got := hubspot.IANAZone(tt.in); got != tt.want {
			t.Errorf("IANAZone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzIANAZone: an hs_timezone value is outside input; its spelling never
// panics, keeps "/" and "-" where HubSpot's words for them were, and
// changes nothing but letter case and those words.
func FuzzIANAZone(f *testing.F) {
	for _, s := range []string{"america_slash_new_york", "america_slash_port_hyphen_au_hyphen_prince", "cuba", "",
		"_slash__slash_", "Europe/London", "ü_slash_ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := hubspot.IANAZone(v)
		v = strings.TrimSpace(v)
		if strings.Contains(v, "/") {
			if got != v {
				t.Fatalf("IANAZone(%q) = %q, want it unchanged", v, got)
			}
			return
		}
		want := strings.ReplaceAll(strings.ReplaceAll(v, "_slash_", "/"), "_hyphen_", "-")
		if !strings.EqualFold(got, want) || len(got) != len(want) {
			t.Fatalf("IANAZone(%q) = %q, want %q up to case", v, got, want)
		}
	})
}
