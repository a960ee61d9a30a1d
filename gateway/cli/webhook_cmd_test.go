package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/sdk"
)

// TestWebhookSend posts to a stand-in gateway that checks what HubSpot's
// plugin would: the URL's parameters, the event shape and the signature.
func TestWebhookSend(t *testing.T) {
	var got sdk.WebhookRequest
	var publicURL string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = sdk.WebhookRequest{Method: r.Method, URL: publicURL + r.URL.RequestURI(), Headers: r.Header, Body: body}
		if r.URL.Query().Get("x_api_key") != "k1" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"status":"error","message":"Invalid API key"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"done","message":"2 events received"}`))
	}))
	defer gw.Close()
	publicURL = "https://calls.example.com"

	var out, errOut bytes.Buffer
	code := run([]string{"webhook", "send", "--addr", gw.URL, "--agent", "sales-intro", "--key", "k1",
		"--contact", "1001,1002", "--secret", "s3cret", "--public-url", publicURL, "--query", "min_trigger_time=09:00"},
		&out, &errOut, env(nil))
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	if strings.Contains(out.String(), "k1") || !strings.Contains(out.String(), "x_api_key=REDACTED") {
		t.Errorf("the key must be redacted in the output:\n%s", out.String())
	}
	for _, want := range []string{"agent_id=sales-intro", "type=hubspot", "min_trigger_time=09%3A00"} {
		if !strings.Contains(got.URL, want) {
			t.Errorf("URL %s lacks %s", got.URL, want)
		}
	}
	if err := hubspot.VerifySignature(got, "s3cret", time.Now()); err != nil {
		t.Errorf("the plugin refuses the signature: %v", err)
	}
	evs, err := hubspot.ParseWebhook(got.Body)
	if err != nil || len(evs) != 2 || evs[0].ObjectID != "1001" || evs[1].Type != "contact.creation" || evs[0].Key == evs[1].Key {
		t.Errorf("events = %+v, %v", evs, err)
	}

	out.Reset()
	code = run([]string{"webhook", "send", "--addr", gw.URL, "--agent", "a", "--contact", "1"}, &out, &errOut, env(map[string]string{EnvAPIKey: "wrong"}))
	if code != 1 || !strings.Contains(out.String(), "403 ") {
		t.Errorf("refused webhook: exit %d, output %s", code, out.String())
	}
}

func TestWebhookSendFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no agent", []string{"--key", "k", "--contact", "1"}, "--agent is required"},
		{"no key", []string{"--agent", "a", "--contact", "1"}, "--key is required"},
		{"nothing to send", []string{"--agent", "a", "--key", "k"}, "give --contact ID"},
		{"both", []string{"--agent", "a", "--key", "k", "--contact", "1", "--file", "x.json"}, "give --contact ID"},
		{"bad id", []string{"--agent", "a", "--key", "k", "--contact", "ada"}, `--contact "ada": HubSpot contact ids are positive whole numbers`},
		{"bad event", []string{"--agent", "a", "--key", "k", "--contact", "1", "--event", "created"}, `--event "created"`},
		{"bad signature", []string{"--agent", "a", "--key", "k", "--contact", "1", "--signature", "v9"}, `--signature "v9"`},
		{"contact for another type", []string{"--type", "leadsquared", "--agent", "a", "--key", "k", "--contact", "1"}, "for --type leadsquared post a body with --file"},
		{"no gateway", []string{"--addr", "http://127.0.0.1:1", "--agent", "a", "--key", "k", "--contact", "1"}, "no gateway answers at http://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"webhook", "send"}, tt.args...), &out, &errOut, env(nil))
			if code != 1 || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut.String(), tt.want)
			}
		})
	}
}

func TestReadFakeRecords(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "c.json", `[{"firstname":"Ada"},{"id":2002,"properties":{"firstname":"Grace"}},{"id":"2003","properties":{}}]`)
	got, err := readFakeRecords(file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `[{"id":"","properties":{"firstname":"Ada"}},{"id":"2002","properties":{"firstname":"Grace"}},{"id":"2003","properties":{}}]`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	if _, err := readFakeRecords(writeFile(t, dir, "bad.json", `{"firstname":"Ada"}`)); err == nil || !strings.Contains(err.Error(), "want a JSON array") {
		t.Errorf("object instead of array: %v", err)
	}
	if _, err := readFakeRecords(writeFile(t, dir, "badid.json", `[{"id":true,"properties":{}}]`)); err == nil || !strings.Contains(err.Error(), "id must be") {
		t.Errorf("bad id: %v", err)
	}
}
