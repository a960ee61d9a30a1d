package hubspot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/plugins/hubspot"
	"github.com/callgate/callgate/plugins/hubspot/hubspottest"
	"github.com/callgate/callgate/sdk"
)

// TestWorkflowGolden parses every workflow body under testdata/workflows
// and compares the record with the .golden file next to it.
func TestWorkflowGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/workflows/*.json")
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
			wr, err := hubspot.ParseWorkflow(body)
			if err != nil {
				t.Fatalf("ParseWorkflow: %v", err)
			}
			got, _ := json.MarshalIndent(wr, "", "  ")
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("record differs from %s:\n%s", golden, got)
			}
		})
	}
}

func workflowRequest(t *testing.T, creds sdk.Credentials, query string, body []byte) sdk.WebhookRequest {
	t.Helper()
	url := "https://calls.example.com/call/crm-webhook?type=hubspot&agent_id=sales" + query
	at := time.Now()
	h := hubspottest.Sign("app-secret", "v3", http.MethodPost, url, body, at)
	creds[hubspot.CredClientSecret] = "app-secret"
	return sdk.WebhookRequest{Method: http.MethodPost, URL: url, Headers: h, Body: body, Credentials: creds, ReceivedAt: at}
}

// TestWorkflowV1ContactInline: a contact-based workflow's body becomes one
// created event with the record inline, typed by the account's property
// definitions and with phones in the plugin's order, without reading the
// contact.
func TestWorkflowV1ContactInline(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	srv.AddContact("901", map[string]any{"firstname": "Priya", "phone": "+91 98765 43210", "mobilephone": "+91 91234 56789", "num_associated_deals": 2, "company": nil})
	body, ok := srv.WorkflowContact("901", 12345678)
	if !ok {
		t.Fatal("no contact")
	}
	res, err := p.HandleWebhook(context.Background(), workflowRequest(t, creds, "", body))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 {
		t.Fatalf("events %+v", res.Events)
	}
	ev := res.Events[0]
	if ev.Kind != sdk.KindCreated || ev.Type != "contact.workflow" || ev.ObjectType != "contact" || ev.ObjectID != "901" || ev.Account != "12345678" || ev.Problem != "" {
		t.Fatalf("event %+v", ev)
	}
	rec := ev.Record
	if rec == nil {
		t.Fatal("no inline record")
	}
	if rec.Fields["firstname"] != sdk.StringValue("Priya") || rec.Fields["num_associated_deals"] != sdk.NumberValue(2) || rec.Fields["hs_object_id"] != sdk.NumberValue(901) {
		t.Errorf("fields %+v", rec.Fields)
	}
	if len(rec.Phones) != 2 || rec.Phones[0] != "+91 91234 56789" || rec.Phones[1] != "+91 98765 43210" {
		t.Errorf("phones %v, want mobilephone first", rec.Phones)
	}
	if st := srv.Stats(); st.BatchRead != 0 || st.GetContact != 0 || st.ListProperties != 1 {
		t.Errorf("stats %+v: want only the property definitions read", st)
	}
	// A retry of the same delivery has the same key; another body another.
	again, err := p.HandleWebhook(context.Background(), workflowRequest(t, creds, "", body))
	if err != nil || again.Events[0].Key != ev.Key {
		t.Fatalf("retry key %q vs %q (%v)", again.Events[0].Key, ev.Key, err)
	}
	srv.AddContact("901", map[string]any{"firstname": "Priya R"})
	changed, _ := srv.WorkflowContact("901", 12345678)
	other, err := p.HandleWebhook(context.Background(), workflowRequest(t, creds, "", changed))
	if err != nil || other.Events[0].Key == ev.Key {
		t.Fatalf("changed body, same key %q (%v)", ev.Key, err)
	}
}

// TestWorkflowCustomBody: a customised body carries the chosen properties;
// an empty one is an explicit null, so the host knows it was sent.
func TestWorkflowCustomBody(t *testing.T) {
	p, _, creds := setup(t, hubspottest.Options{})
	body := hubspottest.WorkflowCustom("902", map[string]any{"firstname": "Ada", "phone": "+14155550123", "company": nil})
	res, err := p.HandleWebhook(context.Background(), workflowRequest(t, creds, "&event=updated", body))
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Events[0]
	if ev.Kind != sdk.KindUpdated || ev.ObjectID != "902" || ev.Record == nil {
		t.Fatalf("event %+v", ev)
	}
	company, held := ev.Record.Fields["company"]
	if !held || !company.IsNull() {
		t.Errorf("company %+v held %v: want an explicit null", company, held)
	}
	if _, held := ev.Record.Fields["lastname"]; held {
		t.Error("lastname was not in the body but is in the record")
	}
	if len(ev.Record.Phones) != 1 || ev.Record.Phones[0] != "+14155550123" {
		t.Errorf("phones %v", ev.Record.Phones)
	}
}

func TestWorkflowProblemsAndRefusals(t *testing.T) {
	p, _, creds := setup(t, hubspottest.Options{})
	// No record id: kept as a problem event, not refused.
	res, err := p.HandleWebhook(context.Background(), workflowRequest(t, creds, "", []byte(`{"firstname":"Ada"}`)))
	if err != nil || len(res.Events) != 1 || !strings.Contains(res.Events[0].Problem, "hs_object_id") || res.Events[0].Key == "" {
		t.Fatalf("no id: %+v %v", res, err)
	}
	// A wrong event parameter names the parameter.
	_, err = p.HandleWebhook(context.Background(), workflowRequest(t, creds, "&event=later", []byte(`{"hs_object_id":"1"}`)))
	if sdk.ClassOf(err) != sdk.ClassBadRequest || !strings.Contains(err.Error(), "event=") {
		t.Fatalf("bad event param: %v", err)
	}
	// Not JSON: refused.
	_, err = p.HandleWebhook(context.Background(), workflowRequest(t, creds, "", []byte(`{"hs_object_id":`)))
	if sdk.ClassOf(err) != sdk.ClassBadRequest {
		t.Fatalf("truncated: %v", err)
	}
	// Signed with another secret: refused before parsing.
	req := workflowRequest(t, creds, "", []byte(`{"hs_object_id":"1"}`))
	req.Credentials[hubspot.CredClientSecret] = "other"
	if _, err := p.HandleWebhook(context.Background(), req); sdk.ClassOf(err) != sdk.ClassInvalidSignature {
		t.Fatalf("bad signature: %v", err)
	}
	// Over MaxBodyBytes: refused, whatever the shape.
	huge := append(append([]byte(`[{"x":"`), bytes.Repeat([]byte("a"), hubspot.MaxBodyBytes)...), `"}]`...)
	if _, err := p.HandleWebhook(context.Background(), workflowRequest(t, creds, "", huge)); sdk.ClassOf(err) != sdk.ClassBadRequest || !strings.Contains(err.Error(), "bytes, over") {
		t.Fatalf("huge body: %v", err)
	}
	// One subscription event posted alone is read as a batch of one.
	res, err = p.HandleWebhook(context.Background(), workflowRequest(t, creds, "", []byte(`{"eventId":1,"subscriptionType":"contact.creation","objectId":77,"portalId":3}`)))
	if err != nil || len(res.Events) != 1 || res.Events[0].Type != "contact.creation" || res.Events[0].Record != nil {
		t.Fatalf("lone event: %+v %v", res, err)
	}
}

// TestWorkflowWithoutDefinitions: when the property definitions cannot be
// read, the record is not sent inline, so the pipeline fetches it.
func TestWorkflowWithoutDefinitions(t *testing.T) {
	p, srv, creds := setup(t, hubspottest.Options{})
	srv.FailNext(3, http.StatusBadGateway)
	res, err := p.HandleWebhook(context.Background(), workflowRequest(t, creds, "", hubspottest.WorkflowCustom("903", map[string]any{"firstname": "Ada"})))
	if err != nil || res.Events[0].Record != nil || res.Events[0].ObjectID != "903" {
		t.Fatalf("%+v %v", res.Events, err)
	}
}
