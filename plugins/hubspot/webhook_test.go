package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/webhooks")

// TestWebhookGolden parses every payload under testdata/webhooks and
// compares the events with the .golden file next to it.
func TestWebhookGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/webhooks/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			events, err := ParseWebhook(body)
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			got, err := json.MarshalIndent(events, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("events differ from %s:\n%s", golden, got)
			}
		})
	}
}

func TestWebhookKinds(t *testing.T) {
	tests := []struct {
		typ, objectTypeID        string
		wantKind, wantObjectType string
	}{
		{"contact.creation", "", sdk.KindCreated, "contact"},
		{"contact.propertyChange", "", sdk.KindUpdated, "contact"},
		{"contact.deletion", "", sdk.KindDeleted, "contact"},
		{"contact.privacyDeletion", "", sdk.KindErased, "contact"},
		{"contact.merge", "", sdk.KindMerged, "contact"},
		{"contact.restore", "", sdk.KindRestored, "contact"},
		{"contact.associationChange", "", sdk.KindOther, "contact"},
		{"object.creation", "0-1", sdk.KindCreated, "contact"},
		{"object.propertyChange", "0-1", sdk.KindUpdated, "contact"},
		{"object.deletion", "0-1", sdk.KindDeleted, "contact"},
		{"object.creation", "0-3", sdk.KindCreated, "deal"},
		{"object.creation", "2-123", sdk.KindCreated, "2-123"},
		{"deal.creation", "", sdk.KindCreated, "deal"},
		{"company.somethingNew", "", sdk.KindOther, "company"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.objectTypeID, func(t *testing.T) {
			body := fmt.Sprintf(`[{"eventId":1,"subscriptionId":2,"portalId":3,"occurredAt":1700000000000,"subscriptionType":%q,"objectTypeId":%q,"objectId":42}]`, tc.typ, tc.objectTypeID)
			events, err := ParseWebhook([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Kind != tc.wantKind || events[0].ObjectType != tc.wantObjectType {
				t.Fatalf("got %+v, want kind %s object type %s", events, tc.wantKind, tc.wantObjectType)
			}
			if events[0].ObjectID != "42" || events[0].Account != "3" || !events[0].OccurredAt.Equal(time.UnixMilli(1700000000000)) {
				t.Errorf("fields: %+v", events[0])
			}
		})
	}
}

func TestWebhookDedupeKeyIgnoresAttempt(t *testing.T) {
	first, err := ParseWebhook(mustRead(t, "testdata/webhooks/contact-creation.json"))
	if err != nil {
		t.Fatal(err)
	}
	retry, err := ParseWebhook(mustRead(t, "testdata/webhooks/contact-creation-retry.json"))
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Key != retry[0].Key {
		t.Fatalf("redelivery has another key: %q vs %q", first[0].Key, retry[0].Key)
	}
	str, err := ParseWebhook(mustRead(t, "testdata/webhooks/objectid-as-string.json"))
	if err != nil {
		t.Fatal(err)
	}
	if str[0].ObjectID != first[0].ObjectID {
		t.Errorf("objectId as string: %q, as number: %q", str[0].ObjectID, first[0].ObjectID)
	}
	// Same event id, other object or type: different keys.
	both, err := ParseWebhook(mustRead(t, "testdata/webhooks/contact-privacydeletion.json"))
	if err != nil {
		t.Fatal(err)
	}
	if both[0].Key == both[1].Key {
		t.Errorf("privacyDeletion and deletion share a key %q", both[0].Key)
	}
}

// TestWebhookRefusals: only a body that is not a JSON array is refused.
func TestWebhookRefusals(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", "empty"},
		{"spaces", "  \n", "empty"},
		{"object", `{"eventId":1}`, "not a JSON array"},
		{"string", `"x"`, "not a JSON array"},
		{"truncated", `[{"eventId":1,`, "not valid JSON"},
		{"trailing garbage", `[] x`, "not valid JSON"},
		{"words", `hello`, "not a JSON array"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWebhook([]byte(tc.body))
			if sdk.ClassOf(err) != sdk.ClassBadRequest {
				t.Fatalf("err %v, want bad_request", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// TestWebhookProblems: an element callgate cannot use becomes one problem
// event with a reason and a key, next to the good events of its batch.
func TestWebhookProblems(t *testing.T) {
	good := `{"eventId":1,"subscriptionType":"contact.creation","objectId":7,"portalId":3}`
	tests := []struct {
		name, element, want string
		identified          bool // type and record named: the host stores it ignored
	}{
		{"element not object", `5`, "event 1 is not a JSON object", false},
		{"null element", `null`, "event 1 is not a JSON object (null)", false},
		{"nested array", `[{"objectId":1}]`, "is not a JSON object", false},
		{"no objectId", `{"eventId":2,"subscriptionType":"contact.creation"}`, "event 1: contact.creation has no objectId", false},
		{"null objectId", `{"eventId":2,"subscriptionType":"contact.creation","objectId":null}`, "contact.creation has no objectId", false},
		{"objectId not integer", `{"eventId":2,"subscriptionType":"contact.creation","objectId":1.5}`, "event 1 is malformed", false},
		{"objectId words", `{"eventId":2,"subscriptionType":"contact.creation","objectId":"abc"}`, "event 1 is malformed", false},
		{"no type", `{"eventId":2,"objectId":5}`, "no subscriptionType", false},
		{"type without action", `{"eventId":2,"objectId":5,"subscriptionType":"contact"}`, "not object.action", false},
		{"generic without objectTypeId", `{"eventId":2,"objectId":5,"subscriptionType":"object.creation"}`, "no objectTypeId", false},
		{"wrong field type", `{"eventId":2,"objectId":5,"subscriptionType":"contact.creation","attemptNumber":"x"}`, "attemptNumber", false},
		{"unknown type", `{"eventId":2,"objectId":5,"subscriptionType":"contact.somethingNew"}`, "not one callgate acts on", true},
		{"conversation", `{"eventId":2,"objectId":5,"subscriptionType":"conversation.newMessage","messageId":"m1"}`, "not one callgate acts on", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, err := ParseWebhook([]byte("[" + good + "," + tc.element + "]"))
			if err != nil {
				t.Fatalf("refused the batch: %v", err)
			}
			if len(events) != 2 || events[0].Problem != "" || events[0].ObjectID != "7" {
				t.Fatalf("the good event did not survive: %+v", events)
			}
			bad := events[1]
			if !strings.Contains(bad.Problem, tc.want) || bad.Key == "" || bad.Kind != sdk.KindOther {
				t.Fatalf("problem event %+v, want a key and a problem saying %q", bad, tc.want)
			}
			if got := bad.Type != "" && bad.ObjectType != "" && bad.ObjectID != ""; got != tc.identified {
				t.Errorf("identified = %v, want %v: %+v", got, tc.identified, bad)
			}
			// A redelivery (attemptNumber bumped) has the same key.
			redelivered := strings.Replace(tc.element, `"eventId":2`, `"eventId":2,"attemptNumber":3`, 1)
			if redelivered != tc.element && !strings.Contains(tc.element, "attemptNumber") {
				again, err := ParseWebhook([]byte("[" + good + "," + redelivered + "]"))
				if err != nil || again[1].Key != bad.Key {
					t.Errorf("redelivery key %q, first %q (%v)", again[1].Key, bad.Key, err)
				}
			}
		})
	}
}

// TestWebhookProblemKeysDiffer: two different unusable events do not
// collapse into one.
func TestWebhookProblemKeysDiffer(t *testing.T) {
	events, err := ParseWebhook([]byte(`[{"eventId":1,"subscriptionType":"contact.creation"},{"eventId":2,"subscriptionType":"contact.creation"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if events[0].Key == events[1].Key {
		t.Fatalf("both problems have key %q", events[0].Key)
	}
}

// TestWebhookAssociation: both association shapes name the from side as
// the event's record and the to side as the related one.
func TestWebhookAssociation(t *testing.T) {
	for _, file := range []string{"contact-associationchange", "object-associationchange"} {
		t.Run(file, func(t *testing.T) {
			events, err := ParseWebhook(mustRead(t, "testdata/webhooks/"+file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			ev := events[0]
			if ev.Problem != "" || ev.ObjectType != "contact" || ev.ObjectID != "65059681032" ||
				ev.RelatedObjectType != "company" || ev.RelatedObjectID != "18440015001" ||
				ev.Property != "CONTACT_TO_COMPANY" || ev.Value != "18440015001" || ev.ChangeSource != "CRM_UI" {
				t.Fatalf("event %+v", ev)
			}
		})
	}
}

func TestWebhookEmptyArrayAndLargeBatch(t *testing.T) {
	events, err := ParseWebhook([]byte(`[]`))
	if err != nil || len(events) != 0 {
		t.Fatalf("empty array: %v %v", events, err)
	}
	events, err = ParseWebhook(eventsBody(150))
	if err != nil || len(events) != 150 {
		t.Fatalf("150 events: %d %v", len(events), err)
	}
}

func TestHandleWebhook(t *testing.T) {
	body := mustRead(t, "testdata/webhooks/contact-creation.json")
	url := "https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=a"
	sent := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	h := SignV3("secret", "POST", url, body, sent)
	headers := map[string][]string{}
	for k, v := range h {
		headers[k] = []string{v}
	}
	p, err := NewWithOptions(Options{Clock: func() time.Time { return sent.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	req := sdk.WebhookRequest{Method: "POST", URL: url, Headers: headers, Body: body, Credentials: sdk.Credentials{CredClientSecret: "secret"}}
	res, err := p.HandleWebhook(context.Background(), req)
	if err != nil || len(res.Events) != 1 || res.Events[0].Kind != sdk.KindCreated {
		t.Fatalf("HandleWebhook: %+v %v", res, err)
	}
	// ReceivedAt wins over the clock.
	req.ReceivedAt = sent.Add(10 * time.Minute)
	if _, err := p.HandleWebhook(context.Background(), req); sdk.ClassOf(err) != sdk.ClassInvalidSignature {
		t.Fatalf("stale by ReceivedAt: %v", err)
	}
	// A signature check comes before parsing: a bad body with a bad signature is a signature error.
	req = sdk.WebhookRequest{Method: "POST", URL: url, Headers: headers, Body: []byte("{"), Credentials: sdk.Credentials{CredClientSecret: "secret"}}
	if _, err := p.HandleWebhook(context.Background(), req); sdk.ClassOf(err) != sdk.ClassInvalidSignature {
		t.Fatalf("tampered: %v", err)
	}
	req.Credentials = nil
	if _, err := p.HandleWebhook(context.Background(), req); sdk.ClassOf(err) != sdk.ClassBadRequest {
		t.Fatalf("no secret, bad body: %v", err)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventsBody builds a webhook body of n contact.creation events.
func eventsBody(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventId":%d,"subscriptionId":234567,"portalId":12345678,"appId":987654,"occurredAt":1708986598741,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":%d,"changeFlag":"CREATED","changeSource":"CRM_UI","sourceId":"userId:45678"}`, 5000+i, 65059681032+int64(i))
	}
	b.WriteByte(']')
	return b.Bytes()
}
