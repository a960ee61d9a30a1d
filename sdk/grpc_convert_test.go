package sdk

import (
	"math"
	"testing"
	"time"
	"unicode/utf8"

	crmpb "github.com/callgate/callgate/sdk/proto"
	"google.golang.org/protobuf/proto"
)

// FuzzEventRoundTrip feeds arbitrary plugin output (strings that may not be
// UTF-8, any number, any time) through the wire: it must always encode, and
// come back equal when it was valid.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("k1", "Ada", 42.5, int64(1764235815), true)
	f.Add("a\xffb", "\xc3", math.Inf(1), int64(-62135596800), false)
	f.Add("", "", math.NaN(), int64(253402300799), true)
	f.Fuzz(func(t *testing.T, key, s string, n float64, unix int64, b bool) {
		when := time.Unix(unix, 0).UTC()
		in := []Event{{Key: key, Value: s, OccurredAt: when, Record: &Record{ObjectID: key, Phones: []string{s},
			Fields: map[string]Value{"s:" + s: StringValue(s), "n": NumberValue(n), "b": BoolValue(b), "t": TimeValue(when), "null": {}}}}}
		wire, err := proto.Marshal(&crmpb.HandleWebhookResponse{Events: eventsToPB(in)})
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var resp crmpb.HandleWebhookResponse
		if err := proto.Unmarshal(wire, &resp); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		out := eventsFromPB(resp.GetEvents())
		if len(out) != 1 || out[0].Record == nil {
			t.Fatalf("got %+v", out)
		}
		if utf8.ValidString(key) && utf8.ValidString(s) {
			if out[0].Key != key || out[0].Value != s || out[0].Record.Fields["s:"+s].String != s {
				t.Fatalf("strings changed: %+v", out[0])
			}
		}
		nv := out[0].Record.Fields["n"].Number
		if nv != n && !(math.IsNaN(n) && math.IsNaN(nv)) {
			t.Fatalf("number %v came back %v", n, nv)
		}
		if out[0].Record.Fields["b"].Bool != b || out[0].Record.Fields["null"].Type != TypeNull {
			t.Fatalf("bool or null changed: %+v", out[0].Record.Fields)
		}
		if timestampOK(when) && !out[0].Record.Fields["t"].Time.Equal(when) {
			t.Fatalf("time %v came back %v", when, out[0].Record.Fields["t"].Time)
		}
	})
}

// timestampOK says whether t is in protobuf Timestamp's range (years 1–9999).
func timestampOK(t time.Time) bool {
	return t.Year() >= 1 && t.Year() <= 9999
}

// Valid strings go into the messages as they are (no copy); invalid UTF-8
// is replaced in a copy, the caller's slice and map untouched.
func TestUTFCopiesOnlyWhenInvalid(t *testing.T) {
	valid := []string{"a", "b"}
	if got := utfs(valid); &got[0] != &valid[0] {
		t.Error("a valid slice was copied")
	}
	bad := []string{"ok", "a\xffb", "c"}
	got := utfs(bad)
	if got[0] != "ok" || got[1] != "a\uFFFDb" || got[2] != "c" || bad[1] != "a\xffb" {
		t.Errorf("got %q from %q", got, bad)
	}
	creds := Credentials{"token": "t\xff"}
	if pb := credsToPB(creds); pb.GetValues()["token"] != "t\uFFFD" || creds["token"] != "t\xff" {
		t.Errorf("got %q from %q", pb.GetValues(), creds)
	}
	if pb := credsToPB(Credentials{"token": "t"}); pb.GetValues()["token"] != "t" {
		t.Errorf("got %q", pb.GetValues())
	}
}
