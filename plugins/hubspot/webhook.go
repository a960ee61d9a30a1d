package hubspot

import (
	"bytes"
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
// callgate events. A malformed body, a non-array, or an event without a
// type or an object id is an sdk.ClassBadRequest error naming the event's
// index. More than 100 events (HubSpot's documented maximum) are accepted:
// refusing them would make HubSpot retry a delivery that can never succeed;
// the gateway's body limit bounds the size.
func ParseWebhook(body []byte) ([]sdk.Event, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		// Fast path: one decode. Only a body that fails it is decoded again
		// event by event, to say which event is wrong.
		var wes []WebhookEvent
		if json.Unmarshal(trimmed, &wes) == nil {
			return toEvents(wes)
		}
	}
	raws, err := splitArray(body)
	if err != nil {
		return nil, err
	}
	wes := make([]WebhookEvent, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &wes[i]); err != nil {
			return nil, sdk.BadRequest("hubspot: webhook event %d is malformed: %v", i, jsonProblem(err))
		}
	}
	return toEvents(wes)
}

func toEvents(wes []WebhookEvent) ([]sdk.Event, error) {
	events := make([]sdk.Event, 0, len(wes))
	for i, we := range wes {
		ev, err := toEvent(we)
		if err != nil {
			return nil, sdk.BadRequest("hubspot: webhook event %d: %v", i, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

func splitArray(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, sdk.BadRequest("hubspot: webhook body is empty; HubSpot posts a JSON array of events")
	}
	if trimmed[0] != '[' {
		return nil, sdk.BadRequest("hubspot: webhook body is not a JSON array (starts with %q); HubSpot posts an array of events", trimmed[:1])
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(trimmed, &raws); err != nil {
		return nil, sdk.BadRequest("hubspot: webhook body is not valid JSON: %v", jsonProblem(err))
	}
	for i, r := range raws {
		if len(r) == 0 || r[0] != '{' {
			return nil, sdk.BadRequest("hubspot: webhook event %d is not a JSON object", i)
		}
	}
	return raws, nil
}

func toEvent(we WebhookEvent) (sdk.Event, error) {
	typ := we.Type()
	if typ == "" {
		return sdk.Event{}, fmt.Errorf("no subscriptionType (or eventType)")
	}
	object, action, ok := strings.Cut(typ, ".")
	if !ok || object == "" || action == "" {
		return sdk.Event{}, fmt.Errorf("subscriptionType %q is not object.action", truncate(typ, 60))
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
	if objectID == "" {
		return sdk.Event{}, fmt.Errorf("%s has no objectId", typ)
	}
	if object == "object" {
		object = we.ObjectTypeID
		if name, ok := objectTypes[we.ObjectTypeID]; ok {
			object = name
		}
		if object == "" {
			return sdk.Event{}, fmt.Errorf("%s has no objectTypeId", typ)
		}
	}
	kind, ok := kinds[action]
	if !ok {
		kind = sdk.KindOther
	}
	ev := sdk.Event{
		Key:        dedupeKey(we, objectID, typ),
		Type:       typ,
		Kind:       kind,
		ObjectType: object,
		ObjectID:   string(objectID),
		Account:    string(we.PortalID),
	}
	if we.OccurredAt != "" {
		ms, _ := strconv.ParseInt(string(we.OccurredAt), 10, 64)
		ev.OccurredAt = time.UnixMilli(ms).UTC()
	}
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
		ev.Property, ev.Value = we.AssociationType, string(we.ToObjectID)
	}
	return ev, nil
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
