package hubspottest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contact is one stored record; property values are strings, as HubSpot keeps them.
type contact struct {
	id        string
	props     map[string]string
	createdAt time.Time
	updatedAt time.Time
}

// AddContact stores a contact with props (strings, numbers, bools,
// time.Time; nil leaves a property empty) and returns its id; an empty id
// gets the next free one. An hs_timezone given as an IANA name
// ("America/New_York") is stored as HubSpot stores the option, by its
// internal value (america_slash_new_york); see TimezoneValue.
func (s *Server) AddContact(id string, props map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		s.nextContact++
		id = strconv.FormatInt(s.nextContact, 10)
	}
	now := s.opts.Clock().UTC()
	c, ok := s.contacts[id]
	if !ok {
		c = &contact{id: id, props: map[string]string{}, createdAt: now}
		s.contacts[id] = c
		s.order = append(s.order, id)
	}
	c.updatedAt = now
	for k, v := range props {
		if str, set := stringValue(v); set {
			if k == "hs_timezone" {
				str = TimezoneValue(str)
			}
			c.props[k] = str
		} else {
			delete(c.props, k)
		}
	}
	return id
}

// Contact returns a stored contact's properties.
func (s *Server) Contact(id string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if !ok {
		return nil, false
	}
	out := make(map[string]string, len(c.props))
	for k, v := range c.props {
		out[k] = v
	}
	return out, true
}

// HideFor makes the contact answer as not found for its next reads reads
// (single GETs and batch reads alike): HubSpot's eventual consistency right
// after a contact.creation webhook.
func (s *Server) HideFor(id string, reads int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hidden[id] = reads
}

// TimezoneValue is the internal value of HubSpot's hs_timezone option for
// an IANA zone: lower case, "/" written _slash_ and "-" written _hyphen_
// (America/Port-au-Prince → america_slash_port_hyphen_au_hyphen_prince).
// A value without "/" is taken as an internal value already and returned
// as it is.
func TimezoneValue(iana string) string {
	if !strings.Contains(iana, "/") {
		return iana
	}
	v := strings.ToLower(iana)
	v = strings.ReplaceAll(v, "/", "_slash_")
	return strings.ReplaceAll(v, "-", "_hyphen_")
}

func stringValue(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z"), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	}
	return fmt.Sprint(v), true
}

// visible reports whether id may be read now; it spends one hidden read.
// Callers hold s.mu.
func (s *Server) visible(id string) (*contact, bool) {
	c, ok := s.contacts[id]
	if !ok {
		return nil, false
	}
	if n := s.hidden[id]; n > 0 {
		s.hidden[id] = n - 1
		return nil, false
	}
	return c, true
}

// publicObject renders HubSpot's SimplePublicObject with the requested
// properties: defined ones are present (null when empty), undefined ones
// are silently left out, and the system properties always come back.
func (s *Server) publicObject(c *contact, requested []string) map[string]any {
	if len(requested) == 0 {
		requested = []string{"firstname", "lastname", "email"}
	}
	props := map[string]any{
		"createdate":       c.createdAt.Format("2006-01-02T15:04:05.000Z"),
		"hs_object_id":     c.id,
		"lastmodifieddate": c.updatedAt.Format("2006-01-02T15:04:05.000Z"),
	}
	for _, name := range requested {
		if v, ok := c.props[name]; ok {
			props[name] = v
		} else if s.propertyIndex(name) >= 0 {
			props[name] = nil
		}
	}
	return map[string]any{
		"id":         c.id,
		"properties": props,
		"createdAt":  c.createdAt.Format("2006-01-02T15:04:05.000Z"),
		"updatedAt":  c.updatedAt.Format("2006-01-02T15:04:05.000Z"),
		"archived":   false,
	}
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	s.stats.GetContact++
	c, ok := s.visible(id)
	var obj map[string]any
	if ok {
		obj = s.publicObject(c, splitList(r.URL.Query().Get("properties")))
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, apiError{
			Message:  "Object not found.  objectId are usually numeric.",
			Context:  map[string][]any{"id": {id}},
			Category: "OBJECT_NOT_FOUND",
		})
		return
	}
	writeJSON(w, http.StatusOK, obj)
}

func (s *Server) batchRead(w http.ResponseWriter, body []byte) {
	var in struct {
		Properties []string `json:"properties"`
		Inputs     []struct {
			ID string `json:"id"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, apiError{Message: "Invalid input JSON on line 1: " + err.Error(), Category: "VALIDATION_ERROR"})
		return
	}
	started := s.opts.Clock().UTC()
	s.mu.Lock()
	s.stats.BatchRead++
	s.stats.BatchReadIDs += len(in.Inputs)
	s.stats.MaxBatchInputs = max(s.stats.MaxBatchInputs, len(in.Inputs))
	if len(in.Inputs) > 100 {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, apiError{Message: fmt.Sprintf("Batch input limit exceeded: %d inputs, the maximum is 100.", len(in.Inputs)), Category: "VALIDATION_ERROR"})
		return
	}
	results := []map[string]any{}
	var notFound []string
	for _, input := range in.Inputs {
		if c, ok := s.visible(input.ID); ok {
			results = append(results, s.publicObject(c, in.Properties))
		} else {
			notFound = append(notFound, input.ID)
		}
	}
	s.mu.Unlock()
	resp := map[string]any{
		"status":      "COMPLETE",
		"results":     results,
		"startedAt":   started.Format("2006-01-02T15:04:05.000Z"),
		"completedAt": s.opts.Clock().UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if len(notFound) == 0 {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	resp["numErrors"] = 1
	resp["errors"] = []errorEntry{{
		Status:   "error",
		Category: "OBJECT_NOT_FOUND",
		Message:  "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
		Context:  map[string][]string{"ids": notFound},
	}}
	writeJSON(w, http.StatusMultiStatus, resp)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit <= 0 {
		limit = 10
	}
	s.mu.Lock()
	s.stats.List++
	results := []map[string]any{}
	for _, id := range s.order[:min(limit, len(s.order))] {
		results = append(results, s.publicObject(s.contacts[id], splitList(r.URL.Query().Get("properties"))))
	}
	more := len(s.order) > limit
	s.mu.Unlock()
	resp := map[string]any{"results": results}
	if more {
		resp["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(limit)}}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) patchContact(w http.ResponseWriter, id string, body []byte) {
	var in struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, apiError{Message: "Invalid input JSON on line 1: " + err.Error(), Category: "VALIDATION_ERROR"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Patch++
	c, ok := s.contacts[id]
	if !ok {
		writeError(w, http.StatusNotFound, apiError{Message: "resource not found", Category: "OBJECT_NOT_FOUND", Context: map[string][]any{"id": {id}}})
		return
	}
	names := propertyNames(in.Properties)
	if e, bad := s.invalidProperties(names); bad {
		writeError(w, http.StatusBadRequest, e)
		return
	}
	for name, v := range in.Properties {
		if str, set := stringValue(v); set && str != "" {
			c.props[name] = str
		} else {
			delete(c.props, name)
		}
	}
	c.updatedAt = s.opts.Clock().UTC()
	writeJSON(w, http.StatusOK, s.publicObject(c, names))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, 8<<20))
}
