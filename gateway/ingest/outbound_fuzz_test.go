package ingest

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzOutboundBody: any /call/outbound body either decodes into policy
// values ParsePolicyParams accepts, or fails with a ParamError; nothing panics.
func FuzzOutboundBody(f *testing.F) {
	for _, s := range []string{
		`{"to_number":"+919876543210","agent_id":"a","carry_over":true,"number_of_retries":3,"gap_between_retries":[30,60]}`,
		`{"gap_between_retries":45,"number_of_retries":"2","carry_over":"false"}`,
		`{"gap_between_retries":[0.5],"carry_over":1}`,
		`{"gap_between_retries":"soon"}`,
		`{"carry_over":{}}`,
		`{"metadata":{"n":[1,{"x":null}]},"gap_between_retries":1e308}`,
		`{"batch_id":"0303fa770b666a64ab1694c1e","priority":-100,"language":"hi"}`,
		`{"priority":"100.0","language":"EN"}`,
		`{"priority":1e300,"language":"eng","batch_id":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req OutboundRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		for _, v := range req.Metadata {
			_ = plainString(v)
		}
		vals, err := outboundValues(req)
		if err == nil {
			_, err = ParsePolicyParams(vals)
		}
		if err == nil {
			var x outboundExtras
			x, err = parseOutboundExtras(req)
			if err == nil && (x.Priority < MinPriority || x.Priority > MaxPriority || (x.Language != "" && len(x.Language) != 2) || len(x.BatchID) > MaxBatchID) {
				t.Fatalf("accepted out of bounds: %+v", x)
			}
		}
		var pe *ParamError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %T %v is not a ParamError", err, err)
		}
	})
}
