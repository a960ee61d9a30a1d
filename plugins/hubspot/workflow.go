package hubspot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// WorkflowEventParam is the webhook URL query parameter that says what a
// workflow's "Send a webhook" action means: created (the default) or
// updated. A workflow body does not say why the record was enrolled.
const WorkflowEventParam = "event"

// WorkflowTypeSuffix ends the event type of a workflow webhook
// (contact.workflow): rules can tell it from subscription events.
const WorkflowTypeSuffix = ".workflow"

// workflowTypingTimeout bounds the property-definitions read that types a
// workflow's inline record; past it the record is left for the pipeline to
// fetch.
const workflowTypingTimeout = 5 * time.Second

// WorkflowRecord is the enrolled record a workflow webhook carries.
type WorkflowRecord struct {
	ObjectType string // contact unless the body says otherwise
	ObjectID   string
	Account    string // portal id, when the body names it
	// Properties are the properties the body carries; a nil value is a
	// property it carries without a value.
	Properties map[string]*string
}

// ParseWorkflow reads the body of a HubSpot workflow's "Send a webhook"
// action: one JSON object, in one of the shapes HubSpot posts.
//
//   - The record as the contacts v1 API returns it (contact-based
//     workflows with every property): vid / canonical-vid, portal-id and
//     properties {name: {value, versions}}.
//   - A record with properties {name: {value}} or {name: "value"} (other
//     object types; the v3 API's shape), its id in objectId, id, dealId,
//     companyId or hs_object_id.
//   - A customised body: chosen properties as top-level keys, the record's
//     id in hs_object_id (or objectId, vid, id).
//
// A body that is not one JSON object is an sdk.ClassBadRequest error; an
// object that names no record is returned with an empty ObjectID.
func ParseWorkflow(body []byte) (WorkflowRecord, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(body), utf8BOM))
	var top map[string]json.RawMessage
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return WorkflowRecord{}, sdk.BadRequest("hubspot: a workflow webhook body is one JSON object")
	}
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return WorkflowRecord{}, sdk.BadRequest("hubspot: workflow webhook body is not valid JSON: %v", jsonProblem(err))
	}
	wr := WorkflowRecord{ObjectType: "contact", Properties: map[string]*string{}}
	wr.Account = firstID(top, "portal-id", "portalId")
	if t := strings.TrimSpace(scalar(top["objectTypeId"])); t != "" {
		wr.ObjectType = objectTypeName(t)
	} else if t := strings.ToLower(strings.TrimSpace(scalar(top["objectType"]))); t != "" {
		wr.ObjectType = t
	}
	props, nested := top["properties"]
	var pm map[string]json.RawMessage
	if nested && json.Unmarshal(props, &pm) == nil && pm != nil {
		for name, raw := range pm {
			if len(raw) > 0 && raw[0] == '{' {
				var v struct {
					Value json.RawMessage `json:"value"`
				}
				_ = json.Unmarshal(raw, &v)
				raw = v.Value
			}
			wr.Properties[name] = scalarPtr(raw)
		}
		switch {
		case has(top, "vid") || has(top, "canonical-vid"):
			wr.ObjectType = "contact"
			wr.ObjectID = firstID(top, "canonical-vid", "vid")
		case has(top, "dealId"):
			wr.ObjectType = "deal"
			wr.ObjectID = firstID(top, "dealId")
		case has(top, "companyId"):
			wr.ObjectType = "company"
			wr.ObjectID = firstID(top, "companyId")
		default:
			wr.ObjectID = firstID(top, "objectId", "id")
		}
		if wr.ObjectID == "" {
			wr.ObjectID = firstID(pm, "hs_object_id")
			if wr.ObjectID == "" && wr.Properties["hs_object_id"] != nil {
				wr.ObjectID = idText(*wr.Properties["hs_object_id"])
			}
		}
		return wr, nil
	}
	// A customised body: the chosen properties at the top.
	for name, raw := range top {
		if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
			continue
		}
		wr.Properties[name] = scalarPtr(raw)
	}
	for _, k := range []string{"hs_object_id", "objectId", "vid", "id"} {
		if v := wr.Properties[k]; v != nil {
			if id := idText(*v); id != "" {
				wr.ObjectID = id
				break
			}
		}
	}
	return wr, nil
}

// workflowEvent turns a workflow body into its one event. The record rides
// inline once typed (see Plugin.typeInline); the dedupe key is the portal,
// the record and a hash of the body, so the workflow's retries of one
// enrolment collapse.
func workflowEvent(body []byte, wr WorkflowRecord, kind string, receivedAt time.Time) sdk.Event {
	sum := sha256.Sum256(body)
	ev := sdk.Event{
		Key:        "hubspot:workflow:" + wr.Account + ":" + wr.ObjectType + ":" + wr.ObjectID + ":" + hex.EncodeToString(sum[:12]),
		Type:       wr.ObjectType + WorkflowTypeSuffix,
		Kind:       kind,
		ObjectType: wr.ObjectType,
		ObjectID:   wr.ObjectID,
		Account:    wr.Account,
		OccurredAt: receivedAt.UTC(),
	}
	if wr.ObjectID == "" {
		ev.Kind = sdk.KindOther
		ev.Problem = "hubspot: the workflow webhook body names no record: choose \"Include all properties\", or add hs_object_id (Record ID) to a customised body"
	}
	return ev
}

// workflowKind reads the event parameter of the webhook URL.
func workflowKind(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return sdk.KindCreated, nil // the gateway built the URL; nothing to read
	}
	switch v := strings.ToLower(strings.TrimSpace(u.Query().Get(WorkflowEventParam))); v {
	case "", "created", "creation", "create":
		return sdk.KindCreated, nil
	case "updated", "update", "propertychange":
		return sdk.KindUpdated, nil
	default:
		return "", sdk.BadRequest("hubspot: %s=%q in the webhook URL is not created or updated", WorkflowEventParam, truncate(v, 40))
	}
}

// typeInline types a workflow record's properties by the account's property
// definitions, exactly as FetchRecords does, so rules see the same values
// either way. A property the body carries without a value is an explicit
// null: the pipeline knows it need not fetch it. When the definitions cannot
// be read the record is not sent inline; the pipeline then fetches it.
func (p *Plugin) typeInline(ctx context.Context, creds sdk.Credentials, wr WorkflowRecord) *sdk.Record {
	a, err := parseAccount(creds)
	if err != nil {
		return nil
	}
	_, propertiesPath, err := a.objectPaths(wr.ObjectType)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, workflowTypingTimeout)
	defer cancel()
	defs, err := p.properties(ctx, a, propertiesPath)
	if err != nil {
		p.log.Warn("workflow webhook: cannot read property definitions; the record will be fetched", "error", err)
		return nil
	}
	rec := toRecord(object{ID: wr.ObjectID, Properties: wr.Properties}, defs)
	for name, v := range wr.Properties {
		if v == nil || *v == "" {
			rec.Fields[name] = sdk.Value{}
		}
	}
	return &rec
}

// isSubscriptionEvent tells one subscription event posted alone (a test
// tool, a proxy that unwrapped the array) from a workflow body.
func isSubscriptionEvent(top []byte) bool {
	var probe struct {
		SubscriptionType *string `json:"subscriptionType"`
		EventType        *string `json:"eventType"`
	}
	return json.Unmarshal(top, &probe) == nil && (probe.SubscriptionType != nil || probe.EventType != nil)
}

func has(m map[string]json.RawMessage, k string) bool {
	v, ok := m[k]
	return ok && string(v) != "null"
}

// firstID returns the first of keys holding an integer id.
func firstID(m map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		if raw, ok := m[k]; ok {
			if id := idText(scalar(raw)); id != "" {
				return id
			}
		}
	}
	return ""
}

// idText is s when it is a decimal integer id, else "".
func idText(s string) string {
	s = strings.TrimSpace(s)
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return ""
	}
	return s
}

// scalar writes a JSON string, number or bool as text; anything else is "".
func scalar(raw json.RawMessage) string {
	if p := scalarPtr(raw); p != nil {
		return *p
	}
	return ""
}

func scalarPtr(raw json.RawMessage) *string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	switch raw[0] {
	case '"':
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
	case 't', 'f':
		s = string(raw)
	case '{', '[':
		return nil
	default:
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return nil
		}
		s = n.String()
	}
	return &s
}

// describeWorkflow names a workflow event for logs (never its values).
func describeWorkflow(wr WorkflowRecord) string {
	return fmt.Sprintf("%s %s (%d properties)", wr.ObjectType, wr.ObjectID, len(wr.Properties))
}
