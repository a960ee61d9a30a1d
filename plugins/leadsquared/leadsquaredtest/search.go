package leadsquaredtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// LeadsGetMaxPageSize is the largest PageSize Leads.Get accepts.
const LeadsGetMaxPageSize = 1000

// leadsGet serves Leads.Get (Get Leads by Search Parameter): the leads
// whose LookupName compares to LookupValue by SqlOperator, sorted by
// Sorting (Direction 0 ascending, 1 descending; ties by ProspectAutoId,
// then ProspectID), one page (PageIndex from 1) of the asked columns, as a
// bare JSON array; [] past the last page.
func (s *Server) leadsGet(w http.ResponseWriter, body []byte) {
	var req struct {
		Parameter struct{ LookupName, LookupValue, SqlOperator string }
		Columns   struct{ Include_CSV string }
		Sorting   struct {
			ColumnName string
			Direction  json.RawMessage
		}
		Paging struct{ PageIndex, PageSize int }
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "MXInvalidInputException", "Invalid JSON: "+err.Error())
		return
	}
	p := req.Parameter
	if p.LookupName == "" {
		writeError(w, http.StatusInternalServerError, "MXMandatoryAttributeMissingException", "'LookupName' is mandatory")
		return
	}
	if !slices.Contains([]string{"=", "<", ">", "<=", ">=", "like"}, strings.ToLower(p.SqlOperator)) {
		writeError(w, http.StatusInternalServerError, "MXInvalidInputException", "Invalid SqlOperator '"+p.SqlOperator+"'")
		return
	}
	if req.Paging.PageIndex < 1 || req.Paging.PageSize < 1 || req.Paging.PageSize > LeadsGetMaxPageSize {
		writeError(w, http.StatusInternalServerError, "MXInvalidInputException", "PageIndex must be 1 or more and PageSize between 1 and "+strconv.Itoa(LeadsGetMaxPageSize))
		return
	}
	desc := strings.Trim(string(req.Sorting.Direction), `"`) == "1"
	var cols []string
	for _, c := range strings.Split(req.Columns.Include_CSV, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	isDate := strings.EqualFold(p.LookupName, "CreatedOn") || strings.EqualFold(p.LookupName, "ModifiedOn")
	var want time.Time
	if isDate {
		t, err := time.Parse(TimeLayout, strings.TrimSpace(p.LookupValue))
		if err != nil {
			writeError(w, http.StatusInternalServerError, "MXInvalidInputException", "LookupValue '"+p.LookupValue+"' is not a date-time (yyyy-MM-dd HH:mm:ss)")
			return
		}
		want = t
	}
	s.mu.Lock()
	var matched []Lead
	for _, l := range s.leads {
		v := field(l, p.LookupName)
		if isDate {
			t, _ := v.(time.Time)
			// LeadSquared compares at its stored precision: whole seconds.
			if compareOp(t.Truncate(time.Second).Compare(want), p.SqlOperator) {
				matched = append(matched, l)
			}
		} else if s, ok := render(v, apiTimeLayout).(string); ok && compareOp(strings.Compare(strings.ToLower(s), strings.ToLower(p.LookupValue)), p.SqlOperator) {
			matched = append(matched, l)
		}
	}
	sortCol := req.Sorting.ColumnName
	if sortCol == "" {
		sortCol = "ProspectAutoId"
	}
	slices.SortFunc(matched, func(a, b Lead) int {
		r := compareField(field(a, sortCol), field(b, sortCol))
		if desc {
			r = -r
		}
		if r == 0 {
			r = compareField(field(a, "ProspectAutoId"), field(b, "ProspectAutoId"))
		}
		if r == 0 {
			r = strings.Compare(a.ID(), b.ID())
		}
		return r
	})
	out := []map[string]any{}
	from := (req.Paging.PageIndex - 1) * req.Paging.PageSize
	for i := from; i < len(matched) && i < from+req.Paging.PageSize; i++ {
		if len(cols) == 0 {
			out = append(out, matched[i].apiShape())
		} else {
			out = append(out, matched[i].columns(cols))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func field(l Lead, name string) any {
	for k, v := range l {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func compareField(a, b any) int {
	if ta, ok := a.(time.Time); ok {
		tb, _ := b.(time.Time)
		return ta.Compare(tb)
	}
	sa, _ := render(a, apiTimeLayout).(string)
	sb, _ := render(b, apiTimeLayout).(string)
	if na, err := strconv.ParseFloat(sa, 64); err == nil {
		if nb, err := strconv.ParseFloat(sb, 64); err == nil {
			switch {
			case na < nb:
				return -1
			case na > nb:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(sa, sb)
}

func compareOp(c int, op string) bool {
	switch strings.ToLower(op) {
	case "=", "like":
		return c == 0
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	case ">=":
		return c >= 0
	}
	return false
}

// SetRateMax changes how many calls the server allows per 5 seconds.
func (s *Server) SetRateMax(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.RateMax = max(1, n)
}
