package dialer_test

import (
	"errors"
	"testing"

	"github.com/callgate/callgate/gateway/dialer"
)

// Seeds live in testdata/fuzz/<target>/.

func FuzzParseHTTPCallback(f *testing.F) {
	f.Add([]byte(`{"call_id":"01JD","attempt":1,"status":"completed","provider_call_id":"p","duration_s":61.5,"reason":"ok"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := dialer.ParseHTTPCallback(body)
		if err != nil {
			if !errors.Is(err, dialer.ErrBadCallback) {
				t.Fatalf("error without a class: %v", err)
			}
			return
		}
		checkOutcome(t, o)
	})
}

func FuzzParseCallkaroWebhook(f *testing.F) {
	f.Add([]byte(`{"event":"call_ended","data":{"callSid":"s","call_duration":12,"hangup_reason":"CLIENT_INITIATED","call_metadata":{"callgate_call_id":"c","callgate_attempt":"1"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := dialer.ParseCallkaroWebhook(body)
		if err != nil {
			if !errors.Is(err, dialer.ErrBadCallback) && !errors.Is(err, dialer.ErrIgnored) {
				t.Fatalf("error without a class: %v", err)
			}
			return
		}
		checkOutcome(t, o)
		if o.Reason == "" {
			t.Fatal("callkaro outcome without a reason")
		}
	})
}

func checkOutcome(t *testing.T, o dialer.Outcome) {
	t.Helper()
	switch o.Status {
	case "completed", "no_answer", "busy", "failed", "voicemail", "canceled":
	default:
		t.Fatalf("status %q accepted", o.Status)
	}
	if o.CallID == "" || o.Attempt < 1 || o.DurationS < 0 || len(o.Reason) > 600 {
		t.Fatalf("outcome out of bounds: %+v", o)
	}
}
