package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/callgate/callgate/gateway/reply"
	"github.com/callgate/callgate/sdk"
)

const maxRulesTestBody = 1 << 20

// maxRecordID is the longest record_id accepted: CRM ids are short.
const maxRecordID = 128

func (a *API) testRules(w http.ResponseWriter, r *http.Request) {
	if a.opts.Rules == nil {
		reply.Error(w, http.StatusNotImplemented, "rules test is not available in this server")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRulesTestBody+1))
	if err != nil {
		reply.Errorf(w, http.StatusBadRequest, "body: could not be read: %v", err)
		return
	}
	req, err := ParseRulesTest(body)
	if err != nil {
		reply.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := a.TestRules(r, req)
	if err != nil {
		a.rulesError(w, err)
		return
	}
	reply.JSON(w, http.StatusOK, res)
}

// ParseRulesTest reads and checks a rules test request body.
func ParseRulesTest(body []byte) (RulesTest, error) {
	var req RulesTest
	if len(body) > maxRulesTestBody {
		return req, fieldError("body", "is larger than %d bytes", maxRulesTestBody)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, fieldError("body", "is not valid JSON: %v; send {\"agent_id\":…,\"record\":{…}}", err)
	}
	req.AgentID = strings.TrimSpace(req.AgentID)
	if req.AgentID == "" {
		return req, fieldError("agent_id", "is required")
	}
	req.RecordID = strings.TrimSpace(req.RecordID)
	req.Integration = strings.TrimSpace(req.Integration)
	hasRecord := len(req.Record) > 0 && string(req.Record) != "null"
	switch {
	case hasRecord && req.RecordID != "":
		return req, fieldError("record_id", "give either record (the fields as JSON) or record_id (a record to read from the CRM), not both")
	case req.RecordID != "":
		if len(req.RecordID) > maxRecordID || strings.ContainsAny(req.RecordID, "/?#% \t\r\n") {
			return req, fieldError("record_id", "%s is not a record id: write the CRM's id, such as 1001", reply.Quote(req.RecordID))
		}
		req.Record = nil
	case !hasRecord:
		return req, fieldError("record", "is required: a JSON object of the record's fields (or record_id, a record to read from the CRM)")
	case !isObject(req.Record):
		return req, fieldError("record", "must be a JSON object")
	}
	if len(req.Event) > 0 && string(req.Event) != "null" && !isObject(req.Event) {
		return req, fieldError("event", "must be a JSON object")
	}
	return req, nil
}

func isObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil
}

// TestRules runs the configured RulesTester after checking the agent
// exists; the dashboard shares it with the API.
func (a *API) TestRules(r *http.Request, req RulesTest) (RulesReport, error) {
	if a.opts.Rules == nil {
		return RulesReport{}, errors.New("rules test is not available in this server")
	}
	if _, ok := a.opts.Config().Agents[req.AgentID]; !ok {
		return RulesReport{}, fieldError("agent_id", "no agent %s in the config; known: %s", reply.Quote(req.AgentID), strings.Join(agentNames(a), ", "))
	}
	return a.opts.Rules.TestRules(r.Context(), req)
}

func agentNames(a *API) []string {
	ags := a.Agents()
	names := make([]string, len(ags))
	for i, ag := range ags {
		names[i] = ag.ID
	}
	return names
}

func (a *API) rulesError(w http.ResponseWriter, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		reply.Error(w, http.StatusBadRequest, br.Error())
		return
	}
	var se *sdk.Error
	if errors.As(err, &se) {
		// The record could not be read: answered as field listings are.
		status, _ := fieldsError(err)
		if se.Class == sdk.ClassNotFound {
			status = http.StatusNotFound
		}
		reply.Errorf(w, status, "rules test: %v", err)
		return
	}
	// Compile and evaluation errors are about the input or the rules:
	// the operator needs the message itself.
	reply.Errorf(w, http.StatusUnprocessableEntity, "rules test: %v", err)
}
