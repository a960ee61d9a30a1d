package hubspottest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The engagements callgate logs: Call and Task objects (CRM v3
// objects/calls and objects/tasks), created with an associations array
// and found again through their search endpoints, as HubSpot does it.

// Association type ids HubSpot defines (HUBSPOT_DEFINED) for the
// engagements callgate creates.
const (
	AssocCallToContact = 194
	AssocTaskToContact = 204
)

// DefaultOwnerID is the one HubSpot user (owner) the fake knows unless
// AddOwner adds more: tasks assigned to anyone else answer 400.
const DefaultOwnerID = "41629779"

// Activity is a Call or Task object as the fake holds it.
type Activity struct {
	ID         string
	Type       string            // "calls" or "tasks"
	Properties map[string]string // as written, plus hs_createdate
	Contacts   []string          // associated contact ids
	CreatedAt  time.Time
}

// Calls returns the Call objects associated to a contact, oldest first: the
// contact's call timeline.
func (s *Server) Calls(contactID string) []Activity { return s.activities("calls", contactID) }

// Tasks returns the Task objects associated to a contact, oldest first.
func (s *Server) Tasks(contactID string) []Activity { return s.activities("tasks", contactID) }

func (s *Server) activities(typ, contactID string) []Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Activity
	for _, a := range s.engagements {
		if a.Type == typ && slices.Contains(a.Contacts, contactID) {
			c := *a
			c.Properties = cloneStrings(a.Properties)
			c.Contacts = slices.Clone(a.Contacts)
			out = append(out, c)
		}
	}
	return out
}

// AddOwner makes id a valid hubspot_owner_id.
func (s *Server) AddOwner(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners = append(s.owners, id)
}

// SetGrantedScopes sets the scopes the token-info endpoint reports for the
// token (default: every scope callgate uses). Unlike SetMissingScopes it
// makes no call fail: it is what a check reads before the first call.
func (s *Server) SetGrantedScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.granted = slices.Clone(scopes)
}

// DefaultScopes are the scopes the fake's token has by default.
var DefaultScopes = []string{"crm.objects.contacts.read", "crm.objects.contacts.write", "crm.schemas.contacts.read", "crm.schemas.contacts.write", "oauth"}

// routeActivity serves the calls and tasks endpoints; false: not one of them.
func (s *Server) routeActivity(w http.ResponseWriter, r *http.Request, path string, body []byte) bool {
	if path == "/oauth/v2/private-apps/get/access-token-info" && r.Method == http.MethodPost {
		s.tokenInfo(w, body)
		return true
	}
	for _, typ := range []string{"calls", "tasks"} {
		base := swapLast(s.opts.ObjectsPath, typ)
		switch {
		case path == base && r.Method == http.MethodPost:
			s.createActivity(w, typ, body)
			return true
		case path == base+"/search" && r.Method == http.MethodPost:
			s.searchActivities(w, typ, body)
			return true
		case strings.HasPrefix(path, base+"/") && r.Method == http.MethodGet && !strings.Contains(path[len(base)+1:], "/"):
			s.getActivity(w, typ, path[len(base)+1:])
			return true
		}
	}
	return false
}

func swapLast(path, seg string) string {
	i := strings.LastIndexByte(path, '/')
	return path[:i+1] + seg
}

// tokenInfo is POST /oauth/v2/private-apps/get/access-token-info: a
// private app token's account, user and scopes.
func (s *Server) tokenInfo(w http.ResponseWriter, body []byte) {
	var in struct {
		TokenKey string `json:"tokenKey"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.TokenKey == "" {
		writeError(w, http.StatusBadRequest, validation("tokenKey is required"))
		return
	}
	if in.TokenKey != s.opts.Token {
		writeError(w, http.StatusUnauthorized, apiError{Message: "The access token is invalid or expired.", Category: "INVALID_AUTHENTICATION"})
		return
	}
	s.mu.Lock()
	scopes := slices.Clone(s.granted)
	s.mu.Unlock()
	if scopes == nil {
		scopes = slices.Clone(DefaultScopes)
	}
	writeJSON(w, http.StatusOK, map[string]any{"userId": 41629779, "hubId": 62515, "appId": 2853421, "scopes": scopes})
}

// activityInput is HubSpot's SimplePublicObjectInputForCreate.
type activityInput struct {
	Properties   map[string]any `json:"properties"`
	Associations []struct {
		To struct {
			ID string `json:"id"`
		} `json:"to"`
		Types []struct {
			AssociationCategory string `json:"associationCategory"`
			AssociationTypeID   int    `json:"associationTypeId"`
		} `json:"types"`
	} `json:"associations"`
}

// createActivity is POST /crm/v3/objects/{calls,tasks}: 201 with the new
// object; 400 VALIDATION_ERROR without hs_timestamp, for an owner the
// account does not have, a recording URL that is not HTTPS, or an
// association to a contact that does not exist or of the wrong type.
func (s *Server) createActivity(w http.ResponseWriter, typ string, body []byte) {
	var in activityInput
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, validation("Invalid input JSON on line 1: "+err.Error()))
		return
	}
	props := map[string]string{}
	for k, v := range in.Properties {
		str, ok := stringValue(v)
		if !ok {
			writeError(w, http.StatusBadRequest, validation(fmt.Sprintf("Property %q has a value of the wrong type", k)))
			return
		}
		props[k] = str
	}
	wantAssoc := AssocCallToContact
	if typ == "tasks" {
		wantAssoc = AssocTaskToContact
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, bad := s.invalidActivity(typ, props); bad {
		writeError(w, http.StatusBadRequest, e)
		return
	}
	var contacts []string
	for _, as := range in.Associations {
		if _, ok := s.contacts[as.To.ID]; !ok {
			writeError(w, http.StatusBadRequest, apiError{Message: fmt.Sprintf("No contact with ID %s exists", as.To.ID), Category: "VALIDATION_ERROR",
				Errors: []errorEntry{{Message: "one or more associations are invalid", Code: "INVALID_ASSOCIATION"}}})
			return
		}
		for _, t := range as.Types {
			if t.AssociationCategory != "HUBSPOT_DEFINED" || t.AssociationTypeID != wantAssoc {
				writeError(w, http.StatusBadRequest, validation(fmt.Sprintf("%s %d is not a valid association type between %s and contacts", t.AssociationCategory, t.AssociationTypeID, typ)))
				return
			}
		}
		contacts = append(contacts, as.To.ID)
	}
	now := s.opts.Clock().UTC()
	s.nextContact++
	a := &Activity{ID: strconv.FormatInt(s.nextContact*1000+7, 10), Type: typ, Properties: props, Contacts: contacts, CreatedAt: now}
	props["hs_createdate"] = now.Format("2006-01-02T15:04:05.000Z")
	props["hs_object_id"] = a.ID
	s.engagements = append(s.engagements, a)
	s.stats.Create++
	writeJSON(w, http.StatusCreated, activityObject(a, nil))
}

// invalidActivity is HubSpot's 400 for a create it refuses. s.mu is held.
func (s *Server) invalidActivity(typ string, props map[string]string) (apiError, bool) {
	var invalid []map[string]any
	bad := func(name, code, msg string) {
		invalid = append(invalid, map[string]any{"isValid": false, "message": msg, "error": code, "name": name, "localizedErrorMessage": msg, "portalId": 62515})
	}
	if props["hs_timestamp"] == "" {
		bad("hs_timestamp", "REQUIRED_FIELD", "hs_timestamp is required")
	} else if _, ok := parseFilterTime(props["hs_timestamp"]); !ok {
		bad("hs_timestamp", "INVALID_DATE", fmt.Sprintf("%q is not a valid timestamp", props["hs_timestamp"]))
	}
	if o := props["hubspot_owner_id"]; o != "" && o != DefaultOwnerID && !slices.Contains(s.owners, o) {
		bad("hubspot_owner_id", "INVALID_OWNER_ID", fmt.Sprintf("%s is not a valid owner id", o))
	}
	if typ == "calls" {
		if u := props["hs_call_recording_url"]; u != "" && !strings.HasPrefix(u, "https://") {
			bad("hs_call_recording_url", "INVALID_URL", "Only HTTPS recording URLs are accepted")
		}
		if d := props["hs_call_duration"]; d != "" {
			if _, err := strconv.ParseInt(d, 10, 64); err != nil {
				bad("hs_call_duration", "INVALID_INTEGER", fmt.Sprintf("%q is not a valid number of milliseconds", d))
			}
		}
		if st := props["hs_call_status"]; st != "" && !slices.Contains(callStatuses, st) {
			bad("hs_call_status", "INVALID_OPTION", fmt.Sprintf("%q was not one of the allowed options", st))
		}
		if d := props["hs_call_direction"]; d != "" && d != "OUTBOUND" && d != "INBOUND" {
			bad("hs_call_direction", "INVALID_OPTION", fmt.Sprintf("%q was not one of the allowed options", d))
		}
	}
	if typ == "tasks" {
		if st := props["hs_task_status"]; st != "" && !slices.Contains([]string{"NOT_STARTED", "IN_PROGRESS", "WAITING", "DEFERRED", "COMPLETED"}, st) {
			bad("hs_task_status", "INVALID_OPTION", fmt.Sprintf("%q was not one of the allowed options", st))
		}
	}
	if len(invalid) == 0 {
		return apiError{}, false
	}
	list, _ := json.Marshal(invalid)
	return apiError{Message: "Property values were not valid: " + string(list), Category: "VALIDATION_ERROR"}, true
}

// callStatuses are hs_call_status's options.
var callStatuses = []string{"BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED", "IN_PROGRESS", "MISSED", "NO_ANSWER", "QUEUED", "RINGING"}

func activityObject(a *Activity, requested []string) map[string]any {
	props := map[string]any{}
	for k, v := range a.Properties {
		if requested == nil || slices.Contains(requested, k) || k == "hs_object_id" || k == "hs_createdate" {
			props[k] = v
		}
	}
	at := a.CreatedAt.Format("2006-01-02T15:04:05.000Z")
	return map[string]any{"id": a.ID, "properties": props, "createdAt": at, "updatedAt": at, "archived": false}
}

func (s *Server) getActivity(w http.ResponseWriter, typ, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.engagements {
		if a.Type == typ && a.ID == id {
			writeJSON(w, http.StatusOK, activityObject(a, nil))
			return
		}
	}
	writeError(w, http.StatusNotFound, apiError{Message: "Object not found.  objectId are usually numeric.", Category: "OBJECT_NOT_FOUND"})
}

// searchActivities is POST /crm/v3/objects/{calls,tasks}/search, with EQ
// filters on properties and the associations.contact pseudo-property,
// under the search API's own rate limit.
func (s *Server) searchActivities(w http.ResponseWriter, typ string, body []byte) {
	if !s.searchAdmit() {
		writeError(w, http.StatusTooManyRequests, rateLimitError("SECONDLY", "You have reached your secondly limit."))
		return
	}
	var req searchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, validation("Invalid input JSON on line 1: "+err.Error()))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	results := []map[string]any{}
	for _, a := range s.engagements {
		if a.Type != typ {
			continue
		}
		ok, msg := matchActivity(a, req)
		if msg != "" {
			writeError(w, http.StatusBadRequest, validation(msg))
			return
		}
		if ok {
			results = append(results, activityObject(a, req.Properties))
		}
	}
	s.stats.Search++
	writeJSON(w, http.StatusOK, map[string]any{"total": len(results), "results": results})
}

func matchActivity(a *Activity, req searchRequest) (bool, string) {
	if len(req.FilterGroups) == 0 {
		return true, ""
	}
	for _, g := range req.FilterGroups {
		all := true
		for _, f := range g.Filters {
			var ok bool
			switch {
			case f.Operator != "EQ":
				return false, "Unsupported operator " + strconv.Quote(f.Operator) + " in this fake: callgate searches engagements with EQ"
			case f.PropertyName == "associations.contact":
				ok = slices.Contains(a.Contacts, f.Value)
			case f.PropertyName == "hs_timestamp":
				at, okA := parseFilterTime(a.Properties["hs_timestamp"])
				want, okW := parseFilterTime(f.Value)
				ok = okA && okW && at.Equal(want)
			default:
				ok = a.Properties[f.PropertyName] == f.Value
			}
			all = all && ok
		}
		if all {
			return true, ""
		}
	}
	return false, ""
}

func cloneStrings(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
