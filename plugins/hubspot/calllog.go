package hubspot

import (
	"context"
	"errors"
	"html"
	"net/http"
	"slices"

	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// HubSpot's Call and Task engagements (CRM v3 objects/calls and
// objects/tasks, developers.hubspot.com/docs/api/crm/calls and …/tasks),
// created with an associations array that puts them on the contact's
// timeline.

// Association type ids HubSpot defines (associationCategory HUBSPOT_DEFINED).
const (
	AssocCallToContact = 194
	AssocTaskToContact = 204
)

// PropCallKey is the Call property that carries callgate's idempotency key
// ("<call id>-<attempt n>"): LogCall searches it before it creates, so a
// retry never logs a second Call.
const PropCallKey = "hs_call_external_id"

// Dispositions are HubSpot's default call outcomes (hs_call_disposition
// takes their internal GUIDs; GET /calling/v1/dispositions lists an
// account's, custom ones included). An agent's writeback block overrides
// them per outcome.
var Dispositions = map[string]string{
	"completed": "f240bbac-87c9-4f6e-bf70-924b57d47db7", // Connected
	"no_answer": "73a0d17f-1163-4015-bdd5-ec830791da20", // No answer
	"busy":      "9d9162e7-6cf3-4944-bf63-4dff82258764", // Busy
	"voicemail": "b2cf5968-551e-4856-9783-52b3da59a7d0", // Left voicemail
}

// callStatus maps callgate's outcome to hs_call_status.
var callStatus = map[string]string{
	"completed": "COMPLETED",
	"voicemail": "COMPLETED", // the call reached a voicemail box and ended normally
	"no_answer": "NO_ANSWER",
	"busy":      "BUSY",
	"failed":    "FAILED",
	"canceled":  "CANCELED",
}

// Scopes a call log needs (the calls and tasks APIs ask for the contacts
// scopes; the search before the create reads).
var logCallScopes = []string{"crm.objects.contacts.read", "crm.objects.contacts.write"}

// LogCall logs the attempt as a Call on the contact's timeline, creates the
// follow-up tasks and sets the follow-up properties, each exactly once: it
// finds the Call by hs_call_external_id and each task by subject, due time
// and contact before it creates them.
func (p *Plugin) LogCall(ctx context.Context, req sdk.LogCallRequest) (sdk.LogCallResult, error) {
	a, err := parseAccount(req.Credentials)
	if err != nil {
		return sdk.LogCallResult{}, err
	}
	if req.CheckOnly {
		return sdk.LogCallResult{}, p.checkScopes(ctx, a, "logging calls on the contact's timeline", logCallScopes)
	}
	if strings.TrimSpace(req.Key) == "" {
		return sdk.LogCallResult{}, sdk.BadRequest("hubspot: log call: no idempotency key")
	}
	if strings.TrimSpace(req.ObjectID) == "" {
		return sdk.LogCallResult{}, sdk.BadRequest("hubspot: log call %s: no contact id", req.Key)
	}
	if t := strings.ToLower(req.ObjectType); t != "" && t != "contact" && t != "contacts" && t != "0-1" {
		return sdk.LogCallResult{}, sdk.Permanent("hubspot: log call %s: calls are logged on contacts, not %q", req.Key, truncate(req.ObjectType, 40))
	}
	var res sdk.LogCallResult
	if res.ActivityID, err = p.ensureCall(ctx, a, req); err != nil {
		return sdk.LogCallResult{}, err
	}
	for _, t := range req.Tasks {
		id, err := p.ensureTask(ctx, a, req, t)
		if err != nil {
			return sdk.LogCallResult{}, err
		}
		res.TaskIDs = append(res.TaskIDs, id)
	}
	if len(req.Properties) > 0 {
		err := p.UpdateRecord(ctx, sdk.UpdateRequest{Credentials: req.Credentials, ObjectType: "contact", ObjectID: req.ObjectID, Fields: req.Properties})
		if err != nil {
			return sdk.LogCallResult{}, err
		}
		for name := range req.Properties {
			res.Updated = append(res.Updated, name)
		}
		slices.Sort(res.Updated)
	}
	return res, nil
}

// ensureCall returns the id of the Call carrying req.Key, creating it when
// the search finds none.
func (p *Plugin) ensureCall(ctx context.Context, a account, req sdk.LogCallRequest) (string, error) {
	path := swapLast(a.objectsPath, "calls")
	id, err := p.findOne(ctx, a, path, "find call "+req.Key, []searchFilter{{PropertyName: PropCallKey, Operator: "EQ", Value: req.Key}})
	if err != nil || id != "" {
		return id, err
	}
	var out struct {
		ID string `json:"id"`
	}
	_, err = p.doJSON(ctx, a, call{
		method: http.MethodPost, path: path,
		body:  map[string]any{"properties": callProperties(req, p.now()), "associations": associate(req.ObjectID, AssocCallToContact)},
		what:  "log call " + req.Key + " on contact " + req.ObjectID,
		scope: "crm.objects.contacts.write",
	}, &out)
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", sdk.Transient("hubspot: log call %s: HubSpot answered without the new call's id; retrying finds it", req.Key)
	}
	p.log.Debug("logged call", "call", out.ID, "contact", req.ObjectID)
	return out.ID, nil
}

// callProperties are the Call's properties. HubSpot keeps every value as
// a string; hs_call_duration counts milliseconds; a recording URL that is
// not HTTPS (which HubSpot refuses) goes into the body instead; without a
// start time the call sits at now on the timeline.
func callProperties(req sdk.LogCallRequest, now time.Time) map[string]string {
	c := req.Call
	at := c.StartedAt
	if at.IsZero() {
		at = now
	}
	props := map[string]string{
		"hs_timestamp":               formatTime(at),
		PropCallKey:                  req.Key,
		"hs_call_direction":          strings.ToUpper(orDefault(c.Direction, sdk.DirectionOutbound)),
		"hs_call_callee_object_id":   req.ObjectID,
		"hs_call_callee_object_type": "CONTACT",
	}
	set := func(k, v string) {
		if v != "" {
			props[k] = v
		}
	}
	set("hs_call_title", c.Title)
	set("hs_call_status", callStatus[c.Outcome])
	set("hs_call_disposition", orDefault(c.Disposition, Dispositions[c.Outcome]))
	if c.Duration > 0 {
		props["hs_call_duration"] = strconv.FormatInt(c.Duration.Milliseconds(), 10)
	}
	set("hs_call_to_number", c.ToNumber)
	set("hs_call_from_number", c.FromNumber)
	body := c.Body
	if strings.HasPrefix(c.RecordingURL, "https://") {
		props["hs_call_recording_url"] = c.RecordingURL
	} else if c.RecordingURL != "" {
		body = strings.TrimSpace(body + "\n\nRecording: " + c.RecordingURL)
	}
	set("hs_call_body", bodyHTML(body))
	return props
}

// bodyHTML turns plain text into the rich text hs_call_body and
// hs_task_body show: escaped, with line breaks kept.
func bodyHTML(s string) string {
	if s == "" {
		return ""
	}
	return strings.ReplaceAll(html.EscapeString(s), "\n", "<br>")
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func associate(contactID string, typeID int) []map[string]any {
	return []map[string]any{{
		"to":    map[string]string{"id": contactID},
		"types": []map[string]any{{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": typeID}},
	}}
}

// ensureTask returns the id of the follow-up task: the task of the contact
// with the same subject and due time, or a new one. The due time is
// derived from the attempt's end, so a retry asks for the same one.
func (p *Plugin) ensureTask(ctx context.Context, a account, req sdk.LogCallRequest, t sdk.FollowUpTask) (string, error) {
	if strings.TrimSpace(t.Title) == "" {
		return "", sdk.BadRequest("hubspot: log call %s: a follow-up task has no title", req.Key)
	}
	due := t.Due
	if due.IsZero() {
		due = req.Call.StartedAt
	}
	if due.IsZero() {
		return "", sdk.BadRequest("hubspot: log call %s: task %q has no due time", req.Key, truncate(t.Title, 60))
	}
	path := swapLast(a.objectsPath, "tasks")
	what := "task " + strconv.Quote(truncate(t.Title, 60)) + " for contact " + req.ObjectID
	id, err := p.findOne(ctx, a, path, "find "+what, []searchFilter{
		{PropertyName: "associations.contact", Operator: "EQ", Value: req.ObjectID},
		{PropertyName: "hs_task_subject", Operator: "EQ", Value: t.Title},
		{PropertyName: "hs_timestamp", Operator: "EQ", Value: strconv.FormatInt(due.UnixMilli(), 10)},
	})
	if err != nil || id != "" {
		return id, err
	}
	props := map[string]string{
		"hs_timestamp":    formatTime(due),
		"hs_task_subject": t.Title,
		"hs_task_status":  "NOT_STARTED",
		"hs_task_type":    "CALL",
	}
	if t.Body != "" {
		props["hs_task_body"] = bodyHTML(t.Body)
	}
	if t.Owner != "" {
		props["hubspot_owner_id"] = t.Owner
	}
	var out struct {
		ID string `json:"id"`
	}
	_, err = p.doJSON(ctx, a, call{
		method: http.MethodPost, path: path,
		body:  map[string]any{"properties": props, "associations": associate(req.ObjectID, AssocTaskToContact)},
		what:  "create " + what,
		scope: "crm.objects.contacts.write",
	}, &out)
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", sdk.Transient("hubspot: create %s: HubSpot answered without the task's id; retrying finds it", what)
	}
	return out.ID, nil
}

// searchFilter is one filter of a CRM search.
type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

// findOne searches objects at path (…/calls, …/tasks) with all filters,
// through the search API's own rate gate, and returns the oldest match's
// id, or "" when there is none. A search 429 (its per-second limit, which
// other users of the token share) is waited out here a few times: the
// gate already holds later searches, so the wait is short.
func (p *Plugin) findOne(ctx context.Context, a account, path, what string, filters []searchFilter) (string, error) {
	for try := 1; ; try++ {
		id, err := p.findOnce(ctx, a, path, what, filters)
		var se *sdk.Error
		if try == 3 || !errors.As(err, &se) || se.Class != sdk.ClassRateLimited || se.RetryAfter > 2*time.Second {
			return id, err
		}
		t := time.NewTimer(se.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", err
		case <-t.C:
		}
	}
}

func (p *Plugin) findOnce(ctx context.Context, a account, path, what string, filters []searchFilter) (string, error) {
	var out searchResponse
	err := p.search(ctx, a, call{
		method: http.MethodPost, path: path + "/search",
		body: map[string]any{
			"filterGroups": []map[string]any{{"filters": filters}},
			"properties":   []string{"hs_object_id"},
			"sorts":        []map[string]string{{"propertyName": "hs_createdate", "direction": "ASCENDING"}},
			"limit":        1,
		},
		what: what, scope: "crm.objects.contacts.read",
	}, &out)
	if err != nil || len(out.Results) == 0 {
		return "", err
	}
	return out.Results[0].ID, nil
}

// checkScopes asks HubSpot which scopes the token has (private app tokens:
// POST /oauth/v2/private-apps/get/access-token-info) and names those of
// need it lacks. A token HubSpot cannot describe there (an OAuth token) is
// not refused: its first call will say what it misses.
func (p *Plugin) checkScopes(ctx context.Context, a account, purpose string, need []string) error {
	var info struct {
		Scopes []string `json:"scopes"`
	}
	res, err := p.doJSON(ctx, a, call{
		method: http.MethodPost, path: "/oauth/v2/private-apps/get/access-token-info",
		body: map[string]string{"tokenKey": a.token}, what: "read the token's scopes",
	}, &info)
	if err != nil {
		if res != nil && res.status != http.StatusUnauthorized && res.status < 500 && res.status != http.StatusTooManyRequests {
			p.log.Debug("token scopes unknown; not checked", "status", res.status)
			return nil
		}
		return err
	}
	have := map[string]bool{}
	for _, s := range info.Scopes {
		have[s] = true
	}
	var missing []string
	for _, s := range need {
		if !have[s] {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return sdk.Auth("hubspot: the access token lacks scope(s) %s, needed for %s: add them to the app (Development > Legacy apps > your app > Scopes) and use its new token", strings.Join(missing, ", "), purpose)
	}
	return nil
}
