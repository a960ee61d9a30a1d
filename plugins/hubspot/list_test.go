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

var listBase = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// listAll pages through a listing and returns the ids in order and the
// number of pages.
func listAll(t *testing.T, p *hubspot.Plugin, req sdk.ListRequest) ([]string, int) {
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

// TestListRecordsSurvivesAnArchiveMidPass: a record archived between two
// pages of one pass shifts every later one back a place; paging by offset
// would pass one over. Each page starts at the last instant listed, so
// none is missed.
func TestListRecordsSurvivesAnArchiveMidPass(t *testing.T) {
	srv := hubspottest.New(hubspottest.Options{SearchRatePerSec: 100})
	t.Cleanup(srv.Close)
	p, err := hubspot.NewWithOptions(hubspot.Options{HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		srv.AddContactAt(strconv.Itoa(500+i), listBase.Add(time.Duration(i)*time.Second), time.Time{}, nil)
	}
	creds := sdk.Credentials{hubspot.CredAccessToken: srv.Token(), hubspot.CredBaseURL: srv.URL}
	req := sdk.ListRequest{Credentials: creds, ObjectType: "contact", Since: listBase, Until: listBase.Add(time.Hour), Limit: 4}
	first, err := p.ListRecords(context.Background(), req)
	if err != nil || len(first.Records) != 4 || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	srv.ArchiveContact("500")
	req.Cursor = first.Next
	rest, _ := listAll(t, p, req)
	if want := seq(504, 8); !slices.Equal(rest, want) {
		t.Errorf("after the archive, listed %v, want %v", rest, want)
	}
}

func seq(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(from + i)
	}
	return out
}

// TestListRecords: the listing over the fake's search endpoint returns
// each record in the range once, oldest first, across pages, and across
// restarts at the result cap even when records share the restart instant.
func TestListRecords(t *testing.T) {
	tests := []struct {
		name      string
		cap       int
		limit     int
		modified  bool
		add       func(srv *hubspottest.Server)
		since     time.Duration // from listBase
		until     time.Duration
		want      []string
		wantPages int
	}{{
		name: "three pages", limit: 10, until: time.Hour,
		add: func(srv *hubspottest.Server) {
			for i := range 25 {
				srv.AddContactAt(strconv.Itoa(100+i), listBase.Add(time.Duration(i)*time.Minute), time.Time{}, nil)
			}
		},
		want: seq(100, 25), wantPages: 3,
	}, {
		name: "oldest first whatever the ids", limit: 3, until: time.Hour,
		add: func(srv *hubspottest.Server) {
			for i := range 7 {
				srv.AddContactAt(strconv.Itoa(200+i), listBase.Add(time.Duration(7-i)*time.Minute), time.Time{}, nil)
			}
		},
		want: []string{"206", "205", "204", "203", "202", "201", "200"}, wantPages: 3,
	}, {
		name: "range edges: since included, until excluded", limit: 10, since: time.Minute, until: 3 * time.Minute,
		add: func(srv *hubspottest.Server) {
			for i := range 5 {
				srv.AddContactAt(strconv.Itoa(300+i), listBase.Add(time.Duration(i)*time.Minute), time.Time{}, nil)
			}
		},
		want: []string{"301", "302"}, wantPages: 1,
	}, {
		name: "result cap restarts the query", cap: 10, limit: 5, until: time.Hour,
		add: func(srv *hubspottest.Server) {
			for i := range 23 {
				srv.AddContactAt(strconv.Itoa(400+i), listBase.Add(time.Duration(i)*time.Second), time.Time{}, nil)
			}
		},
		want: seq(400, 23), wantPages: 5,
	}, {
		// Keyset paging restarts every query at the last instant listed, so
		// no query pages past the cap of 10: 23 records in 6 full pages.
		name: "result cap not a multiple of the page size", cap: 10, limit: 4, until: time.Hour,
		add: func(srv *hubspottest.Server) {
			for i := range 23 {
				srv.AddContactAt(strconv.Itoa(400+i), listBase.Add(time.Duration(i)*time.Second), time.Time{}, nil)
			}
		},
		want: seq(400, 23), wantPages: 6,
	}, {
		// 417..422 share one instant (7 s) across a page boundary: the next
		// query, from that instant, skips the ones already returned by id.
		name: "result cap with ties at the restart instant", cap: 10, limit: 5, until: time.Hour,
		add: func(srv *hubspottest.Server) {
			for i := range 20 {
				at := listBase.Add(time.Duration(i) * time.Second)
				if i >= 7 && i <= 12 {
					at = listBase.Add(7 * time.Second)
				}
				srv.AddContactAt(strconv.Itoa(410+i), at, time.Time{}, nil)
			}
		},
		want: seq(410, 20), wantPages: 4,
	}, {
		name: "modified mode reads hs_lastmodifieddate", limit: 10, modified: true, until: time.Hour,
		add: func(srv *hubspottest.Server) {
			srv.AddContactAt("500", listBase.Add(-48*time.Hour), listBase.Add(10*time.Minute), nil) // old, changed in range
			srv.AddContactAt("501", listBase.Add(5*time.Minute), listBase.Add(2*time.Hour), nil)    // created in range, changed after
			srv.AddContactAt("502", listBase.Add(-time.Hour), listBase.Add(time.Minute), nil)
		},
		want: []string{"502", "500"}, wantPages: 1,
	}, {
		name: "nothing in range", limit: 10, until: time.Hour,
		add: func(srv *hubspottest.Server) {
			srv.AddContactAt("600", listBase.Add(-time.Minute), time.Time{}, nil)
			srv.AddContactAt("601", listBase.Add(time.Hour), time.Time{}, nil)
		},
		want: nil, wantPages: 1,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := hubspottest.New(hubspottest.Options{SearchCap: tc.cap, SearchRatePerSec: 100})
			t.Cleanup(srv.Close)
			p, err := hubspot.NewWithOptions(hubspot.Options{HTTPClient: &http.Client{Timeout: 5 * time.Second}, SearchCap: tc.cap})
			if err != nil {
				t.Fatal(err)
			}
			tc.add(srv)
			creds := sdk.Credentials{hubspot.CredAccessToken: srv.Token(), hubspot.CredBaseURL: srv.URL}
			got, pages := listAll(t, p, sdk.ListRequest{Credentials: creds, ObjectType: "contact",
				Since: listBase.Add(tc.since), Until: listBase.Add(tc.until), Modified: tc.modified, Limit: tc.limit})
			if !slices.Equal(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
			if pages != tc.wantPages {
				t.Errorf("%d pages, want %d", pages, tc.wantPages)
			}
			for _, r := range srv.Requests() {
				if !strings.HasSuffix(r.Path, "/search") {
					continue
				}
				var body struct {
					Sorts []struct{ PropertyName, Direction string }
					Limit int
					After string
				}
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatal(err)
				}
				prop := "createdate"
				if tc.modified {
					prop = "hs_lastmodifieddate"
				}
				if len(body.Sorts) != 1 || body.Sorts[0].PropertyName != prop || body.Sorts[0].Direction != "ASCENDING" {
					t.Errorf("search sorts %+v, want %s ascending", body.Sorts, prop)
				}
				if n, _ := strconv.Atoi(body.After); tc.cap > 0 && n >= tc.cap {
					t.Errorf("asked for after=%s, at or past the cap %d", body.After, tc.cap)
				}
			}
		})
	}
}

// TestListRecordsDates: each listed record carries its createdate and
// hs_lastmodifieddate.
func TestListRecordsDates(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	srv.AddContactAt("700", listBase.Add(time.Minute), listBase.Add(time.Hour), nil)
	res, err := p.ListRecords(context.Background(), sdk.ListRequest{Credentials: creds, Since: listBase, Until: listBase.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.ListedRecord{{ObjectID: "700", CreatedAt: listBase.Add(time.Minute), ModifiedAt: listBase.Add(time.Hour)}}
	if !slices.Equal(res.Records, want) || res.Next != "" {
		t.Errorf("got %+v next %q, want %+v", res.Records, res.Next, want)
	}
}

// TestListRecordsErrors: the error classes ListRecords answers with.
func TestListRecordsErrors(t *testing.T) {
	ctx := context.Background()
	req := func(creds sdk.Credentials) sdk.ListRequest {
		return sdk.ListRequest{Credentials: creds, ObjectType: "contact", Since: listBase, Until: listBase.Add(time.Hour), Limit: 2}
	}
	t.Run("429 then success", func(t *testing.T) {
		p, srv, creds := setup(t, hubspottest.Options{SearchRatePerSec: 1})
		for i := range 5 {
			srv.AddContactAt(strconv.Itoa(800+i), listBase.Add(time.Duration(i)*time.Minute), time.Time{}, nil)
		}
		first, err := p.ListRecords(ctx, req(creds))
		if err != nil || len(first.Records) != 2 || first.Next == "" {
			t.Fatalf("first page: %+v, %v", first, err)
		}
		next := req(creds)
		next.Cursor = first.Next
		_, err = p.ListRecords(ctx, next)
		var se *sdk.Error
		if sdk.ClassOf(err) != sdk.ClassRateLimited || !errors.As(err, &se) || se.RetryAfter < time.Second/2 {
			t.Fatalf("second page within the second: want rate_limited with a retry-after, got %v", err)
		}
		if srv.Stats().RateLimited != 1 {
			t.Errorf("the fake answered 429 %d times, want 1", srv.Stats().RateLimited)
		}
		time.Sleep(se.RetryAfter)
		res, err := p.ListRecords(ctx, next)
		if err != nil || len(res.Records) != 2 || res.Records[0].ObjectID != "802" {
			t.Fatalf("after the wait: %+v, %v", res, err)
		}
	})
	t.Run("token rejected", func(t *testing.T) {
		p, _, creds := setup(t, hubspottest.Options{})
		creds[hubspot.CredAccessToken] = "pat-na1-wrong"
		_, err := p.ListRecords(ctx, req(creds))
		if sdk.ClassOf(err) != sdk.ClassAuth || !strings.Contains(err.Error(), "401") {
			t.Errorf("want auth (401), got %v", err)
		}
	})
	t.Run("missing scope", func(t *testing.T) {
		p, srv, creds := setup(t, hubspottest.Options{})
		srv.SetMissingScopes("crm.objects.contacts.read")
		_, err := p.ListRecords(ctx, req(creds))
		if sdk.ClassOf(err) != sdk.ClassAuth || !strings.Contains(err.Error(), "crm.objects.contacts.read") {
			t.Errorf("want auth naming the scope, got %v", err)
		}
	})
	t.Run("server error", func(t *testing.T) {
		p, srv, creds := setup(t, hubspottest.Options{})
		srv.FailNext(1, http.StatusBadGateway)
		_, err := p.ListRecords(ctx, req(creds))
		if sdk.ClassOf(err) != sdk.ClassTransient {
			t.Errorf("want transient, got %v", err)
		}
	})
	t.Run("foreign cursor", func(t *testing.T) {
		p, srv, creds := setup(t, hubspottest.Options{})
		r := req(creds)
		r.Cursor = "not-a-cursor!"
		_, err := p.ListRecords(ctx, r)
		if sdk.ClassOf(err) != sdk.ClassBadRequest || !strings.Contains(err.Error(), "cursor") {
			t.Errorf("want bad_request naming the cursor, got %v", err)
		}
		if srv.Stats().Total != 0 {
			t.Errorf("a bad cursor reached HubSpot (%d requests)", srv.Stats().Total)
		}
	})
	t.Run("empty range asks nothing", func(t *testing.T) {
		p, srv, creds := setup(t, hubspottest.Options{})
		r := req(creds)
		r.Until = r.Since
		res, err := p.ListRecords(ctx, r)
		if err != nil || len(res.Records) != 0 || res.Next != "" || srv.Stats().Total != 0 {
			t.Errorf("got %+v, %v, %d requests; want nothing", res, err, srv.Stats().Total)
		}
	})
	t.Run("unset range", func(t *testing.T) {
		p, _, creds := setup(t, hubspottest.Options{})
		r := req(creds)
		r.Since = time.Time{}
		if _, err := p.ListRecords(ctx, r); sdk.ClassOf(err) != sdk.ClassBadRequest {
			t.Errorf("want bad_request, got %v", err)
		}
	})
}
