package leadsquaredtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Activities posted on leads (v2 ProspectActivity.svc/Create and
// /Retrieve) and lead updates (LeadManagement.svc/Lead.Update), in
// LeadSquared's shapes: numeric event codes, "2006-01-02 15:04:05" UTC
// date-times, {"Status":"Success","Message":{"Id":…}} on success.

// DefaultActivityEvent is the custom activity type the fake knows unless
// AddActivityType adds more (LeadSquared numbers custom types from 201).
const DefaultActivityEvent = 201

// Activity is one activity on a lead.
type Activity struct {
	ID        string
	LeadID    string
	Event     int
	Note      string
	DateTime  string            // ActivityDateTime as posted
	Fields    map[string]string // SchemaName → Value
	CreatedOn time.Time
}

// Activities returns the activities posted on a lead, oldest first.
func (s *Server) Activities(leadID string) []Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Activity
	for _, a := range s.activities {
		if strings.EqualFold(a.LeadID, leadID) {
			out = append(out, a)
		}
	}
	return out
}

// AddActivityType makes code a known activity event.
func (s *Server) AddActivityType(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, code)
}

// routeActivity serves the activity and lead-update calls; false: not one.
func (s *Server) routeActivity(w http.ResponseWriter, r *http.Request, body []byte) bool {
	if r.Method != http.MethodPost {
		return false
	}
	switch r.URL.Path {
	case "/v2/ProspectActivity.svc/Create":
		s.createActivity(w, body)
	case "/v2/ProspectActivity.svc/Retrieve":
		s.retrieveActivities(w, r.URL.Query().Get("leadId"), body)
	case "/v2/LeadManagement.svc/Lead.Update":
		s.updateLead(w, r.URL.Query().Get("leadId"), body)
	default:
		return false
	}
	return true
}

func (s *Server) createActivity(w http.ResponseWriter, body []byte) {
	var in struct {
		RelatedProspectId string
		ActivityEvent     json.Number
		ActivityNote      string
		ActivityDateTime  string
		Fields            []struct{ SchemaName, Value string }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "MXInvalidInputException", "Invalid JSON: "+err.Error())
		return
	}
	code, err := strconv.Atoi(in.ActivityEvent.String())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "MXMandatoryAttributeMissingException", "'ActivityEvent' is mandatory")
		return
	}
	if in.ActivityDateTime != "" {
		if _, err := time.Parse("2006-01-02 15:04:05", in.ActivityDateTime); err != nil {
			writeError(w, http.StatusInternalServerError, "MXInvalidDateTimeFormatException", "ActivityDateTime must be yyyy-MM-dd HH:mm:ss")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.leads[strings.ToLower(in.RelatedProspectId)]; !ok {
		writeError(w, http.StatusInternalServerError, "MXInvalidEntityReferenceException", fmt.Sprintf("Lead with Id %s does not exist", in.RelatedProspectId))
		return
	}
	if code != DefaultActivityEvent && !slices.Contains(s.events, code) {
		writeError(w, http.StatusInternalServerError, "MXInvalidActivityEventException", fmt.Sprintf("Activity event %d does not exist", code))
		return
	}
	a := Activity{ID: NewProspectID(), LeadID: in.RelatedProspectId, Event: code, Note: in.ActivityNote,
		DateTime: in.ActivityDateTime, Fields: map[string]string{}, CreatedOn: s.opts.Clock().UTC()}
	for _, f := range in.Fields {
		a.Fields[f.SchemaName] = f.Value
	}
	s.activities = append(s.activities, a)
	writeJSON(w, http.StatusOK, map[string]any{"Status": "Success", "Message": map[string]string{"Id": a.ID}})
}

// retrieveActivities serves Retrieve: the lead's activities, newest
// first, filtered by ActivityEvent, a page of RowCount from Offset.
func (s *Server) retrieveActivities(w http.ResponseWriter, leadID string, body []byte) {
	var in struct {
		Parameter struct{ ActivityEvent json.Number }
		Paging    struct{ Offset, RowCount json.Number }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "MXInvalidInputException", "Invalid JSON: "+err.Error())
		return
	}
	event, _ := strconv.Atoi(in.Parameter.ActivityEvent.String())
	offset, _ := strconv.Atoi(in.Paging.Offset.String())
	rows, err := strconv.Atoi(in.Paging.RowCount.String())
	if err != nil || rows <= 0 {
		rows = 25
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.leads[strings.ToLower(leadID)]; !ok {
		writeError(w, http.StatusInternalServerError, "MXInvalidEntityReferenceException", fmt.Sprintf("Lead with Id %s does not exist", leadID))
		return
	}
	var match []Activity
	for i := len(s.activities) - 1; i >= 0; i-- {
		a := s.activities[i]
		if strings.EqualFold(a.LeadID, leadID) && (event == 0 || a.Event == event) {
			match = append(match, a)
		}
	}
	page := []map[string]any{}
	for i := offset; i < len(match) && i < offset+rows; i++ {
		a := match[i]
		data := []map[string]any{{"Key": "ActivityEvent_Note", "Value": a.Note}, {"Key": "NotableEventDescription", "Value": a.Note}}
		for k, v := range a.Fields {
			data = append(data, map[string]any{"Key": k, "Value": v})
		}
		page = append(page, map[string]any{
			"Id": a.ID, "EventCode": a.Event, "EventName": "AI Call", "ActivityScore": 0,
			"CreatedOn": a.CreatedOn.Format("2006-01-02 15:04:05"), "ActivityType": 2, "IsEmailType": false,
			"Type": "Outbound", "SessionId": a.ID, "Data": data,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"RecordCount": len(match), "ProspectActivities": page})
}

// updateLead serves Lead.Update: [{"Attribute","Value"}] onto the lead.
func (s *Server) updateLead(w http.ResponseWriter, leadID string, body []byte) {
	var in []struct{ Attribute, Value string }
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "MXInvalidInputException", "Invalid JSON: "+err.Error())
		return
	}
	fields := map[string]any{}
	for _, f := range in {
		fields[f.Attribute] = f.Value
	}
	s.mu.Lock()
	l, ok := s.leads[strings.ToLower(leadID)]
	if ok {
		for k, v := range fields {
			l[k] = v
		}
		l["ModifiedOn"] = s.opts.Clock().UTC()
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusInternalServerError, "MXInvalidEntityReferenceException", fmt.Sprintf("Lead with Id %s does not exist", leadID))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"Status": "Success", "Message": map[string]int{"AffectedRows": 1}})
}
