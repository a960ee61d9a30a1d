package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestRefusedWebhooksAreVisible: a webhook refused for a wrong key or an
// unknown agent is logged once at WARN with its request id (never the
// key), counted by class in /metrics, and listed by `callgate events
// refused` and on the dashboard's events page.
func TestRefusedWebhooksAreVisible(t *testing.T) {
	g, _ := startQuickstart(t)
	if r := runCLI(t, nil, "webhook", "send", "--addr", g.URL, "--agent", "sales-intro", "--key", "wrong-key-123", "--contact", "1001"); r.Code != 1 {
		t.Fatalf("wrong key: exit %d\n%s", r.Code, r.Stdout)
	}
	r := runCLI(t, nil, "webhook", "send", "--addr", g.URL, "--agent", "ghost", "--key", "demo-api-key", "--contact", "1001")
	if r.Code != 1 || !strings.Contains(r.Stdout, `Agent \"ghost\" not found: use one of sales-intro`) {
		t.Fatalf("unknown agent: exit %d\n%s", r.Code, r.Stdout)
	}

	admin := []string{"--addr", g.URL, "--token", "demo-admin-token"}
	list := runCLI(t, nil, append(admin, "events", "refused")...)
	for _, want := range []string{"/call/crm-webhook", "ghost", "404 not_found", "Agent \"ghost\" not found", "403 api_key", "Invalid API key", "127.0.0.1"} {
		if list.Code != 0 || !strings.Contains(list.Stdout, want) {
			t.Errorf("events refused lacks %q (exit %d):\n%s%s", want, list.Code, list.Stdout, list.Stderr)
		}
	}
	if lines := strings.Count(strings.TrimSpace(list.Stdout), "\n"); lines != 2 {
		t.Errorf("events refused lists %d refusals, want 2:\n%s", lines, list.Stdout)
	}

	_, metrics := g.Do(http.MethodGet, "/metrics", nil, nil)
	for _, want := range []string{`callgate_http_refused_total{class="api_key",route="/call/crm-webhook"} 1`, `callgate_http_refused_total{class="not_found",route="/call/crm-webhook"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	g.WaitForOutput("request refused")
	log := g.Output()
	if strings.Contains(log, "wrong-key-123") || strings.Contains(log, "demo-api-key") {
		t.Error("a refused key reached the log")
	}
	warn := regexp.MustCompile(`\[WARN\] +callgate\.refused: request refused: route=/call/crm-webhook status=403 class=api_key reason="Invalid API key".* request_id=\S+`)
	if !warn.MatchString(log) {
		t.Errorf("no WARN line with the reason and request id:\n%s", log)
	}
	if n := strings.Count(log, "request refused"); n != 2 {
		t.Errorf("%d refusal log lines, want one each (2)", n)
	}
}
