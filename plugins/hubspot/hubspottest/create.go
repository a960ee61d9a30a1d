package hubspottest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// createContact is POST /crm/v3/objects/contacts: HubSpot answers 201 with
// the new object, or 400 VALIDATION_ERROR naming properties the account
// does not have. It fires no webhook: the caller sends contact.creation
// (callgate webhook send), as HubSpot would a moment later.
func (s *Server) createContact(w http.ResponseWriter, body []byte) {
	var in struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, apiError{Message: "Invalid input JSON on line 1: " + err.Error(), Category: "VALIDATION_ERROR"})
		return
	}
	names := propertyNames(in.Properties)
	s.mu.Lock()
	e, bad := s.invalidProperties(names)
	s.mu.Unlock()
	if bad {
		writeError(w, http.StatusBadRequest, e)
		return
	}
	id := s.AddContact("", in.Properties)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Create++
	writeJSON(w, http.StatusCreated, s.publicObject(s.contacts[id], names))
}

func propertyNames(props map[string]any) []string {
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// invalidProperties is HubSpot's 400 for writes to properties the account
// does not define. s.mu must be held.
func (s *Server) invalidProperties(names []string) (apiError, bool) {
	var invalid []map[string]any
	for _, name := range names {
		if s.propertyIndex(name) < 0 {
			msg := fmt.Sprintf("Property \"%s\" does not exist", name)
			invalid = append(invalid, map[string]any{"isValid": false, "message": msg, "error": "PROPERTY_DOESNT_EXIST", "name": name, "localizedErrorMessage": msg, "portalId": 62515})
		}
	}
	if len(invalid) == 0 {
		return apiError{}, false
	}
	list, _ := json.Marshal(invalid)
	return apiError{Message: "Property values were not valid: " + string(list), Category: "VALIDATION_ERROR"}, true
}
