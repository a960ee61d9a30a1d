package hubspot

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/sdk"
)

// FuzzParseWebhook: any body either fails as bad_request, and then it is
// not a JSON array, or parses into one event per element, each either
// complete (key, kind, type, object type and id) or carrying a Problem and
// a key; parsing it again gives the same keys (redeliveries dedupe). Seeds:
// the golden payloads plus testdata/fuzz/FuzzParseWebhook.
func FuzzParseWebhook(f *testing.F) {
	files, _ := filepath.Glob("testdata/webhooks/*.json")
	for _, file := range files {
		f.Add(mustRead(f, file))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := ParseWebhook(body)
		if err != nil {
			if sdk.ClassOf(err) != sdk.ClassBadRequest {
				t.Fatalf("error of class %s: %v", sdk.ClassOf(err), err)
			}
			var raws []json.RawMessage
			if json.Unmarshal(bytes.TrimPrefix(bytes.TrimSpace(body), utf8BOM), &raws) == nil {
				t.Fatalf("refused a JSON array: %v", err)
			}
			return
		}
		for i, ev := range events {
			if ev.Key == "" || ev.Kind == "" {
				t.Fatalf("event %d without key or kind: %+v", i, ev)
			}
			if ev.Problem == "" && (ev.ObjectID == "" || ev.ObjectType == "" || ev.Type == "") {
				t.Fatalf("event %d incomplete without a problem: %+v", i, ev)
			}
		}
		again, _ := ParseWebhook(body)
		for i := range events {
			if again[i].Key != events[i].Key {
				t.Fatalf("event %d: key %q then %q", i, events[i].Key, again[i].Key)
			}
		}
	})
}

// FuzzParseWorkflow: any body either fails as bad_request or names an
// object type, and a record id only when it is an integer.
func FuzzParseWorkflow(f *testing.F) {
	files, _ := filepath.Glob("testdata/workflows/*.json")
	for _, file := range files {
		f.Add(mustRead(f, file))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		wr, err := ParseWorkflow(body)
		if err != nil {
			if sdk.ClassOf(err) != sdk.ClassBadRequest {
				t.Fatalf("error of class %s: %v", sdk.ClassOf(err), err)
			}
			return
		}
		if wr.ObjectType == "" {
			t.Fatalf("no object type: %+v", wr)
		}
		if wr.ObjectID != "" {
			if _, err := strconv.ParseInt(wr.ObjectID, 10, 64); err != nil {
				t.Fatalf("object id %q is not an integer", wr.ObjectID)
			}
		}
		ev := workflowEvent(body, wr, sdk.KindCreated, time.Unix(0, 0))
		if ev.Key == "" || (ev.ObjectID == "" && ev.Problem == "") {
			t.Fatalf("event %+v", ev)
		}
	})
}

// FuzzSignatureHeaders: arbitrary signature headers never panic, never pass
// without the right MAC, and the right MAC always passes.
func FuzzSignatureHeaders(f *testing.F) {
	body := []byte(`[{"eventId":1,"subscriptionType":"contact.creation","objectId":1}]`)
	url := "https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=a&t=10%3A00"
	at := time.UnixMilli(1764244800000)
	good := SignV3("secret", "POST", url, body, at)
	f.Add("v3", good[HeaderSignatureV3], good[HeaderRequestTimestamp], url)
	f.Add("v1", SignV1("secret", "", "", body, at)[HeaderSignature], "", url)
	f.Add("v2", SignV2("secret", "POST", url, body, at)[HeaderSignature], "", url)
	f.Add("v3", "not base64!", "1764244800000", url)
	f.Add("v3", good[HeaderSignatureV3], "-9223372036854775808", url)
	f.Add("v3", good[HeaderSignatureV3], "99999999999999999999", url)
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, version, sig, stamp, u string) {
		h := map[string][]string{}
		if version == "v3" {
			h[HeaderSignatureV3] = []string{sig}
			h[HeaderRequestTimestamp] = []string{stamp}
		} else {
			h[HeaderSignature] = []string{sig}
			h[HeaderSignatureVersion] = []string{version}
		}
		req := sdk.WebhookRequest{Method: "POST", URL: u, Headers: h, Body: body}
		err := VerifySignature(req, "secret", at)
		if err != nil {
			if sdk.ClassOf(err) != sdk.ClassInvalidSignature {
				t.Fatalf("class %s: %v", sdk.ClassOf(err), err)
			}
			if strings.Contains(err.Error(), "secret\"") {
				t.Fatalf("error leaks the secret: %v", err)
			}
			return
		}
		// Accepted: the signature must be one the secret produces.
		switch version {
		case "v3":
			want := SignV3("secret", "POST", u, body, at)[HeaderSignatureV3]
			got, decErr := base64.StdEncoding.DecodeString(strings.ReplaceAll(strings.TrimSpace(sig), " ", "+"))
			if decErr == nil && base64.StdEncoding.EncodeToString(got) != want && !lowerCaseEscapes(u) && stamp == good[HeaderRequestTimestamp] {
				t.Fatalf("accepted a v3 signature %q the secret did not make", sig)
			}
		case "", "v1", "V1":
			if !strings.EqualFold(strings.TrimSpace(sig), SignV1("secret", "", "", body, at)[HeaderSignature]) {
				t.Fatalf("accepted v1 signature %q", sig)
			}
		}
	})
}

func lowerCaseEscapes(u string) bool { return DecodeURI(u) != uriDecoderAnyCase.Replace(u) }
