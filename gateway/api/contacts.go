package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/gateway/scheduler"
	"github.com/callgate/callgate/gateway/store"
)

// Eraser erases a person's data (*scheduler.Scheduler implements it; a
// CRM's privacy deletion goes through the same Erase).
type Eraser interface {
	Erase(ctx context.Context, e scheduler.Erasure) (scheduler.Erased, error)
}

// EraseRequest is the body of POST /api/v1/contacts/erase: a number, or a
// CRM record (contact_type: an integration name or a plugin type such as
// hubspot; object_id: the CRM's id).
type EraseRequest struct {
	Number      string `json:"number,omitempty"`
	ContactType string `json:"contact_type,omitempty"`
	ObjectID    string `json:"object_id,omitempty"`
	Integration string `json:"integration,omitempty"` // narrows contact_type to one integration block
	Account     string `json:"account,omitempty"`     // narrows to one CRM account (HubSpot portal)
	ObjectType  string `json:"object_type,omitempty"` // narrows to one object type (contact, lead); default any
}

// EraseReason is recorded on calls canceled by an operator's erasure.
const EraseReason = "the person's data was erased by an operator"

const maxEraseBody = 16 << 10

func (a *API) eraseContact(w http.ResponseWriter, r *http.Request) {
	req, err := readEraseRequest(r)
	if err != nil {
		reply.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	e, err := a.erasure(req)
	if err != nil {
		reply.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := a.opts.Eraser.Erase(r.Context(), e)
	if err != nil {
		a.storeError(w, "erase", err)
		return
	}
	reply.JSON(w, http.StatusOK, NewEraseResult(res))
}

// erasure checks req against the config and builds the scheduler's
// request; errors name the field.
func (a *API) erasure(req EraseRequest) (scheduler.Erasure, error) {
	e := scheduler.Erasure{Reason: EraseReason}
	if req.Number != "" {
		n, err := NormalizeNumber(req.Number, a.region())
		if err != nil {
			return e, fieldError("number", "%v", err)
		}
		e.Number = n
		return e, nil
	}
	cfg := a.opts.Config()
	// No object type given matches any (HubSpot contacts, LeadSquared
	// leads): a CRM's ids are unique enough within one integration.
	f := store.SourceFilter{Type: req.ContactType, ObjectID: req.ObjectID, Integration: req.Integration,
		Account: req.Account, ObjectType: req.ObjectType}
	var types []string
	for name, integ := range cfg.Integrations {
		typ := integ.Type
		if typ == "" {
			typ = name
		}
		types = append(types, name)
		if typ != name {
			types = append(types, typ)
		}
		if name == req.ContactType && f.Integration == "" {
			f.Type, f.Integration = typ, name
		}
	}
	slices.Sort(types)
	if !slices.Contains(types, req.ContactType) {
		return e, fieldError("contact_type", "%q is not a configured integration or its type; use one of %s", req.ContactType, strings.Join(slices.Compact(types), ", "))
	}
	if f.Integration != "" {
		integ, ok := cfg.Integrations[f.Integration]
		if !ok {
			return e, fieldError("integration", "%q is not a configured integration", f.Integration)
		}
		if typ := integ.Type; typ != "" && typ != f.Type {
			return e, fieldError("integration", "%q is of type %s, not %s", f.Integration, typ, f.Type)
		}
	}
	e.Contact = &f
	return e, nil
}

func readEraseRequest(r *http.Request) (EraseRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxEraseBody+1))
	if err != nil {
		return EraseRequest{}, fieldError("body", "could not be read: %v", err)
	}
	if len(body) > maxEraseBody {
		return EraseRequest{}, fieldError("body", "is larger than %d bytes", maxEraseBody)
	}
	return ParseEraseRequest(body)
}

// ParseEraseRequest reads the body of POST /api/v1/contacts/erase: a JSON
// object naming a number, or a contact_type and an object_id, not both.
// Errors name the field ("number: …").
func ParseEraseRequest(body []byte) (EraseRequest, error) {
	var req EraseRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return req, fieldError("body", `is not a JSON object; send {"number":"+919812345678"} or {"contact_type":"hubspot","object_id":"123"}`)
		}
		return req, fieldError("body", "%v", err)
	}
	if dec.More() {
		return req, fieldError("body", "holds more than one JSON value")
	}
	req.Number = strings.TrimSpace(req.Number)
	req.ContactType = strings.TrimSpace(req.ContactType)
	req.ObjectID = strings.TrimSpace(req.ObjectID)
	hasContact := req.ContactType != "" || req.ObjectID != ""
	switch {
	case req.Number == "" && !hasContact:
		return req, fieldError("number", `or contact_type and object_id are required; send {"number":"+919812345678"} or {"contact_type":"hubspot","object_id":"123"}`)
	case req.Number != "" && hasContact:
		return req, fieldError("number", "name a number or a contact, not both")
	case req.Number == "" && req.ContactType == "":
		return req, fieldError("contact_type", "is required with object_id (an integration name or a plugin type, e.g. hubspot)")
	case req.Number == "" && req.ObjectID == "":
		return req, fieldError("object_id", "is required with contact_type")
	case req.Number != "" && (req.Integration != "" || req.Account != "" || req.ObjectType != ""):
		return req, fieldError("number", "integration, account and object_type go with contact_type, not with a number")
	}
	return req, nil
}
