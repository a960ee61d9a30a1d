package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/store"
)

// TestAuditPage: the audit shows the leads not accounted for first, then
// the figures, the reasons, the records with no event and each
// integration's reconciliation.
func TestAuditPage(t *testing.T) {
	f := newFixture(t, "")
	c := newClient(t, f.srv.URL)
	c.signIn()

	// All is well: nothing created, nothing unaccounted.
	resp, body := c.get("/ui/audit")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, w := range []string{`<a href="/ui/audit" class="on">Audit</a>`, `<p class="flash ok" id="unaccounted"`, "Leads not accounted for: 0",
		`<option value="24h" selected>last 24 hours</option>`, "<td>lsq</td><td colspan=\"5\" class=\"small\">off: no reconcile block</td>"} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}

	created := f.now.Add(-time.Hour)
	var listed []store.ListedRecord
	for _, id := range []string{"501", "502"} {
		listed = append(listed, store.ListedRecord{Integration: "hubspot", ObjectType: "contact", ObjectID: id, CreatedAt: created})
	}
	if err := f.db.RecordListing(context.Background(), "hubspot", "created:contact", f.now, listed, f.now.Add(-store.ListedRetention)); err != nil {
		t.Fatal(err)
	}
	_, err := f.inbox.AppendEvents(context.Background(), []store.Event{{Key: "k501", AgentID: "sales-intro", Type: "hubspot", Integration: "hubspot",
		Kind: "created", ObjectType: "contact", ObjectID: "501", Status: store.EventIgnored, Reason: "when is false"}}, store.AppendOptions{Now: f.now.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	_, body = c.get("/ui/audit?since=72h&agent_id=sales-intro")
	for _, w := range []string{`<p class="flash bad" id="unaccounted"`, "Leads not accounted for: 1", "<th scope=\"row\">Records created in the CRM</th><td>2</td>",
		"<th scope=\"row\">Events received by webhook</th><td>1</td>", `<td>1</td><td>when is false</td>`,
		`<td class="mono">502</td>`, `<option value="72h" selected>`, `<option value="sales-intro" selected>`, "<td>hubspot</td><td>15m0s</td>"} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if strings.Contains(body, "<td>lsq</td>") {
		t.Error("an agent's audit shows an integration it is not served by")
	}
	if resp, body := c.get("/ui/audit?since=yesterday"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "since: ") {
		t.Errorf("a bad period: %d", resp.StatusCode)
	}
}
