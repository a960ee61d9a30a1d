package ingest_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestSubSecondGapsRefused: a gap under the one-minute floor (0.0001 h is
// 0.36 s, once stored as 0 s and redialed at once) is a 400 naming
// gap_between_retries, on the webhook and on /call/outbound alike.
func TestSubSecondGapsRefused(t *testing.T) {
	e := newEnv(t, envOptions{})
	q := "type=hubspot&agent_id=sales&x_api_key=" + keyAny
	for i, gaps := range []string{"0.0001", "2,0.0001", "30s"} {
		u, b, h := e.signed(q+"&num_of_retries=3&gap_between_retries="+gaps, int64(900+i))
		r := post(t, u, h, b)
		msg, _ := r.body["message"].(string)
		if r.code != http.StatusBadRequest || !strings.Contains(msg, "gap_between_retries") || !strings.Contains(msg, "at least 1m") {
			t.Errorf("webhook gap_between_retries=%s: %d %q, want 400 naming the parameter and the floor", gaps, r.code, msg)
		}
	}
	key := http.Header{"X-Api-Key": {keyAny}, "Content-Type": {"application/json"}}
	for _, gaps := range []string{`0.001`, `[30, 0.5]`} { // minutes
		r := post(t, e.url+"/call/outbound", key, []byte(`{"to_number":"+919876543219","agent_id":"sales","number_of_retries":2,"gap_between_retries":`+gaps+`}`))
		msg, _ := r.body["message"].(string)
		if r.code != http.StatusBadRequest || !strings.Contains(msg, "gap_between_retries") {
			t.Errorf("outbound gap_between_retries=%s: %d %q, want 400 naming the parameter", gaps, r.code, msg)
		}
	}
	u, b, h := e.signed(q+"&num_of_retries=3&gap_between_retries=0.0167", 950) // 60.1 s rounds to 1m: allowed
	if r := post(t, u, h, b); r.code != http.StatusOK {
		t.Errorf("a one-minute gap: %d %v", r.code, r.body)
	}
}
