package leadsquared

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// PathLeadsGet is Leads.Get (Get Leads by Search Parameter): one condition
// (LookupName, LookupValue, SqlOperator), a sort column and a page.
const PathLeadsGet = "/v2/LeadManagement.svc/Leads.Get"

const (
	// ListDefaultLimit is the page size when the host asks for none.
	ListDefaultLimit = 100
	// leadsGetMaxPageSize is the largest PageSize Leads.Get takes.
	leadsGetMaxPageSize = 1000
	maxCursorBytes      = 64 << 10
)

// listCursor is ListRecords' position, sent to the host as base64 JSON:
// the next page asks again for leads at or after Since (unix seconds,
// LeadSquared's precision) and skips Tied, the ids already returned at
// exactly that second. Every page is a fresh query from the last instant
// seen, so leads created or deleted meanwhile cannot shift a page offset
// and make one be skipped.
type listCursor struct {
	Since int64    `json:"s"`
	Tied  []string `json:"t,omitempty"`
}

func decodeCursor(s string) (listCursor, bool, error) {
	var c listCursor
	if s == "" {
		return c, false, nil
	}
	if len(s) > maxCursorBytes {
		return c, false, sdk.BadRequest("leadsquared: list cursor is %d bytes, over %d; start the listing again with an empty cursor", len(s), maxCursorBytes)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, false, sdk.BadRequest("leadsquared: list cursor is not one this plugin issued (not base64url): %v", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, false, sdk.BadRequest("leadsquared: list cursor is not one this plugin issued (not its JSON): %v", err)
	}
	if c.Since <= 0 || len(c.Tied) > leadsGetMaxPageSize {
		return c, false, sdk.BadRequest("leadsquared: list cursor has no position or too many tied ids")
	}
	return c, true, nil
}

func (c listCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

type leadsGetRequest struct {
	Parameter struct {
		LookupName  string
		LookupValue string
		SqlOperator string
	}
	Columns struct {
		IncludeCSV string `json:"Include_CSV"`
	}
	Sorting struct {
		ColumnName string
		Direction  string
	}
	Paging struct{ PageIndex, PageSize int }
}

// ListRecords lists the leads created (CreatedOn) or, with Modified, last
// modified (ModifiedOn) in [Since, Until), oldest first, through Leads.Get
// with `>=` on that column, sorted ascending by it.
func (p *Plugin) ListRecords(ctx context.Context, req sdk.ListRequest) (sdk.ListResult, error) {
	a, err := parseAccount(req.Credentials)
	if err != nil {
		return sdk.ListResult{}, err
	}
	if err := checkObjectType(req.ObjectType); err != nil {
		return sdk.ListResult{}, err
	}
	if req.Since.IsZero() || req.Until.IsZero() {
		return sdk.ListResult{}, sdk.BadRequest("leadsquared: list: since and until must both be set")
	}
	if !req.Until.After(req.Since) {
		return sdk.ListResult{}, nil
	}
	limit := req.Limit
	if limit <= 0 || limit > ListDefaultLimit {
		limit = ListDefaultLimit
	}
	cur, resumed, err := decodeCursor(req.Cursor)
	if err != nil {
		return sdk.ListResult{}, err
	}
	if !resumed {
		cur.Since = req.Since.Unix()
	}
	prop := "CreatedOn"
	if req.Modified {
		prop = "ModifiedOn"
	}
	var body leadsGetRequest
	body.Parameter.LookupName, body.Parameter.SqlOperator = prop, ">="
	body.Parameter.LookupValue = time.Unix(cur.Since, 0).UTC().Format(TimeLayout)
	body.Columns.IncludeCSV = "ProspectID,CreatedOn,ModifiedOn"
	body.Sorting.ColumnName, body.Sorting.Direction = prop, "0" // 0: ascending
	body.Paging.PageIndex, body.Paging.PageSize = 1, min(leadsGetMaxPageSize, limit+len(cur.Tied))
	var leads []map[string]any
	op := "list leads by " + prop
	if err := p.call(ctx, a, http.MethodPost, PathLeadsGet, nil, body, &leads, op); err != nil {
		return sdk.ListResult{}, err
	}
	var out sdk.ListResult
	var prev time.Time
	for _, l := range leads {
		rec, ok := listedLead(l)
		if !ok {
			p.log.Warn("LeadSquared listed a lead without an id or dates; skipped", "op", op)
			continue
		}
		at := rec.CreatedAt
		if req.Modified {
			at = rec.ModifiedAt
		}
		if at.Before(prev) {
			return sdk.ListResult{}, sdk.Permanent("leadsquared: %s: LeadSquared returned the leads out of order (%s after %s); callgate needs them oldest first", op, at.Format(TimeLayout), prev.Format(TimeLayout))
		}
		prev = at
		if !at.Before(req.Until) {
			return out, nil // past the range: done
		}
		if at.Before(req.Since) {
			continue // LeadSquared compares whole seconds
		}
		sec := at.Unix()
		if sec == cur.Since && slices.ContainsFunc(cur.Tied, func(id string) bool { return strings.EqualFold(id, rec.ObjectID) }) {
			continue // returned by an earlier page
		}
		if sec != cur.Since {
			cur.Since, cur.Tied = sec, nil
		}
		cur.Tied = append(cur.Tied, rec.ObjectID)
		out.Records = append(out.Records, rec)
		if len(out.Records) == limit {
			break
		}
	}
	if len(out.Records) < limit && len(leads) < body.Paging.PageSize {
		return out, nil // LeadSquared had no more
	}
	if len(cur.Tied) >= leadsGetMaxPageSize {
		return sdk.ListResult{}, sdk.Permanent("leadsquared: %s: more than %d leads share the second %s; Leads.Get cannot page past them", op, leadsGetMaxPageSize-1, time.Unix(cur.Since, 0).UTC().Format(TimeLayout))
	}
	out.Next = cur.encode()
	return out, nil
}

// listedLead reads one Leads.Get row.
func listedLead(l map[string]any) (sdk.ListedRecord, bool) {
	str := func(name string) string {
		for k, v := range l {
			if strings.EqualFold(k, name) {
				switch v := v.(type) {
				case string:
					return strings.TrimSpace(v)
				case json.Number:
					return v.String()
				}
			}
		}
		return ""
	}
	r := sdk.ListedRecord{ObjectID: str("ProspectID")}
	var ok bool
	if r.CreatedAt, ok = parseTime(str("CreatedOn")); !ok || r.ObjectID == "" {
		return r, false
	}
	if r.ModifiedAt, ok = parseTime(str("ModifiedOn")); !ok {
		r.ModifiedAt = r.CreatedAt
	}
	return r, true
}
