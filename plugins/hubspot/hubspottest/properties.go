package hubspottest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Property is a contact property definition as the properties API serves it.
type Property struct {
	Name           string `json:"name"`
	Label          string `json:"label"`
	Type           string `json:"type"`
	FieldType      string `json:"fieldType"`
	GroupName      string `json:"groupName"`
	Description    string `json:"description"`
	HubspotDefined bool   `json:"hubspotDefined,omitempty"`
	Calculated     bool   `json:"calculated"`
	// Options are an enumeration's values; HubSpot sends [] for others.
	Options []Option `json:"options"`
}

// Option is one value of an enumeration property, as HubSpot serves it.
type Option struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	Description  string `json:"description,omitempty"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

type property struct {
	Property
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
	FormField    bool   `json:"formField"`
	CreatedAt    string `json:"createdAt"`
	UpdatedAt    string `json:"updatedAt"`
}

// options builds an enumeration's options from value, label pairs.
func options(pairs ...string) []Option {
	out := make([]Option, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Option{Value: pairs[i], Label: pairs[i+1], DisplayOrder: i / 2})
	}
	return out
}

// defaultProperties are a portal's standard contact properties, with the
// types HubSpot gives them.
func defaultProperties() []property {
	defs := []Property{
		{Name: "email", Label: "Email", Type: "string", FieldType: "text"},
		{Name: "firstname", Label: "First Name", Type: "string", FieldType: "text"},
		{Name: "lastname", Label: "Last Name", Type: "string", FieldType: "text"},
		{Name: "phone", Label: "Phone Number", Type: "string", FieldType: "phonenumber"},
		{Name: "mobilephone", Label: "Mobile Phone Number", Type: "string", FieldType: "phonenumber"},
		{Name: "hs_calculated_phone_number", Label: "Calculated Phone Number", Type: "string", FieldType: "phonenumber", Calculated: true},
		{Name: "hs_calculated_mobile_number", Label: "Calculated Mobile Number", Type: "string", FieldType: "phonenumber", Calculated: true},
		{Name: "company", Label: "Company Name", Type: "string", FieldType: "text"},
		{Name: "country", Label: "Country/Region", Type: "string", FieldType: "text"},
		{Name: "hs_timezone", Label: "Time Zone", Type: "enumeration", FieldType: "select"},
		{Name: "lifecyclestage", Label: "Lifecycle Stage", Type: "enumeration", FieldType: "radio", Options: options(
			"subscriber", "Subscriber", "lead", "Lead", "marketingqualifiedlead", "Marketing Qualified Lead",
			"salesqualifiedlead", "Sales Qualified Lead", "opportunity", "Opportunity", "customer", "Customer",
			"evangelist", "Evangelist", "other", "Other")},
		{Name: "hs_lead_status", Label: "Lead Status", Type: "enumeration", FieldType: "radio", Options: options(
			"NEW", "New", "OPEN", "Open", "IN_PROGRESS", "In Progress", "OPEN_DEAL", "Open Deal",
			"UNQUALIFIED", "Unqualified", "ATTEMPTED_TO_CONTACT", "Attempted to Contact", "CONNECTED", "Connected",
			"BAD_TIMING", "Bad Timing")},
		{Name: "numemployees", Label: "Number of Employees", Type: "enumeration", FieldType: "select"},
		{Name: "annualrevenue", Label: "Annual Revenue", Type: "string", FieldType: "text"},
		{Name: "hs_object_id", Label: "Record ID", Type: "number", FieldType: "number", Calculated: true},
		{Name: "num_associated_deals", Label: "Number of Associated Deals", Type: "number", FieldType: "number", Calculated: true},
		{Name: "hs_is_unworked", Label: "Contact unworked", Type: "bool", FieldType: "calculation_equation", Calculated: true},
		{Name: "hs_email_optout", Label: "Unsubscribed from all email", Type: "enumeration", FieldType: "booleancheckbox"},
		{Name: "createdate", Label: "Create Date", Type: "datetime", FieldType: "date"},
		{Name: "lastmodifieddate", Label: "Last Modified Date", Type: "datetime", FieldType: "date"},
		{Name: "date_of_birth", Label: "Date of birth", Type: "string", FieldType: "text"},
	}
	out := make([]property, len(defs))
	for i, d := range defs {
		d.GroupName = "contactinformation"
		d.HubspotDefined = true
		if d.Options == nil {
			d.Options = []Option{}
		}
		out[i] = property{Property: d, DisplayOrder: i, FormField: true, CreatedAt: "2019-08-06T02:41:52.603Z", UpdatedAt: "2019-08-06T02:41:52.603Z"}
	}
	return out
}

// AddProperty defines (or replaces) a contact property.
func (s *Server) AddProperty(p Property) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.GroupName == "" {
		p.GroupName = "contactinformation"
	}
	if p.Options == nil {
		p.Options = []Option{}
	}
	np := property{Property: p, DisplayOrder: -1, CreatedAt: s.opts.Clock().UTC().Format("2006-01-02T15:04:05.000Z")}
	np.UpdatedAt = np.CreatedAt
	if i := s.propertyIndex(p.Name); i >= 0 {
		s.props[i] = np
		return
	}
	s.props = append(s.props, np)
}

// HasProperty reports whether a contact property is defined.
func (s *Server) HasProperty(name string) (Property, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.propertyIndex(name); i >= 0 {
		return s.props[i].Property, true
	}
	return Property{}, false
}

// propertyIndex finds a property; callers hold s.mu.
func (s *Server) propertyIndex(name string) int {
	for i, p := range s.props {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func (s *Server) listProperties(w http.ResponseWriter) {
	s.mu.Lock()
	s.stats.ListProperties++
	results := append([]property(nil), s.props...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

func (s *Server) createProperty(w http.ResponseWriter, body []byte) {
	var p Property
	if err := json.Unmarshal(body, &p); err != nil || p.Name == "" || p.Type == "" || p.FieldType == "" || p.GroupName == "" || p.Label == "" {
		writeError(w, http.StatusBadRequest, apiError{Message: "Invalid input: name, label, type, fieldType and groupName are required.", Category: "VALIDATION_ERROR"})
		return
	}
	s.mu.Lock()
	s.stats.CreateProperty++
	exists := s.propertyIndex(p.Name) >= 0
	s.mu.Unlock()
	if exists {
		writeError(w, http.StatusConflict, apiError{Message: fmt.Sprintf("A property named '%s' already exists.", p.Name), Category: "OBJECT_ALREADY_EXISTS"})
		return
	}
	s.AddProperty(p)
	prop, _ := s.HasProperty(p.Name)
	writeJSON(w, http.StatusCreated, prop)
}
