package leadsquaredtest

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// TimeLayout is how LeadSquared writes date-times in webhooks (UTC).
const TimeLayout = "2006-01-02 15:04:05"

// apiTimeLayout is how its API writes them: with milliseconds.
const apiTimeLayout = "2006-01-02 15:04:05.000"

// Lead is one lead as LeadSquared holds it: schema name → value (string,
// number, bool, time.Time or nil). Webhooks and the API render every value
// as a string or null, as LeadSquared does.
type Lead map[string]any

// LeadInput describes a lead to build with NewLead.
type LeadInput struct {
	ProspectID                 string // default: a random GUID
	AutoID                     int    // ProspectAutoId; default 3142
	FirstName, LastName, Email string
	Mobile, Phone              string // "" is sent as null
	Company, City              string // City is the custom field mx_City
	Stage                      string // ProspectStage; default "Prospect"
	Source                     string // default "Direct Traffic"
	DoNotCall                  bool
	CreatedOn, ModifiedOn      time.Time // defaults: now, CreatedOn
	// Custom adds mx_ (or any) fields as they are.
	Custom map[string]any
}

// NewLead builds a lead with the fields LeadSquared's Lead Creation
// webhook carries.
func NewLead(in LeadInput) Lead {
	if in.ProspectID == "" {
		in.ProspectID = NewProspectID()
	}
	if in.AutoID == 0 {
		in.AutoID = 3142
	}
	if in.Stage == "" {
		in.Stage = "Prospect"
	}
	if in.Source == "" {
		in.Source = "Direct Traffic"
	}
	if in.CreatedOn.IsZero() {
		in.CreatedOn = time.Now()
	}
	if in.ModifiedOn.IsZero() {
		in.ModifiedOn = in.CreatedOn
	}
	l := Lead{
		"ProspectID": in.ProspectID, "ProspectAutoId": strconv.Itoa(in.AutoID),
		"FirstName": in.FirstName, "LastName": in.LastName, "EmailAddress": in.Email,
		"Origin": "API", "Phone": nilIfEmpty(in.Phone), "Mobile": nilIfEmpty(in.Mobile),
		"Company": nilIfEmpty(in.Company), "Source": in.Source, "SourceMedium": "", "SourceCampaign": "",
		"DoNotEmail": false, "DoNotCall": in.DoNotCall, "ProspectStage": in.Stage,
		"Score": 0, "EngagementScore": 0, "TotalVisits": 0,
		"OwnerIdEmailAddress": "owner@example.com",
		"CreatedOn":           in.CreatedOn.UTC(), "ModifiedOn": in.ModifiedOn.UTC(),
	}
	if in.City != "" {
		l["mx_City"] = in.City
	}
	for k, v := range in.Custom {
		l[k] = v
	}
	return l
}

// NewProspectID returns a random GUID, the shape of LeadSquared's lead ids.
func NewProspectID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ID is the lead's ProspectID.
func (l Lead) ID() string { s, _ := l["ProspectID"].(string); return s }

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// render writes a value as LeadSquared does: strings, "1"/"0" for flags,
// plain numbers as text, times in layout, nil as null.
func render(v any, layout string) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return v
	case bool:
		if v {
			return "1"
		}
		return "0"
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case time.Time:
		return v.UTC().Format(layout)
	}
	return fmt.Sprint(v)
}

// webhookShape is the lead as a webhook renders it.
func (l Lead) webhookShape() map[string]any {
	out := make(map[string]any, len(l))
	for k, v := range l {
		out[k] = render(v, TimeLayout)
	}
	return out
}

// apiShape is the lead as the API renders it.
func (l Lead) apiShape() map[string]any {
	out := make(map[string]any, len(l))
	for k, v := range l {
		out[k] = render(v, apiTimeLayout)
	}
	return out
}

// columns is the API rendering of the asked columns, matched without
// regard to case (the API answers ProspectID to ProspectId); a column the
// lead lacks is null.
func (l Lead) columns(cols []string) map[string]any {
	out := make(map[string]any, len(cols))
	for _, c := range cols {
		name, v := c, any(nil)
		for k, val := range l {
			if strings.EqualFold(k, c) {
				name, v = k, val
				break
			}
		}
		out[name] = render(v, apiTimeLayout)
	}
	return out
}

// AddLead stores (or replaces) a lead.
func (s *Server) AddLead(l Lead) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leads[strings.ToLower(l.ID())] = l
}

// UpdateLead sets fields on a stored lead and moves its ModifiedOn to at.
func (s *Server) UpdateLead(id string, at time.Time, fields map[string]any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leads[strings.ToLower(id)]
	if !ok {
		return false
	}
	for k, v := range fields {
		l[k] = v
	}
	l["ModifiedOn"] = at.UTC()
	return true
}

// DeleteLead removes a lead.
func (s *Server) DeleteLead(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.leads, strings.ToLower(id))
}

// Field is one entry of the lead metadata.
type Field struct {
	SchemaName  string `json:"SchemaName"`
	DisplayName string `json:"DisplayName"`
	DataType    string `json:"DataType"`
	IsMandatory bool   `json:"IsMandatory"`
	MaxLength   string `json:"MaxLength"`
	RenderType  int    `json:"RenderType"`
}

// DefaultFields are the metadata of a fresh account: the system fields
// and the custom field mx_City.
func DefaultFields() []Field {
	f := func(schema, display, typ string) Field {
		return Field{SchemaName: schema, DisplayName: display, DataType: typ, MaxLength: "200"}
	}
	return []Field{
		f("ProspectID", "Lead Id", "String"), f("ProspectAutoId", "Lead Number", "Number"),
		f("FirstName", "First Name", "String"), f("LastName", "Last Name", "String"),
		f("EmailAddress", "Email", "Email"), f("Phone", "Phone Number", "Phone"),
		f("Mobile", "Mobile Number", "Phone"), f("Company", "Company", "String"),
		f("Source", "Lead Source", "Select"), f("ProspectStage", "Lead Stage", "Select"),
		f("DoNotCall", "Do Not Call", "Boolean"), f("DoNotEmail", "Do Not Email", "Boolean"),
		f("Score", "Score", "Number"), f("CreatedOn", "Created On", "DateTime"),
		f("ModifiedOn", "Modified On", "DateTime"), f("mx_City", "City", "String"),
	}
}

// AddField adds a field to the metadata (a custom mx_ field, say).
func (s *Server) AddField(f Field) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fields = append(s.fields, f)
}

// metadata serves LeadsMetaData.Get: every field, or the one schemaName
// names (an empty array when it names none).
func (s *Server) metadata(w http.ResponseWriter, schema string) {
	s.mu.Lock()
	out := []Field{}
	for _, f := range s.fields {
		if schema == "" || strings.EqualFold(f.SchemaName, schema) {
			out = append(out, f)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
