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

func TestWebhookBadRequests(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", "empty"},
		{"spaces", "  \n", "empty"},
		{"object", `{"eventId":1}`, "not a JSON array"},
		{"string", `"x"`, "not a JSON array"},
		{"truncated", `[{"eventId":1,`, "not valid JSON"},
		{"trailing garbage", `[] x`, "not valid JSON"},
		{"element not object", `[{"objectId":1,"subscriptionType":"contact.creation"}, 5]`, "event 1 is not a JSON object"},
		{"no objectId", `[{"eventId":1,"subscriptionType":"contact.creation","objectId":1},{"eventId":2,"subscriptionType":"contact.creation"}]`, "event 1: contact.creation has no objectId"},
		{"null objectId", `[{"eventId":1,"subscriptionType":"contact.creation","objectId":null}]`, "event 0: contact.creation has no objectId"},
		{"objectId not integer", `[{"eventId":1,"subscriptionType":"contact.creation","objectId":1.5}]`, "event 0 is malformed"},
		{"objectId words", `[{"eventId":1,"subscriptionType":"contact.creation","objectId":"abc"}]`, "event 0 is malformed"},
		{"no type", `[{"eventId":1,"objectId":5}]`, "event 0: no subscriptionType"},
		{"type without action", `[{"eventId":1,"objectId":5,"subscriptionType":"contact"}]`, "not object.action"},
		{"generic without objectTypeId", `[{"eventId":1,"objectId":5,"subscriptionType":"object.creation"}]`, "no objectTypeId"},
		{"wrong field type", `[{"eventId":1,"objectId":5,"subscriptionType":"contact.creation","attemptNumber":"x"}]`, "attemptNumber"},
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
