package hubspottest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Search defaults, as HubSpot documents them for POST …/{object}/search:
// at most 200 results a page (10 when limit is unset), 10,000 results per
// query (paging past them answers 400), and a per-token rate of its own
// (4 requests a second in the changelog that raised it; the responses
// carry none of the X-HubSpot-RateLimit-* headers).
const (
	DefaultSearchCap        = 10000
	DefaultSearchRatePerSec = 4
	searchMaxLimit          = 200
	searchDefaultLimit      = 10
)

// AddContactAt stores a contact like AddContact with its createdate and
// last-modified date set explicitly (updatedAt zero: createdAt), for
// tests of listings by date.
func (s *Server) AddContactAt(id string, createdAt, updatedAt time.Time, props map[string]any) string {
	id = s.AddContact(id, props)
	if updatedAt.IsZero() {
		updatedAt = createdAt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[id]
	c.createdAt, c.updatedAt = createdAt.UTC(), updatedAt.UTC()
	return id
}

// SetModified sets a stored contact's last-modified date; false when there
// is no such contact.
func (s *Server) SetModified(id string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if ok {
		c.updatedAt = at.UTC()
	}
	return ok
}

// searchRequest is HubSpot's PublicObjectSearchRequest.
type searchRequest struct {
	FilterGroups []struct {
		Filters []searchFilter `json:"filters"`
	} `json:"filterGroups"`
	Sorts      []searchSort `json:"sorts"`
	Properties []string     `json:"properties"`
	Limit      *int         `json:"limit"`
	After      string       `json:"after"`
	Query      string       `json:"query"`
}

type searchFilter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        string   `json:"value"`
	Values       []string `json:"values"`
}

// searchSort is one sort; HubSpot also accepts a bare property name.
type searchSort struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

func (ss *searchSort) UnmarshalJSON(b []byte) error {
	var name string
	if json.Unmarshal(b, &name) == nil {
		ss.PropertyName, ss.Direction = name, "ASCENDING"
		return nil
	}
	type plain searchSort
	return json.Unmarshal(b, (*plain)(ss))
}

// SearchCount is how many search requests the server answered 200.
func (s *Server) SearchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats.Search
}

// searchAdmit applies the search API's own per-second limit.
func (s *Server) searchAdmit() bool {
	now := s.opts.Clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := now.Add(-time.Second)
	i := 0
	for i < len(s.searchWindow) && !s.searchWindow[i].After(cut) {
		i++
	}
	s.searchWindow = s.searchWindow[i:]
	if len(s.searchWindow) >= s.opts.SearchRatePerSec {
		s.stats.RateLimited++
		return false
	}
	s.searchWindow = append(s.searchWindow, now)
	return true
}

func validation(msg string) apiError {
	return apiError{Message: msg, Category: "VALIDATION_ERROR"}
}

func (s *Server) search(w http.ResponseWriter, body []byte) {
	// Search replies carry none of the rate-limit headers admit set.
	for k := range w.Header() {
		if strings.HasPrefix(k, "X-Hubspot-Ratelimit") {
			w.Header().Del(k)
		}
	}
	if !s.searchAdmit() {
		writeError(w, http.StatusTooManyRequests, rateLimitError("SECONDLY", "You have reached your secondly limit."))
		return
	}
	var req searchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, validation("Invalid input JSON on line 1: "+err.Error()))
		return
	}
	limit := searchDefaultLimit
	if req.Limit != nil {
		limit = *req.Limit
	}
	if limit < 0 || limit > searchMaxLimit {
		writeError(w, http.StatusBadRequest, validation("limit must be between 0 and 200; got "+strconv.Itoa(limit)))
		return
	}
	offset := 0
	if req.After != "" {
		n, err := strconv.Atoi(req.After)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, validation("Invalid after value "+strconv.Quote(req.After)))
			return
		}
		offset = n
	}
	if offset >= s.opts.SearchCap {
		writeError(w, http.StatusBadRequest, validation("There was a problem with the request: the search API returns at most "+strconv.Itoa(s.opts.SearchCap)+" results per query; narrow the filters to page further (after="+req.After+")"))
		return
	}
	if len(req.Sorts) > 1 {
		writeError(w, http.StatusBadRequest, validation("Only one sort is allowed per search request"))
		return
	}
	s.mu.Lock()
	var matched []*contact
	for _, id := range s.order {
		c := s.contacts[id]
		ok, msg := matchGroups(c, req)
		if msg != "" {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, validation(msg))
			return
		}
		if ok {
			matched = append(matched, c)
		}
	}
	sortContacts(matched, req.Sorts)
	total := len(matched)
	end := min(total, offset+limit)
	results := []map[string]any{}
	if offset < total {
		for _, c := range matched[offset:end] {
			obj := s.publicObject(c, req.Properties)
			if slices.Contains(req.Properties, "hs_lastmodifieddate") {
				obj["properties"].(map[string]any)["hs_lastmodifieddate"] = c.updatedAt.Format("2006-01-02T15:04:05.000Z")
			}
			results = append(results, obj)
		}
	}
	s.stats.Search++
	s.mu.Unlock()
	resp := map[string]any{"total": total, "results": results}
	if end < total {
		resp["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(end)}}
	}
	writeJSON(w, http.StatusOK, resp)
}

// matchGroups reports whether c matches any filter group (all of its
// filters); no groups match everything. msg is a 400's message.
func matchGroups(c *contact, req searchRequest) (bool, string) {
	if len(req.FilterGroups) > 5 {
		return false, "Too many filter groups: at most 5 are allowed"
	}
	if len(req.FilterGroups) == 0 {
		return true, ""
	}
	for _, g := range req.FilterGroups {
		all := true
		for _, f := range g.Filters {
			ok, msg := matchFilter(c, f)
			if msg != "" {
				return false, msg
			}
			all = all && ok
		}
		if all {
			return true, ""
		}
	}
	return false, ""
}

func matchFilter(c *contact, f searchFilter) (bool, string) {
	switch f.PropertyName {
	case "createdate", "hs_createdate", "lastmodifieddate", "hs_lastmodifieddate":
		at := c.createdAt
		if strings.Contains(f.PropertyName, "modified") {
			at = c.updatedAt
		}
		want, ok := parseFilterTime(f.Value)
		if !ok && f.Operator != "HAS_PROPERTY" && f.Operator != "NOT_HAS_PROPERTY" {
			return false, "Invalid value " + strconv.Quote(f.Value) + " for " + f.PropertyName + ": use epoch milliseconds or an ISO 8601 date"
		}
		return compareTime(at.Truncate(time.Millisecond), want, f.Operator)
	case "hs_object_id":
		id, _ := strconv.ParseInt(c.id, 10, 64)
		want, err := strconv.ParseInt(f.Value, 10, 64)
		if err != nil && f.Operator != "HAS_PROPERTY" {
			return false, "Invalid value " + strconv.Quote(f.Value) + " for hs_object_id"
		}
		return compareInt(id, want, f.Operator)
	}
	v, has := c.props[f.PropertyName]
	switch f.Operator {
	case "EQ":
		return has && strings.EqualFold(v, f.Value), ""
	case "NEQ":
		return !has || !strings.EqualFold(v, f.Value), ""
	case "HAS_PROPERTY":
		return has && v != "", ""
	case "NOT_HAS_PROPERTY":
		return !has || v == "", ""
	case "IN":
		return has && slices.ContainsFunc(f.Values, func(x string) bool { return strings.EqualFold(x, v) }), ""
	}
	return false, "Unsupported operator " + strconv.Quote(f.Operator) + " for property " + f.PropertyName
}

func parseFilterTime(v string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func compareTime(at, want time.Time, op string) (bool, string) {
	return compareInt(at.UnixMilli(), want.UnixMilli(), op)
}

func compareInt(a, b int64, op string) (bool, string) {
	switch op {
	case "EQ":
		return a == b, ""
	case "NEQ":
		return a != b, ""
	case "GT":
		return a > b, ""
	case "GTE":
		return a >= b, ""
	case "LT":
		return a < b, ""
	case "LTE":
		return a <= b, ""
	case "HAS_PROPERTY":
		return true, ""
	case "NOT_HAS_PROPERTY":
		return false, ""
	}
	return false, "Unsupported operator " + strconv.Quote(op)
}

// sortContacts orders by the one sort (ties by id, ascending), or by id.
func sortContacts(cs []*contact, sorts []searchSort) {
	byID := func(a, b *contact) int {
		x, _ := strconv.ParseInt(a.id, 10, 64)
		y, _ := strconv.ParseInt(b.id, 10, 64)
		if x != y {
			return cmp.Compare(x, y)
		}
		return strings.Compare(a.id, b.id)
	}
	if len(sorts) == 0 {
		slices.SortStableFunc(cs, byID)
		return
	}
	desc := strings.EqualFold(sorts[0].Direction, "DESCENDING")
	key := func(c *contact) string {
		switch sorts[0].PropertyName {
		case "createdate", "hs_createdate":
			return strconv.FormatInt(c.createdAt.UnixMilli(), 10)
		case "lastmodifieddate", "hs_lastmodifieddate":
			return strconv.FormatInt(c.updatedAt.UnixMilli(), 10)
		}
		return c.props[sorts[0].PropertyName]
	}
	slices.SortStableFunc(cs, func(a, b *contact) int {
		ka, kb := key(a), key(b)
		r := 0
		if na, err1 := strconv.ParseInt(ka, 10, 64); err1 == nil {
			if nb, err2 := strconv.ParseInt(kb, 10, 64); err2 == nil {
				r = cmp.Compare(na, nb)
			}
		} else {
			r = strings.Compare(ka, kb)
		}
		if desc {
			r = -r
		}
		if r == 0 {
			return byID(a, b)
		}
		return r
	})
}

// ArchiveContact archives a contact as HubSpot's DELETE does: reads and
// searches no longer find it.
func (s *Server) ArchiveContact(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.contacts, id)
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
}
