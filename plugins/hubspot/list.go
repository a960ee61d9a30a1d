package hubspot

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callgate/callgate/sdk"
)

// Listing through HubSpot's CRM search endpoint (POST …/{object}/search).
const (
	// ListDefaultLimit is the page size when the host asks for none; the
	// SDK caps pages at 100 (search itself takes up to 200).
	ListDefaultLimit = 100
	// SearchResultCap is HubSpot's limit on the results one search query
	// pages through: asking for `after` at or past it answers 400, so the
	// cursor restarts the query from the last record's timestamp first.
	SearchResultCap = 10000
	// searchInterval spaces one token's search requests: HubSpot allows
	// the search API 4 requests a second per token (below the general
	// limit, and its replies carry no rate-limit headers to learn from).
	searchInterval = 250 * time.Millisecond
	// maxCursorBytes bounds a cursor the decoder reads.
	maxCursorBytes = 64 << 10
)

// listCursor is ListRecords' position, sent to the host as base64 JSON.
// maxSearchLimit is the most records HubSpot's search returns a page.
const maxSearchLimit = 200

// After is HubSpot's paging token within the current query; Since (epoch
// ms) is where the current query starts (0: the request's Since). Last is
// the timestamp of the last record returned and Tied the ids returned at
// exactly that instant: a query restarted at Last (GTE) skips them, so a
// restart neither repeats nor loses records that share a timestamp.
type listCursor struct {
	After string   `json:"a,omitempty"`
	Since int64    `json:"s,omitempty"`
	Last  int64    `json:"l,omitempty"`
	Tied  []string `json:"t,omitempty"`
}

// decodeCursor reads a ListRecords cursor; "" is the first page.
func decodeCursor(s string) (listCursor, error) {
	var c listCursor
	if s == "" {
		return c, nil
	}
	if len(s) > maxCursorBytes {
		return c, sdk.BadRequest("hubspot: list cursor is %d bytes, over %d; start the listing again with an empty cursor", len(s), maxCursorBytes)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, sdk.BadRequest("hubspot: list cursor is not one this plugin issued (not base64url): %v", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, sdk.BadRequest("hubspot: list cursor is not one this plugin issued (not its JSON): %v", err)
	}
	if c.After != "" {
		if n, err := strconv.Atoi(c.After); err != nil || n < 0 {
			return c, sdk.BadRequest("hubspot: list cursor has paging token %q, not a non-negative number", truncate(c.After, 40))
		}
	}
	if c.Since < 0 || c.Last < 0 {
		return c, sdk.BadRequest("hubspot: list cursor has a negative timestamp")
	}
	if len(c.Tied) > 0 && c.Last == 0 {
		return c, sdk.BadRequest("hubspot: list cursor names tied ids without their timestamp")
	}
	return c, nil
}

func (c listCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// searchObject is a search result: SimplePublicObject with its dates.
type searchObject struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
}

type searchResponse struct {
	Total   int            `json:"total"`
	Results []searchObject `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// dateProperties names the created and modified properties of objectType:
// the standard objects keep createdate, the others (custom objects, leads)
// hs_createdate; hs_lastmodifieddate is on every object.
func dateProperties(objectType string) (created, modified string) {
	switch strings.ToLower(objectType) {
	case "", "contact", "contacts", "0-1", "company", "companies", "0-2", "deal", "deals", "0-3", "ticket", "tickets", "0-5":
		return "createdate", "hs_lastmodifieddate"
	}
	return "hs_createdate", "hs_lastmodifieddate"
}

// ListRecords lists the records created (or, with Modified, last modified)
// in [Since, Until), oldest first, through the CRM search endpoint.
func (p *Plugin) ListRecords(ctx context.Context, req sdk.ListRequest) (sdk.ListResult, error) {
	a, err := parseAccount(req.Credentials)
	if err != nil {
		return sdk.ListResult{}, err
	}
	objectsPath, _, err := a.objectPaths(req.ObjectType)
	if err != nil {
		return sdk.ListResult{}, err
	}
	if req.Since.IsZero() || req.Until.IsZero() {
		return sdk.ListResult{}, sdk.BadRequest("hubspot: list: since and until must both be set")
	}
	if !req.Until.After(req.Since) {
		return sdk.ListResult{}, nil
	}
	limit := req.Limit
	if limit <= 0 || limit > ListDefaultLimit {
		limit = ListDefaultLimit
	}
	cur, err := decodeCursor(req.Cursor)
	if err != nil {
		return sdk.ListResult{}, err
	}
	created, modified := dateProperties(req.ObjectType)
	prop := created
	if req.Modified {
		prop = modified
	}
	var out sdk.ListResult
	// A page whose records were all skipped as already returned asks again,
	// so the host sees records or the end; the loop is bounded by the cap.
	for range 4 {
		// Keyset paging: each query starts at the last instant listed and
		// skips the records already listed there by id, asking for that
		// many more. Only when more records than a page holds share one
		// instant does it page by offset within that instant.
		offset := len(cur.Tied)+limit > maxSearchLimit
		qlimit := limit
		if !offset {
			qlimit, cur.After = limit+len(cur.Tied), ""
		}
		since := req.Since.UnixMilli()
		if cur.Since > since {
			since = cur.Since
		}
		body := map[string]any{
			"filterGroups": []any{map[string]any{"filters": []any{
				map[string]any{"propertyName": prop, "operator": "GTE", "value": strconv.FormatInt(since, 10)},
				map[string]any{"propertyName": prop, "operator": "LT", "value": strconv.FormatInt(req.Until.UnixMilli(), 10)},
			}}},
			"sorts":      []any{map[string]any{"propertyName": prop, "direction": "ASCENDING"}},
			"properties": []string{created, modified},
			"limit":      qlimit,
		}
		if cur.After != "" {
			body["after"] = cur.After
		}
		seg := objectsPath[strings.LastIndexByte(objectsPath, '/')+1:]
		c := call{method: http.MethodPost, path: objectsPath + "/search", body: body,
			what: "search " + seg + " by " + prop, scope: "crm.objects." + seg + ".read"}
		var sr searchResponse
		if err := p.search(ctx, a, c, &sr); err != nil {
			return sdk.ListResult{}, err
		}
		full := false
		for _, o := range sr.Results {
			if !offset && len(out.Records) == limit {
				full = true // the rest comes from the next query, from cur.Last
				break
			}
			rec, ok := listed(o, created, modified)
			if !ok {
				p.log.Warn("search result without a usable date; skipped", "id", o.ID)
				continue
			}
			at := rec.CreatedAt
			if req.Modified {
				at = rec.ModifiedAt
			}
			ms := at.UnixMilli()
			if ms == cur.Last && slices.Contains(cur.Tied, o.ID) {
				continue // returned before this query restarted
			}
			if ms != cur.Last {
				cur.Last, cur.Tied = ms, nil
			}
			cur.Tied = append(cur.Tied, o.ID)
			out.Records = append(out.Records, rec)
		}
		next := ""
		if sr.Paging != nil && sr.Paging.Next != nil {
			next = sr.Paging.Next.After
		}
		if next == "" && !full {
			return out, nil // the range is exhausted
		}
		if !offset && cur.Last != 0 {
			cur.Since, cur.After = cur.Last, ""
		} else if n, err := strconv.Atoi(next); err == nil && n+limit > p.searchCap {
			// Every record so far shares one instant and the next page
			// would reach past the cap (HubSpot answers 400).
			return sdk.ListResult{}, sdk.Permanent("hubspot: %s: more than %d records share the timestamp %s; HubSpot's search cannot page past them", c.what, p.searchCap, time.UnixMilli(cur.Last).UTC().Format(time.RFC3339Nano))
		} else {
			cur.After = next
		}
		if len(out.Records) > 0 {
			out.Next = cur.encode()
			return out, nil
		}
	}
	out.Next = cur.encode()
	return out, nil
}

// listed turns a search result into a ListedRecord; false without a
// readable created date.
func listed(o searchObject, created, modified string) (sdk.ListedRecord, bool) {
	r := sdk.ListedRecord{ObjectID: o.ID}
	var ok bool
	if r.CreatedAt, ok = parseDate(o.Properties[created], o.CreatedAt); !ok {
		return r, false
	}
	if r.ModifiedAt, ok = parseDate(o.Properties[modified], o.UpdatedAt); !ok {
		r.ModifiedAt = r.CreatedAt
	}
	return r, o.ID != ""
}

// parseDate reads a datetime property (ISO 8601, or epoch ms as older
// objects return it), falling back to the object's own field.
func parseDate(prop *string, fallback string) (time.Time, bool) {
	for _, v := range []string{deref(prop), fallback} {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.UnixMilli(ms).UTC(), true
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// searchGate spaces one token's search requests searchInterval apart and
// holds them after a search 429.
type searchGate struct {
	mu   sync.Mutex
	next time.Time
}

var searchGates sync.Map // token hash → *searchGate

func gateFor(a account) *searchGate {
	g, _ := searchGates.LoadOrStore(a.tokenKey, &searchGate{})
	return g.(*searchGate)
}

// wait takes the next search slot, or fails when it comes after ctx's
// deadline.
func (g *searchGate) wait(ctx context.Context, c call) error {
	g.mu.Lock()
	now := time.Now()
	at := g.next
	if at.Before(now) {
		at = now
	}
	if d, ok := ctx.Deadline(); ok && at.After(d) {
		g.mu.Unlock()
		return sdk.RateLimited(at.Sub(now), "hubspot: %s: the search API's rate limit would delay this request past its deadline", c.what)
	}
	g.next = at.Add(searchInterval)
	g.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return sdk.Transient("hubspot: %s: %v", c.what, ctx.Err())
		}
	}
	return nil
}

func (g *searchGate) hold(until time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.next) {
		g.next = until
	}
}

// search sends one search request through the search gate and the
// account's limiter. A 429 from search is its per-second limit (unless it
// names the daily one): the gate holds search for a second, or for
// Retry-After, and the rest of the API is not paused.
func (p *Plugin) search(ctx context.Context, a account, c call, out *searchResponse) error {
	g := gateFor(a)
	if err := g.wait(ctx, c); err != nil {
		return err
	}
	res, err := p.do(ctx, a, c)
	if err != nil {
		return err
	}
	if res.status == http.StatusTooManyRequests {
		e := parseAPIError(res.body)
		if e.PolicyName != "DAILY" && !strings.Contains(strings.ToLower(e.Message), "daily") {
			wait := retryAfter(res.header, time.Now())
			if wait <= 0 {
				wait = time.Second
			}
			g.hold(time.Now().Add(wait))
			return sdk.RateLimited(wait, "hubspot: %s: the search API's per-second limit was reached (429 %s); retry in %s", c.what, orDefault(e.PolicyName, "rate limit"), wait)
		}
	}
	if res.status < 200 || res.status > 299 {
		return p.statusError(a, c, res)
	}
	if err := json.Unmarshal(res.body, out); err != nil {
		return sdk.Transient("hubspot: %s: HubSpot answered %d with a body that is not the search JSON (%v); retrying", c.what, res.status, err)
	}
	return nil
}
