package hubspot

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callgate/callgate/sdk"
)

// WebhookEvent is one event of a HubSpot webhook body, with every field
// HubSpot documents. IDs are kept as decimal strings: HubSpot sends them as
// JSON numbers beyond 2^31, and a string is tolerated too.
type WebhookEvent struct {
	EventID          ID     `json:"eventId"`
	SubscriptionID   ID     `json:"subscriptionId"`
	PortalID         ID     `json:"portalId"`
	AppID            ID     `json:"appId"`
	OccurredAt       ID     `json:"occurredAt"` // epoch milliseconds
	SubscriptionType string `json:"subscriptionType"`
	EventType        string `json:"eventType"` // older name of subscriptionType
	AttemptNumber    int    `json:"attemptNumber"`
	ObjectID         ID     `json:"objectId"`
	ObjectTypeID     string `json:"objectTypeId"` // generic object.* subscriptions, e.g. "0-1"
	ChangeSource     string `json:"changeSource"`
	ChangeFlag       string `json:"changeFlag"`
	SourceID         string `json:"sourceId"`
	PropertyName     string `json:"propertyName"`
	PropertyValue    string `json:"propertyValue"`
	IsSensitive      bool   `json:"isSensitive"`
	// Merge events.
	PrimaryObjectID         ID   `json:"primaryObjectId"`
	MergedObjectIDs         []ID `json:"mergedObjectIds"`
	NewObjectID             ID   `json:"newObjectId"`
	NumberOfPropertiesMoved int  `json:"numberOfPropertiesMoved"`
	// Association-change events.
	AssociationType      string `json:"associationType"`
	FromObjectID         ID     `json:"fromObjectId"`
	ToObjectID           ID     `json:"toObjectId"`
	AssociationRemoved   bool   `json:"associationRemoved"`
	IsPrimaryAssociation bool   `json:"isPrimaryAssociation"`
	// Generic object.associationChange events name both sides' types.
	FromObjectTypeID    string `json:"fromObjectTypeId"`
	ToObjectTypeID      string `json:"toObjectTypeId"`
	AssociationTypeID   ID     `json:"associationTypeId"`
	AssociationCategory string `json:"associationCategory"`
}

// Type returns subscriptionType, or the older eventType when that is absent.
func (e WebhookEvent) Type() string {
	if e.SubscriptionType != "" {
		return e.SubscriptionType
	}
	return e.EventType
}

// ID is an integer id HubSpot sends as a JSON number (or, tolerated, a
// string of digits). The zero ID means absent or null.
type ID string

// UnmarshalJSON accepts 123, "123" and null.
func (id *ID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*id = ""
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*id = ""
			return nil
		}
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return fmt.Errorf("%s is not an integer id", truncate(string(b), 40))
	}
	*id = ID(s)
	return nil
}

// objectTypes maps HubSpot's objectTypeId to callgate's object type names.
var objectTypes = map[string]string{
	"0-1": "contact", "0-2": "company", "0-3": "deal", "0-5": "ticket",
	"0-7": "product", "0-8": "line_item", "0-136": "lead",
}

// kinds maps the action part of a subscription type to an event kind.
var kinds = map[string]string{
	"creation":          sdk.KindCreated,
	"propertyChange":    sdk.KindUpdated,
	"deletion":          sdk.KindDeleted,
	"privacyDeletion":   sdk.KindErased,
	"merge":             sdk.KindMerged,
	"restore":           sdk.KindRestored,
	"associationChange": sdk.KindOther,
}

// ParseWebhook parses a HubSpot webhook body (a JSON array of events) into
// callgate events, one per element. Only a body that is not a JSON array at
// all is an sdk.ClassBadRequest error: HubSpot redelivers a refused batch
// whole, so one event callgate cannot use must not cost the others. An
// element that is not an object, does not decode, names no object, or has a
// subscription type callgate does not know becomes an event with Problem set
// and a dedupe key that is stable across HubSpot's redeliveries (see
// problemKey). More than 100 events (HubSpot's documented maximum) are
// accepted too; the gateway's body limit bounds the size.
func ParseWebhook(body []byte) ([]sdk.Event, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(body), utf8BOM))
	if len(trimmed) > 0 && trimmed[0] == '[' {
		// Fast path: one decode. Only a body that fails it is decoded again
		// element by element, to keep the good events and say what is wrong
		// with the others.
		var wes []WebhookEvent
		if json.Unmarshal(trimmed, &wes) == nil {
			events := make([]sdk.Event, len(wes))
			var raws []json.RawMessage
			for i, we := range wes {
				ev := toEvent(we)
				if ev.Problem != "" {
					// Rare: read the element again from its own bytes, for
					// its key and the same reason the slow path gives.
					if raws == nil {
						raws, _ = splitArray(trimmed)
					}
					if i < len(raws) {
						ev = parseElement(i, raws[i])
					}
				}
				events[i] = ev
			}
			return events, nil
		}
	}
	raws, err := splitArray(trimmed)
	if err != nil {
		return nil, err
	}
	events := make([]sdk.Event, len(raws))
	for i, raw := range raws {
		events[i] = parseElement(i, raw)
	}
	return events, nil
}

var utf8BOM = []byte("\xef\xbb\xbf")

// parseElement decodes one element of a webhook array; what cannot be used
// comes back as a problem event.
func parseElement(i int, raw json.RawMessage) sdk.Event {
	if len(raw) == 0 || raw[0] != '{' {
		return problemEvent(raw, fmt.Sprintf("hubspot: webhook event %d is not a JSON object (%s); HubSpot sends objects", i, truncate(string(raw), 40)))
	}
	var we WebhookEvent
	if err := json.Unmarshal(raw, &we); err != nil {
		ev := problemEvent(raw, fmt.Sprintf("hubspot: webhook event %d is malformed: %s", i, jsonProblem(err)))
		// Keep what can be read, so the operator sees which record it was.
		var partial struct {
			SubscriptionType string `json:"subscriptionType"`
			EventType        string `json:"eventType"`
			PortalID         any    `json:"portalId"`
		}
		if json.Unmarshal(raw, &partial) == nil {
			ev.Type = truncate(orDefault(partial.SubscriptionType, partial.EventType), 80)
			if id, ok := partial.PortalID.(float64); ok {
				ev.Account = strconv.FormatFloat(id, 'f', -1, 64)
			}
		}
		return ev
	}
	ev := toEvent(we)
	if ev.Problem != "" && ev.Key == "" {
		ev.Key = problemKey(raw)
	}
	if ev.Problem != "" {
		ev.Problem = fmt.Sprintf("hubspot: webhook event %d: %s", i, ev.Problem)
	}
	return ev
}

// splitArray splits a JSON array into its elements; a body that is not one
// is the only webhook body the plugin refuses.
func splitArray(trimmed []byte) ([]json.RawMessage, error) {
	if len(trimmed) == 0 {
		return nil, sdk.BadRequest("hubspot: webhook body is empty; HubSpot posts a JSON array of events (or, from a workflow, one JSON object)")
	}
	if trimmed[0] != '[' {
		return nil, sdk.BadRequest("hubspot: webhook body is not a JSON array (starts with %q); HubSpot posts a JSON array of events (or, from a workflow, one JSON object)", trimmed[:1])
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(trimmed, &raws); err != nil {
		return nil, sdk.BadRequest("hubspot: webhook body is not valid JSON: %v", jsonProblem(err))
	}
	return raws, nil
}

// problemEvent is an event the plugin cannot use, kept so the host stores
// it with the reason instead of refusing the batch.
func problemEvent(raw []byte, problem string) sdk.Event {
	return sdk.Event{Key: problemKey(raw), Kind: sdk.KindOther, Problem: problem}
}

// problemKey derives a dedupe key from an element's bytes, so that
// HubSpot's redeliveries of the same unusable event collapse: the element is
// re-encoded with sorted keys and without attemptNumber, which is the only
// field HubSpot changes between attempts.
func problemKey(raw []byte) string {
	canon := raw
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil && m != nil {
		delete(m, "attemptNumber")
		if b, err := json.Marshal(m); err == nil {
			canon = b
		}
	}
	sum := sha256.Sum256(canon)
	return "hubspot:problem:" + hex.EncodeToString(sum[:12])
}

// toEvent converts one decoded event. An event the plugin cannot use comes
// back with Problem set: without a Key when it names no object (the caller
// derives one from the raw bytes), with its usual key when only its type is
// unknown.
func toEvent(we WebhookEvent) sdk.Event {
	typ := we.Type()
	ev := sdk.Event{
		Type: truncate(typ, 80), Kind: sdk.KindOther, Account: string(we.PortalID),
		ChangeSource: we.ChangeSource, SourceID: we.SourceID,
	}
	if we.OccurredAt != "" {
		ms, _ := strconv.ParseInt(string(we.OccurredAt), 10, 64)
		ev.OccurredAt = time.UnixMilli(ms).UTC()
	}
	if typ == "" {
		ev.Problem = "no subscriptionType (or eventType): callgate cannot tell what happened"
		return ev
	}
	object, action, ok := strings.Cut(typ, ".")
	if !ok || object == "" || action == "" {
		ev.Problem = fmt.Sprintf("subscriptionType %q is not object.action", truncate(typ, 60))
		return ev
	}
	objectID := we.ObjectID
	if objectID == "" {
		// Tolerate shapes that name the object only in their own fields.
		switch action {
		case "merge":
			objectID = we.PrimaryObjectID
		case "associationChange":
			objectID = we.FromObjectID
		}
	}
	ev.ObjectID = string(objectID)
	if object == "object" {
		typeID := we.ObjectTypeID
		if action == "associationChange" && typeID == "" {
			typeID = we.FromObjectTypeID // generic association events name both sides
		}
		object = objectTypeName(typeID)
		if object == "" {
			ev.Problem = fmt.Sprintf("%s has no objectTypeId", typ)
			return ev
		}
	}
	ev.ObjectType = object
	if objectID == "" {
		ev.Problem = fmt.Sprintf("%s has no objectId", typ)
		return ev
	}
	ev.Key = dedupeKey(we, objectID, typ)
	kind, known := kinds[action]
	if !known {
		ev.Problem = fmt.Sprintf("subscriptionType %q is not one callgate acts on (it knows creation, propertyChange, deletion, privacyDeletion, merge, restore and associationChange)", truncate(typ, 60))
		return ev
	}
	ev.Kind = kind
	switch action {
	case "propertyChange":
		ev.Property, ev.Value = we.PropertyName, we.PropertyValue
	case "merge":
		ids := make([]string, len(we.MergedObjectIDs))
		for i, id := range we.MergedObjectIDs {
			ids[i] = string(id)
		}
		ev.Property, ev.Value = "mergedObjectIds", strings.Join(ids, ",")
	case "associationChange":
		ev.RelatedObjectID = string(we.ToObjectID)
		ev.RelatedObjectType = objectTypeName(we.ToObjectTypeID)
		if ev.RelatedObjectType == "" {
			ev.RelatedObjectType = associationTarget(we.AssociationType)
		}
		// Property and Value stay what they were before the association's
		// other side had fields of its own: the association type and the
		// other record's id.
		ev.Property, ev.Value = we.AssociationType, string(we.ToObjectID)
		if ev.Property == "" && ev.RelatedObjectType != "" {
			ev.Property = strings.ToUpper(ev.ObjectType + "_TO_" + ev.RelatedObjectType)
		}
	}
	return ev
}

// objectTypeName maps an objectTypeId ("0-1") to callgate's name
// ("contact"); an id it does not know (a custom object, "2-123") stays as is.
func objectTypeName(typeID string) string {
	if name, ok := objectTypes[typeID]; ok {
		return name
	}
	return typeID
}

// associationTarget reads the other side's object type from a legacy
// associationType such as CONTACT_TO_COMPANY ("company").
func associationTarget(assoc string) string {
	i := strings.LastIndex(assoc, "_TO_")
	if i < 0 {
		return ""
	}
	return strings.ToLower(assoc[i+len("_TO_"):])
}

// dedupeKey identifies one event across HubSpot's redeliveries. eventId
// alone is "not guaranteed to be unique", so the key combines portal,
// subscription, event, object, time and type; attemptNumber is left out so
// that retries collapse.
func dedupeKey(we WebhookEvent, objectID ID, typ string) string {
	var b strings.Builder
	b.Grow(96)
	b.WriteString("hubspot:")
	for i, part := range []string{string(we.PortalID), string(we.SubscriptionID), string(we.EventID), string(objectID), string(we.OccurredAt), typ} {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(part)
	}
	return b.String()
}

// jsonProblem keeps encoding/json's message but drops Go type names that mean
// nothing to an operator.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has a JSON %s where HubSpot sends another type", te.Field, te.Value)
	}
	return err.Error()
}
