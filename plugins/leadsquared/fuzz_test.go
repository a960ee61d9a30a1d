package leadsquared

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/callgate/callgate/sdk"
)

// FuzzParseWebhook: any body, content type and event hint either parse
// into events that each carry a key, a known kind, a lead id and the lead
// inline (with its id), or fail as bad_request. Parsing the same input
// twice gives the same keys. Seeds: the golden payloads plus
// testdata/fuzz/FuzzParseWebhook.
func FuzzParseWebhook(f *testing.F) {
	files, _ := filepath.Glob("testdata/webhooks/*")
	for _, file := range files {
		if strings.HasSuffix(file, ".golden") {
			continue
		}
		ct := "application/json"
		if strings.HasSuffix(file, ".form") {
			ct = "application/x-www-form-urlencoded"
		}
		f.Add(ct, "", mustRead(f, file))
	}
	f.Fuzz(func(t *testing.T, contentType, event string, body []byte) {
		w := Webhook{ContentType: contentType, Event: event, Body: body, ReceivedAt: received}
		events, err := ParseWebhook(w)
		if err != nil {
			if sdk.ClassOf(err) != sdk.ClassBadRequest {
				t.Fatalf("error of class %s: %v", sdk.ClassOf(err), err)
			}
			return
		}
		if len(events) == 0 {
			t.Fatal("no events and no error")
		}
		again, err := ParseWebhook(w)
		if err != nil || len(again) != len(events) {
			t.Fatalf("second parse differs: %v", err)
		}
		for i, ev := range events {
			if ev.Problem != "" {
				if ev.Key == "" || again[i].Key != ev.Key {
					t.Fatalf("problem event %d without a stable key: %+v", i, ev)
				}
				continue
			}
			if ev.Key == "" || ev.ObjectID == "" || ev.ObjectType != ObjectType || ev.Record == nil || ev.Record.ObjectID != ev.ObjectID {
				t.Fatalf("event %d incomplete: %+v", i, ev)
			}
			if ev.Kind != sdk.KindCreated && ev.Kind != sdk.KindUpdated {
				t.Fatalf("event %d kind %q", i, ev.Kind)
			}
			if again[i].Key != ev.Key {
				t.Fatalf("event %d key %q then %q", i, ev.Key, again[i].Key)
			}
		}
	})
}
