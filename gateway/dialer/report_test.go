package dialer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callgate/callgate/gateway/dialer"
	"github.com/callgate/callgate/gateway/store"
)

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// base is a valid callback; each case adds fields after its last brace.
const base = `{"call_id":"01JDCALL","attempt":1,"status":"completed","duration_s":61.5`

func TestHTTPCallbackOutcomeFields(t *testing.T) {
	tests := []struct {
		name string
		tail string // appended to base, then "}"
		want dialer.Report
	}{
		{name: "none", tail: ``, want: dialer.Report{}},
		{name: "everything", tail: `,"recording_url":"https://rec.example.com/a/01JDCALL.mp3?sig=x",
			"transcript":[{"speaker":"agent","text":"Hello Ada","at":"2026-11-27T09:00:01Z"},{"speaker":"user","text":"Hi"}],
			"summary":"Wants a demo on Monday","disposition":"interested","from_number":"+918035551234",
			"data":{"lead_status":"interested","budget":250000,"callback":true,"slots":["mon","tue"]}`,
			want: dialer.Report{RecordingURL: "https://rec.example.com/a/01JDCALL.mp3?sig=x",
				Transcript: []store.Turn{{Speaker: "agent", Text: "Hello Ada", At: at("2026-11-27T09:00:01Z")}, {Speaker: "user", Text: "Hi"}},
				Summary:    "Wants a demo on Monday", Disposition: "interested", FromNumber: "+918035551234",
				Data: map[string]any{"lead_status": "interested", "budget": 250000.0, "callback": true, "slots": []any{"mon", "tue"}}}},
		{name: "transcript as text", tail: `,"transcript":"agent: Hello\nuser: Hi"`,
			want: dialer.Report{Transcript: []store.Turn{{Text: "agent: Hello\nuser: Hi"}}}},
		{name: "empty transcript text", tail: `,"transcript":"  "`, want: dialer.Report{}},
		{name: "null fields", tail: `,"transcript":null,"data":null,"summary":null`, want: dialer.Report{}},
		{name: "turn time with offset", tail: `,"transcript":[{"text":"Namaste","at":"2026-11-27T14:30:01+05:30"}]`,
			want: dialer.Report{Transcript: []store.Turn{{Text: "Namaste", At: at("2026-11-27T09:00:01Z")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := dialer.ParseHTTPCallback([]byte(base + tt.tail + "}"))
			if err != nil {
				t.Fatal(err)
			}
			if o.DurationS != 61.5 || o.Status != "completed" {
				t.Errorf("outcome = %+v", o)
			}
			if !reflect.DeepEqual(o.Report, tt.want) {
				t.Errorf("report = %#v\nwant     %#v", o.Report, tt.want)
			}
		})
	}
}

// TestHTTPCallbackBadFieldsNameThemselves: a platform developer reading
// the 400 must see which field to fix.
func TestHTTPCallbackBadFieldsNameThemselves(t *testing.T) {
	tests := []struct {
		name, tail, want string
	}{
		{"recording not http", `,"recording_url":"javascript:alert(1)"`, "recording_url"},
		{"recording relative", `,"recording_url":"/rec/1.mp3"`, "recording_url"},
		{"recording a number", `,"recording_url":12`, "recording_url must be a string"},
		{"recording too long", `,"recording_url":"https://x.example/` + strings.Repeat("a", 2100) + `"`, "recording_url is"},
		{"transcript a number", `,"transcript":42`, "transcript must be a string or an array"},
		{"transcript an object", `,"transcript":{"text":"hi"}`, "transcript must be a string or an array"},
		{"turn not an object", `,"transcript":["hi"]`, "transcript[0] must be an object"},
		{"turn without text", `,"transcript":[{"text":"a"},{"speaker":"agent"}]`, "transcript[1].text is missing"},
		{"turn text a number", `,"transcript":[{"text":5}]`, "transcript[0].text must be a string"},
		{"turn bad time", `,"transcript":[{"text":"a","at":"yesterday"}]`, `transcript[0].at "yesterday" is not an RFC 3339 time`},
		{"turn long speaker", `,"transcript":[{"text":"a","speaker":"` + strings.Repeat("s", 101) + `"}]`, "transcript[0].speaker is 101 bytes"},
		{"summary a list", `,"summary":["a"]`, "summary must be a string, not a JSON array"},
		{"summary too long", `,"summary":"` + strings.Repeat("x", dialer.MaxSummary+1) + `"`, "summary is 20001 bytes"},
		{"disposition too long", `,"disposition":"` + strings.Repeat("x", 201) + `"`, "disposition is 201 bytes"},
		{"from without plus", `,"from_number":"919876543210"`, `from_number "919876543210" is not an E.164 number`},
		{"from a number", `,"from_number":919876543210`, "from_number must be a string"},
		{"data a list", `,"data":[1,2]`, "data must be an object, not a JSON array"},
		{"data a string", `,"data":"interested"`, "data must be an object, not a JSON string"},
		{"data empty key", `,"data":{"":1}`, "data key"},
		{"attempt text", `,"attempt":"one"`, "attempt must be a whole number, not a JSON string"},
		{"duration text", `,"duration_s":"61"`, "duration_s must be a number, not a JSON string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dialer.ParseHTTPCallback([]byte(base + tt.tail + "}"))
			if !errors.Is(err, dialer.ErrBadCallback) {
				t.Fatalf("err = %v, want ErrBadCallback", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestHTTPCallbackDataKeyLimit: the limit is on keys, at the edge.
func TestHTTPCallbackDataKeyLimit(t *testing.T) {
	keys := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
		}
		return b.String()
	}
	if _, err := dialer.ParseHTTPCallback([]byte(base + `,"data":{` + keys(dialer.MaxDataKeys) + `}}`)); err != nil {
		t.Fatalf("%d keys: %v", dialer.MaxDataKeys, err)
	}
	_, err := dialer.ParseHTTPCallback([]byte(base + `,"data":{` + keys(dialer.MaxDataKeys+1) + `}}`))
	if !errors.Is(err, dialer.ErrBadCallback) || !strings.Contains(err.Error(), "data has 201 keys") {
		t.Fatalf("err = %v", err)
	}
}

// TestCallkaroOutcomeFields reads call_ended payloads under
// testdata/callkaro: the hosted docs' example (with the metadata the
// callkaro dialer adds), a missed call with no conversation, a payload
// with only post_call_detail, and one with fields in odd shapes.
func TestCallkaroOutcomeFields(t *testing.T) {
	tests := []struct {
		file   string
		status string
		want   dialer.Report
	}{
		{file: "call_ended_docs.json", status: "completed", want: dialer.Report{
			RecordingURL: "https://example.com/recording.mp3",
			Transcript:   []store.Turn{{Text: "Full call transcript..."}},
			Disposition:  "Customer requested callback", FromNumber: "+919876543210",
			Data: map[string]any{"lead_status": "interested", "conversion_status": true,
				"call_link": "https://callkaro.ai/dashboard/call-history?call_id=abc123"}}},
		{file: "call_ended_no_answer.json", status: "no_answer", want: dialer.Report{
			FromNumber: "+918035551234",
			Data: map[string]any{"conversion_status": false,
				"call_link": "https://callkaro.ai/dashboard/call-history?call_id=69ab01c2d3e4f5a6b7c8d9e1"}}},
		{file: "call_ended_detail_only.json", status: "completed", want: dialer.Report{
			RecordingURL: "https://recordings.callkaro.ai/2026/11/27/69ab01c2.mp3",
			Transcript:   []store.Turn{{Text: "Agent: Namaste, am I speaking with Priya?\nUser: Yes.\nAgent: You asked about a demo...\nUser: Call me on Monday."}},
			Summary:      "Priya wants a demo on Monday morning.", Disposition: "Interested", FromNumber: "+918035551234",
			Data: map[string]any{"lead_status": "interested", "summary": "Priya wants a demo on Monday morning.",
				"callback_day": "monday", "conversion_status": true}}},
		{file: "call_ended_odd_shapes.json", status: "completed", want: dialer.Report{
			Disposition: "callback",
			Data:        map[string]any{"call_summary": 7.0}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "callkaro", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			o, err := dialer.ParseCallkaroWebhook(body)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != tt.status {
				t.Errorf("status = %s, want %s", o.Status, tt.status)
			}
			if !reflect.DeepEqual(o.Report, tt.want) {
				t.Errorf("report = %#v\nwant     %#v", o.Report, tt.want)
			}
		})
	}
}

// TestHTTPDialSynchronousReport: a synchronous platform may put the
// outcome fields in its 2xx; a malformed one is dropped, never the outcome.
func TestHTTPDialSynchronousReport(t *testing.T) {
	tests := []struct {
		name, answer string
		want         dialer.Report
	}{
		{"kept", `{"provider_call_id":"pc-1","status":"completed","duration_s":30,"summary":"Booked a demo","disposition":"interested",
			"transcript":"agent: Hello\nuser: Yes","data":{"lead_status":"hot"}}`,
			dialer.Report{Summary: "Booked a demo", Disposition: "interested", Transcript: []store.Turn{{Text: "agent: Hello\nuser: Yes"}},
				Data: map[string]any{"lead_status": "hot"}}},
		{"malformed field dropped", `{"provider_call_id":"pc-1","status":"completed","duration_s":30,"recording_url":"file:///etc/passwd","summary":"x"}`,
			dialer.Report{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tt.answer))
			}))
			defer srv.Close()
			placed, err := newHTTP(t, srv.URL, time.Second).Dial(context.Background(), request(1))
			if err != nil {
				t.Fatal(err)
			}
			if placed.Outcome == nil || placed.Outcome.Status != "completed" || placed.Outcome.DurationS != 30 {
				t.Fatalf("outcome = %+v", placed.Outcome)
			}
			if !reflect.DeepEqual(placed.Outcome.Report, tt.want) {
				t.Errorf("report = %#v, want %#v", placed.Outcome.Report, tt.want)
			}
		})
	}
}
