package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/callgate/callgate/gateway/api"
)

type agentsData struct {
	Agents []api.Agent
	// Integrations are the config's integrations, for Try the rules'
	// record id.
	Integrations []string
	Test         *rulesTestData
}

type rulesTestData struct {
	Agent       string
	Record      string
	RecordID    string
	Integration string
	Event       string
	Result      string // the report as `callgate rules test` prints it
	Error       string
}

func (d *Dashboard) agentsData(t *rulesTestData) agentsData {
	return agentsData{Agents: d.opts.API.Agents(), Integrations: api.Integrations(d.opts.Config()), Test: t}
}

func (d *Dashboard) agentsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	d.render(w, r, sess, "agents", http.StatusOK, page{Title: "Agents", Data: d.agentsData(nil)})
}

// sendTestWebhook sends an agent the contact.creation HubSpot would post
// for a contact, and says on the agents page what the gateway answered.
func (d *Dashboard) sendTestWebhook(w http.ResponseWriter, r *http.Request, sess *session) {
	agent, contact := mux.Vars(r)["id"], strings.TrimSpace(r.PostFormValue("contact_id"))
	res, err := d.opts.API.SendTestWebhook(r.Context(), agent, contact)
	msg := fmt.Sprintf("Test webhook for contact %s sent to %s: %s.", contact, agent, res.Message)
	switch {
	case res.Duplicates > 0 && res.Accepted == 0:
		msg += " It duplicates one already received, so nothing new will happen."
	case res.Accepted > 0:
		msg += " Follow it under Events, then Calls."
	}
	d.back(w, r, sess, Prefix+"agents", msg, err)
}

// testRules runs the rules test API's code on the pasted record, or on the
// record read from the CRM by id, and shows the report on the agents page
// as `callgate rules test` prints it.
func (d *Dashboard) testRules(w http.ResponseWriter, r *http.Request, sess *session) {
	t := &rulesTestData{Agent: r.PostFormValue("agent_id"), Record: r.PostFormValue("record"), Event: r.PostFormValue("event"),
		RecordID: strings.TrimSpace(r.PostFormValue("record_id")), Integration: strings.TrimSpace(r.PostFormValue("integration"))}
	body := map[string]json.RawMessage{}
	str := func(s string) json.RawMessage {
		b, _ := json.Marshal(s)
		return b
	}
	body["agent_id"] = str(t.Agent)
	if t.RecordID != "" {
		body["record_id"] = str(t.RecordID)
		body["integration"] = str(t.Integration)
	}
	if s := strings.TrimSpace(t.Record); s != "" {
		body["record"] = json.RawMessage(s)
	}
	if s := strings.TrimSpace(t.Event); s != "" {
		body["event"] = json.RawMessage(s)
	}
	status := http.StatusOK
	raw, err := json.Marshal(body)
	if err != nil {
		// One of the pasted texts is not JSON: say which.
		err = pastedJSONError(t)
	}
	var req api.RulesTest
	if err == nil {
		req, err = api.ParseRulesTest(raw)
	}
	var res api.RulesReport
	if err == nil {
		res, err = d.opts.API.TestRules(r, req)
	}
	if err != nil {
		t.Error, status = err.Error(), http.StatusBadRequest
	} else {
		t.Result = res.Text()
	}
	d.render(w, r, sess, "agents", status, page{Title: "Agents", Data: d.agentsData(t)})
}

func pastedJSONError(t *rulesTestData) error {
	for _, f := range []struct{ name, text string }{{"record", t.Record}, {"event", t.Event}} {
		if s := strings.TrimSpace(f.text); s != "" && !json.Valid([]byte(s)) {
			var v any
			err := json.Unmarshal([]byte(s), &v)
			return fmt.Errorf("%s: is not valid JSON: %v", f.name, err)
		}
	}
	return fmt.Errorf("record: is not valid JSON")
}

func (d *Dashboard) pluginsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	d.render(w, r, sess, "plugins", http.StatusOK, page{Title: "Plugins", Data: d.opts.API.PluginList(r.Context())})
}

// checkCredentials runs an integration's credential check now (the
// plugins page's Check now) and says what the CRM answered.
func (d *Dashboard) checkCredentials(w http.ResponseWriter, r *http.Request, sess *session) {
	name := mux.Vars(r)["name"]
	in, err := d.opts.API.CheckCredentials(r.Context(), name)
	msg := fmt.Sprintf("Integration %s: %s.", name, in.Credentials.Summary())
	if err == nil && !in.Credentials.OK && in.Credentials.Checked {
		err = fmt.Errorf("integration %s: %s", name, in.Credentials.Summary())
	}
	d.back(w, r, sess, Prefix+"plugins", msg, err)
}

// fieldsPage lists an integration's CRM fields, read through its plugin:
// the names an agent's rules use as contact.NAME.
func (d *Dashboard) fieldsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	name := mux.Vars(r)["name"]
	list, err := d.opts.API.Fields(r.Context(), name, r.URL.Query().Get("object_type"))
	list.Integration = name
	p := page{Title: "Fields of " + name, Nav: "plugins", Data: list}
	status := http.StatusOK
	if err != nil {
		p.Error, status = "could not list the fields: "+err.Error(), http.StatusBadGateway
		if errors.Is(err, api.ErrUnknownIntegration) {
			status = http.StatusNotFound
		}
	}
	d.render(w, r, sess, "fields", status, p)
}

func (d *Dashboard) dndPage(w http.ResponseWriter, r *http.Request, sess *session) {
	list, err := d.opts.API.ListDND(r.Context())
	p := page{Title: "Do not disturb", Data: list}
	status := http.StatusOK
	if err != nil {
		p.Error, status = "could not read the DND list: "+err.Error(), http.StatusInternalServerError
	}
	d.render(w, r, sess, "dnd", status, p)
}

func (d *Dashboard) addDND(w http.ResponseWriter, r *http.Request, sess *session) {
	res, err := d.opts.API.AddDND(r, r.PostFormValue("number"), r.PostFormValue("note"))
	msg := fmt.Sprintf("%s added to the DND list.", res.Number)
	if res.Canceled > 0 {
		msg += fmt.Sprintf(" %d pending call(s) canceled.", res.Canceled)
	}
	d.back(w, r, sess, Prefix+"dnd", msg, err)
}

func (d *Dashboard) removeDND(w http.ResponseWriter, r *http.Request, sess *session) {
	res, err := d.opts.API.RemoveDND(r.Context(), r.PostFormValue("number"))
	d.back(w, r, sess, Prefix+"dnd", res.Number+" removed from the DND list.", err)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
