package api

import (
	"encoding/json"
	"time"
)

// The admin API's JSON has its own types (wire_*.go), apart from the
// store's records: a backend may change its schema without changing what
// clients read, and the wire format changes only on purpose
// (testdata/wire holds it, byte for byte). Each type mirrors its record's
// JSON tags; a New… function converts the record. gateway/cli decodes
// into these types too.

// Duration is a time.Duration that reads and writes JSON as "2h0m0s".
type Duration time.Duration

// MarshalJSON writes d as Go's duration text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads Go's duration text ("90s", "2h0m0s").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// String is Go's duration text.
func (d Duration) String() string { return time.Duration(d).String() }

// convertAll converts each element of in with f, keeping nil nil: the
// API shows an absent list and an empty one differently (omitempty).
func convertAll[S, T any](in []S, f func(S) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}
