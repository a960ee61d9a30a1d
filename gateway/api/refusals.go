package api

import (
	"net/http"
	"strconv"

	"github.com/callgate/callgate/gateway/refused"
	"github.com/callgate/callgate/gateway/reply"
)

// Refusals are the requests the public endpoints refused lately
// (*refused.Log implements it).
type Refusals interface {
	Recent(limit int) []refused.Refusal
}

// RefusalList is the body of GET /api/v1/refusals.
type RefusalList struct {
	Refusals []refused.Refusal `json:"refusals"`
}

// RecentRefusals lists up to limit refusals, newest first (none when the
// gateway keeps no log of them).
func (a *API) RecentRefusals(limit int) RefusalList {
	out := RefusalList{Refusals: []refused.Refusal{}}
	if a.opts.Refusals != nil {
		out.Refusals = append(out.Refusals, a.opts.Refusals.Recent(limit)...)
	}
	return out
}

func (a *API) listRefusals(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			reply.Errorf(w, http.StatusBadRequest, "limit: %s is not a positive whole number", reply.Quote(s))
			return
		}
		limit = n
	}
	reply.JSON(w, http.StatusOK, a.RecentRefusals(limit))
}
