package dialer_test

import (
	"errors"
	"strings"
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
	if u := o.RecordingURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		t.Fatalf("recording URL %q accepted: only http(s) may reach the audio player", u)
	}
	if n := o.FromNumber; n != "" && (n[0] != '+' || len(n) > 16) {
		t.Fatalf("from number %q accepted", n)
	}
	if len(o.Transcript) > dialer.MaxTurns || len(o.Disposition) > dialer.MaxDisposition+3 || len(o.Summary) > dialer.MaxSummary+3 {
		t.Fatalf("outcome fields out of bounds: %d turns, disposition %d, summary %d bytes", len(o.Transcript), len(o.Disposition), len(o.Summary))
	}
	switch o.Status {
	case "completed", "no_answer", "busy", "failed", "voicemail", "canceled":
	default:
		t.Fatalf("status %q accepted", o.Status)
	}
	if o.CallID == "" || o.Attempt < 1 || o.DurationS < 0 || len(o.Reason) > 600 {
		t.Fatalf("outcome out of bounds: %+v", o)
	}
}
