package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/callgate/callgate/gateway/api"
	"github.com/callgate/callgate/gateway/store"
)

// FuzzParseCallQuery: any query string either parses into a filter whose
// phone is E.164 and whose limit is in range, or is refused naming a field.
func FuzzParseCallQuery(f *testing.F) {
	for _, s := range []string{"", "agent_id=a&status=failed", "phone=098123+45678", "since=2026-11-27T10:00:00Z&until=2026-11-28T00:00:00Z", "limit=500", "limit=-1", "phone=%2B14155550123&cursor=AAAA",
		"q=ada%40example.com", "q=098123+45678", "q=123", "q=%E0%A4%85%E0%A4%A8", "q=12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := api.ParseCallQuery(v, "IN")
		if err == nil && q.Search.Phone != "" && !strings.HasPrefix(q.Search.Phone, "+") {
			t.Fatalf("search phone %q is not E.164", q.Search.Phone)
		}
		if err != nil {
			if !strings.Contains(err.Error(), ":") {
				t.Fatalf("error %q names no field", err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > api.MaxLimit {
			t.Fatalf("limit %d out of range", q.Limit)
		}
		if q.Phone != "" && !strings.HasPrefix(q.Phone, "+") {
			t.Fatalf("phone %q is not E.164", q.Phone)
		}
	})
}

// FuzzParseRulesTest: any body is accepted with an agent and either an
// object record or a record id, or refused naming a field; never a panic.
func FuzzParseRulesTest(f *testing.F) {
	for _, s := range []string{`{"agent_id":"a","record":{"x":1}}`, `{"agent_id":"a","record":{},"event":{"kind":"updated"}}`, `{`, `[]`, `{"agent_id":" ","record":null}`, `{"agent_id":"a","record_id":"1001"}`, `{"agent_id":"a","record_id":"1","record":{}}`, `{"agent_id":"a","record_id":"../x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := api.ParseRulesTest(body)
		if err != nil {
			if !strings.Contains(err.Error(), ":") {
				t.Fatalf("error %q names no field", err)
			}
			return
		}
		if req.AgentID == "" || (len(req.Record) == 0) == (req.RecordID == "") {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// FuzzParseOutboxQuery: any query string either parses into a filter with
// a known kind and a limit in range, or is refused naming a field.
func FuzzParseOutboxQuery(f *testing.F) {
	for _, s := range []string{"", "dead=true&kind=webhook", "dead=0&kind=writeback&call_id=01J", "kind=sms", "dead=maybe", "limit=500&cursor=01ABC", "limit=-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := api.ParseOutboxQuery(v)
		if err != nil {
			if !strings.Contains(err.Error(), ":") {
				t.Fatalf("error %q names no field", err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > api.MaxLimit {
			t.Fatalf("limit %d out of range", q.Limit)
		}
		if q.Kind != "" && q.Kind != store.OutboxWebhook && q.Kind != store.OutboxWriteback {
			t.Fatalf("kind %q accepted", q.Kind)
		}
	})
}

// FuzzParseEraseRequest: any body names exactly one person (a number, or
// a contact type and id) or is refused naming a field; never a panic.
func FuzzParseEraseRequest(f *testing.F) {
	for _, s := range []string{`{"number":"+919812345601"}`, `{"contact_type":"hubspot","object_id":"7","account":"62515"}`,
		`{"number":"1","object_id":"7"}`, `{}`, `{"phone":"x"}`, `{"number":"1"}{}`, `[`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := api.ParseEraseRequest(body)
		if err != nil {
			if !strings.Contains(err.Error(), ":") {
				t.Fatalf("error %q names no field", err)
			}
			return
		}
		byNumber := req.Number != ""
		byContact := req.ContactType != "" && req.ObjectID != ""
		if byNumber == byContact {
			t.Fatalf("accepted %+v: want exactly one of a number and a contact", req)
		}
	})
}
