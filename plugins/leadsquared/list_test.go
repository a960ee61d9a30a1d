package leadsquared_test

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

	"github.com/callgate/callgate/plugins/leadsquared"
	"github.com/callgate/callgate/plugins/leadsquared/leadsquaredtest"
	"github.com/callgate/callgate/sdk"
)

var listBase = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fakeLead struct {
	id                string
	created, modified time.Duration // from listBase; modified 0: created
}

func listAll(t *testing.T, p *leadsquared.Plugin, req sdk.ListRequest) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for {
		res, err := p.ListRecords(context.Background(), req)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		for _, r := range res.Records {
			ids = append(ids, r.ObjectID)
		}
		if res.Next == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatal("the listing does not end")
		}
		req.Cursor = res.Next
	}
}

// TestListRecords: Leads.Get pages by CreatedOn (or ModifiedOn), each lead
// in the range once, oldest first, including leads that share a second
// across a page boundary.
func TestListRecords(t *testing.T) {
	minutes := func(prefix string, n int) ([]fakeLead, []string) {
		var ls []fakeLead
		var ids []string
		for i := range n {
			id := prefix + strconv.Itoa(100+i)
			ls = append(ls, fakeLead{id: id, created: time.Duration(i) * time.Minute})
			ids = append(ids, id)
		}
		return ls, ids
	}
	pagesLeads, pagesWant := minutes("p", 25)
	tests := []struct {
		name         string
		leads        []fakeLead
		limit        int
		modified     bool
		since, until time.Duration
		want         []string
		wantPages    int
	}{
		{name: "three pages", leads: pagesLeads, limit: 10, until: time.Hour, want: pagesWant, wantPages: 3},
		{name: "oldest first whatever the order stored", limit: 2, until: time.Hour,
			leads: []fakeLead{{"c", 3 * time.Minute, 0}, {"a", time.Minute, 0}, {"b", 2 * time.Minute, 0}},
			want:  []string{"a", "b", "c"}, wantPages: 2},
		{name: "ties in one second across pages", limit: 2, until: time.Hour,
			leads: []fakeLead{{"t1", time.Second, 0}, {"t2", time.Second, 0}, {"t3", time.Second, 0}, {"t4", time.Second, 0}, {"t5", time.Second, 0}, {"u", 2 * time.Second, 0}},
			// The third page ends full, so a fourth, empty one confirms the end.
			want: []string{"t1", "t2", "t3", "t4", "t5", "u"}, wantPages: 4},
		{name: "since included, until excluded", limit: 10, since: time.Minute, until: 3 * time.Minute,
			leads: []fakeLead{{"e0", 0, 0}, {"e1", time.Minute, 0}, {"e2", 2 * time.Minute, 0}, {"e3", 3 * time.Minute, 0}},
			want:  []string{"e1", "e2"}, wantPages: 1},
		{name: "modified mode reads ModifiedOn", limit: 10, modified: true, until: time.Hour,
			leads: []fakeLead{{"old", -48 * time.Hour, 10 * time.Minute}, {"later", 5 * time.Minute, 2 * time.Hour}, {"early", -time.Hour, time.Minute}},
			want:  []string{"early", "old"}, wantPages: 1},
		{name: "nothing in range", limit: 10, until: time.Hour,
			leads: []fakeLead{{"before", -time.Second, 0}, {"after", time.Hour, 0}},
			want:  nil, wantPages: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := leadsquaredtest.New(leadsquaredtest.Options{RateMax: 1000})
			defer srv.Close()
			for i, l := range tc.leads {
				in := leadsquaredtest.LeadInput{ProspectID: l.id, AutoID: 10 + i, CreatedOn: listBase.Add(l.created)}
				if l.modified != 0 {
					in.ModifiedOn = listBase.Add(l.modified)
				}
				srv.AddLead(leadsquaredtest.NewLead(in))
			}
			got, pages := listAll(t, leadsquared.New(), sdk.ListRequest{Credentials: creds(srv), ObjectType: "lead",
				Since: listBase.Add(tc.since), Until: listBase.Add(tc.until), Modified: tc.modified, Limit: tc.limit})
			if !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
			if pages != tc.wantPages {
				t.Errorf("%d pages, want %d", pages, tc.wantPages)
			}
			prop := "CreatedOn"
			if tc.modified {
				prop = "ModifiedOn"
			}
			for _, r := range srv.Requests() {
				var body struct {
					Parameter struct{ LookupName, SqlOperator string }
					Sorting   struct{ ColumnName, Direction string }
				}
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatal(err)
				}
				if r.Path != leadsquared.PathLeadsGet || body.Parameter.LookupName != prop || body.Parameter.SqlOperator != ">=" || body.Sorting.ColumnName != prop || body.Sorting.Direction != "0" {
					t.Errorf("request %s %+v: want Leads.Get on %s >=, sorted ascending", r.Path, body, prop)
				}
			}
		})
	}
}

// TestListRecordsErrors: the error classes ListRecords answers with.
func TestListRecordsErrors(t *testing.T) {
	req := func(srv *leadsquaredtest.Server) sdk.ListRequest {
		return sdk.ListRequest{Credentials: creds(srv), ObjectType: "lead", Since: listBase, Until: listBase.Add(time.Hour), Limit: 2}
	}
	t.Run("429 then success", func(t *testing.T) {
		srv := leadsquaredtest.New(leadsquaredtest.Options{RateMax: 1})
		defer srv.Close()
		for i := range 3 {
			srv.AddLead(leadsquaredtest.NewLead(leadsquaredtest.LeadInput{ProspectID: "r" + strconv.Itoa(i), CreatedOn: listBase.Add(time.Duration(i) * time.Minute)}))
		}
		p := leadsquared.New()
		first, err := p.ListRecords(ctx(t), req(srv))
		if err != nil || len(first.Records) != 2 {
			t.Fatalf("first page: %+v, %v", first, err)
		}
		next := req(srv)
		next.Cursor = first.Next
		_, err = p.ListRecords(ctx(t), next)
		var se *sdk.Error
		if !errors.As(err, &se) || se.Class != sdk.ClassRateLimited || se.RetryAfter <= 0 {
			t.Fatalf("over the 5-second limit: want rate_limited with a wait, got %v", err)
		}
		srv.SetRateMax(10)
		res, err := p.ListRecords(ctx(t), next)
		if err != nil || len(res.Records) != 1 || res.Records[0].ObjectID != "r2" || res.Next != "" {
			t.Fatalf("after the limit: %+v, %v", res, err)
		}
	})
	t.Run("keys rejected", func(t *testing.T) {
		srv := leadsquaredtest.New(leadsquaredtest.Options{})
		defer srv.Close()
		r := req(srv)
		r.Credentials[leadsquared.CredSecretKey] = "wrong-secret-5c5c"
		_, err := leadsquared.New().ListRecords(ctx(t), r)
		if sdk.ClassOf(err) != sdk.ClassAuth || strings.Contains(err.Error(), "wrong-secret-5c5c") {
			t.Errorf("want auth without the secret, got %v", err)
		}
	})
	t.Run("server error", func(t *testing.T) {
		srv := leadsquaredtest.New(leadsquaredtest.Options{})
		defer srv.Close()
		srv.FailRaw(http.StatusServiceUnavailable, "<html>Service Unavailable</html>")
		_, err := leadsquared.New().ListRecords(ctx(t), req(srv))
		if sdk.ClassOf(err) != sdk.ClassTransient {
			t.Errorf("want transient, got %v", err)
		}
	})
	t.Run("foreign cursor", func(t *testing.T) {
		srv := leadsquaredtest.New(leadsquaredtest.Options{})
		defer srv.Close()
		r := req(srv)
		r.Cursor = "%%"
		_, err := leadsquared.New().ListRecords(ctx(t), r)
		if sdk.ClassOf(err) != sdk.ClassBadRequest || len(srv.Requests()) != 0 {
			t.Errorf("want bad_request before any request, got %v (%d requests)", err, len(srv.Requests()))
		}
	})
	t.Run("empty range asks nothing", func(t *testing.T) {
		srv := leadsquaredtest.New(leadsquaredtest.Options{})
		defer srv.Close()
		r := req(srv)
		r.Until = r.Since
		res, err := leadsquared.New().ListRecords(ctx(t), r)
		if err != nil || len(res.Records) != 0 || res.Next != "" || len(srv.Requests()) != 0 {
			t.Errorf("got %+v, %v; want nothing and no request", res, err)
		}
	})
	t.Run("out of order answers fail loudly", func(t *testing.T) {
		srv := leadsquaredtest.New(leadsquaredtest.Options{})
		defer srv.Close()
		srv.FailRaw(http.StatusOK, `[{"ProspectID":"b","CreatedOn":"2026-03-02 09:02:00.000","ModifiedOn":null},{"ProspectID":"a","CreatedOn":"2026-03-02 09:01:00.000","ModifiedOn":null}]`)
		_, err := leadsquared.New().ListRecords(ctx(t), req(srv))
		if sdk.ClassOf(err) != sdk.ClassPermanent || !strings.Contains(err.Error(), "out of order") {
			t.Errorf("want permanent naming the order, got %v", err)
		}
	})
}
