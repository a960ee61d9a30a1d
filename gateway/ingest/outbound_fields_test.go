package ingest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/store"
)

// TestOutboundBatchPriorityLanguage: the hosted API's batch_id, priority
// and language are checked, kept on the call and never silently dropped.
func TestOutboundBatchPriorityLanguage(t *testing.T) {
	e := newEnv(t, envOptions{withScheduler: true})
	key := http.Header{"X-Api-Key": {keyAny}, "Content-Type": {"application/json"}}
	tests := []struct {
		name, fields string
		code         int
		msg          string
		want         store.Call // BatchID, Priority, Language of the stored call
	}{
		{"all three", `"batch_id":"0303fa770b666a64ab1694c1e","priority":40,"language":"hi"`, 200, "queued",
			store.Call{BatchID: "0303fa770b666a64ab1694c1e", Priority: 40, Language: "hi"}},
		{"priority as text, language in capitals", `"priority":"-100","language":"EN"`, 200, "queued",
			store.Call{Priority: -100, Language: "en"}},
		{"nulls", `"priority":null,"batch_id":"","language":""`, 200, "queued", store.Call{}},
		{"priority too high", `"priority":101`, 400, "invalid priority \"101\": use a whole number from -100 to 100", store.Call{}},
		{"priority a fraction", `"priority":2.5`, 400, "invalid priority", store.Call{}},
		{"priority a word", `"priority":"high"`, 400, "invalid priority", store.Call{}},
		{"priority an object", `"priority":{}`, 400, "invalid priority", store.Call{}},
		{"language not ISO 639-1", `"language":"eng"`, 400, "invalid language \"eng\": use an ISO 639-1 code", store.Call{}},
		{"language unknown", `"language":"xx"`, 400, "invalid language", store.Call{}},
		{"batch too long", `"batch_id":"` + strings.Repeat("b", 101) + `"`, 400, "invalid batch_id", store.Call{}},
		{"batch with a newline", `"batch_id":"a\nb"`, 400, "invalid batch_id", store.Call{}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			number := fmt.Sprintf("+9198765433%02d", i)
			r := post(t, e.url+"/call/outbound", key, []byte(`{"to_number":"`+number+`","agent_id":"sales",`+tc.fields+`}`))
			if r.code != tc.code || !strings.Contains(r.body["message"].(string), tc.msg) {
				t.Fatalf("= %d %v, want %d %q", r.code, r.body, tc.code, tc.msg)
			}
			if tc.code != 200 {
				return
			}
			c, err := e.db.GetCall(t.Context(), r.body["call_sid"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if c.BatchID != tc.want.BatchID || c.Priority != tc.want.Priority || c.Language != tc.want.Language {
				t.Errorf("call keeps batch %q priority %d language %q, want %q %d %q",
					c.BatchID, c.Priority, c.Language, tc.want.BatchID, tc.want.Priority, tc.want.Language)
			}
		})
	}
}
