package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/store"
)

// DNDRequest is the body of POST and DELETE /api/v1/dnd. DELETE also
// accepts ?number=.
type DNDRequest struct {
	Number string `json:"number"`
	Note   string `json:"note,omitempty"`
}

// DNDResult answers an add or remove.
type DNDResult struct {
	Status   string `json:"status"`
	Message  string `json:"message"`
	Number   string `json:"number"`
	Canceled int    `json:"canceled"` // pending calls canceled by an add
}

// DNDCancelReason is recorded on calls canceled because their number was
// put on the DND list.
const DNDCancelReason = "number added to the DND list"

const maxDNDBody = 16 << 10

func (a *API) listDND(w http.ResponseWriter, r *http.Request) {
	list, err := a.ListDND(r.Context())
	if err != nil {
		a.storeError(w, "list DND", err)
		return
	}
	reply.JSON(w, http.StatusOK, DNDList{Numbers: NewDNDEntries(list)})
}

func (a *API) addDND(w http.ResponseWriter, r *http.Request) {
	req, err := readDNDRequest(r)
	if err != nil {
		reply.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := a.AddDND(r, req.Number, req.Note)
	if err != nil {
		a.storeError(w, "add DND", err)
		return
	}
	reply.JSON(w, http.StatusOK, res)
}

// AddDND normalises number, puts it on the DND list and cancels its
// pending calls. The dashboard shares it with the API.
func (a *API) AddDND(r *http.Request, number, note string) (DNDResult, error) {
	n, err := NormalizeNumber(number, a.region())
	if err != nil {
		return DNDResult{}, fieldError("number", "%v", err)
	}
	if len(note) > 500 {
		return DNDResult{}, fieldError("note", "is longer than 500 characters")
	}
	if err := a.opts.DND.AddDND(r.Context(), n, strings.TrimSpace(note), a.opts.Now().UTC()); err != nil {
		return DNDResult{}, err
	}
	canceled, err := a.opts.Canceler.CancelNumber(r.Context(), "", n, DNDCancelReason)
	if err != nil {
		// The number is on the list: the scheduler checks it before each
		// dial, so a call that was not canceled here still is not placed.
		a.opts.Logger.Warn("dnd: cancel pending calls failed", "error", err)
	}
	a.opts.Logger.Info("dnd: number added", "canceled_calls", canceled)
	return DNDResult{Status: "done", Message: "number added to the DND list", Number: n, Canceled: canceled}, nil
}

func (a *API) removeDND(w http.ResponseWriter, r *http.Request) {
	var req DNDRequest
	if q := r.URL.Query().Get("number"); q != "" {
		req.Number = q
	} else {
		var err error
		if req, err = readDNDRequest(r); err != nil {
			reply.Error(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	res, err := a.RemoveDND(r.Context(), req.Number)
	if err != nil {
		a.storeError(w, "DND number", err)
		return
	}
	reply.JSON(w, http.StatusOK, res)
}

// RemoveDND normalises number and takes it off the DND list.
func (a *API) RemoveDND(ctx context.Context, number string) (DNDResult, error) {
	n, err := NormalizeNumber(number, a.region())
	if err != nil {
		return DNDResult{}, fieldError("number", "%v", err)
	}
	if err := a.opts.DND.RemoveDND(ctx, n); err != nil {
		return DNDResult{}, err
	}
	return DNDResult{Status: "done", Message: "number removed from the DND list", Number: n}, nil
}

func readDNDRequest(r *http.Request) (DNDRequest, error) {
	var req DNDRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDNDBody+1))
	if err != nil {
		return req, fieldError("body", "could not be read: %v", err)
	}
	if len(body) > maxDNDBody {
		return req, fieldError("body", "is larger than %d bytes", maxDNDBody)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return req, fieldError("number", "is required; send {\"number\":\"+919812345678\"}")
	}
	if err := json.Unmarshal(body, &req); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return req, fieldError("body", "is not valid JSON: %v", err)
		}
		return req, fieldError("body", "%v; send {\"number\":\"+919812345678\",\"note\":\"…\"}", err)
	}
	if strings.TrimSpace(req.Number) == "" {
		return req, fieldError("number", "is required; send {\"number\":\"+919812345678\"}")
	}
	return req, nil
}

// ListDND returns the DND list, never nil.
func (a *API) ListDND(ctx context.Context) ([]store.DNDEntry, error) {
	list, err := a.opts.DND.ListDND(ctx)
	if list == nil {
		list = []store.DNDEntry{}
	}
	return list, err
}
