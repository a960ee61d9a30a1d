package hubspot

import (
	"slices"
	"testing"

	"github.com/callgate/callgate/sdk"
)

// FuzzDecodeCursor: any string either fails as bad_request or decodes
// into a cursor that encodes and decodes back to itself. Seeds:
// testdata/fuzz/FuzzDecodeCursor.
func FuzzDecodeCursor(f *testing.F) {
	f.Add("")
	f.Add(listCursor{After: "100", Last: 1772442000000, Tied: []string{"7010", "7011"}}.encode())
	f.Add(listCursor{Since: 1772442000000, Last: 1772442060000, Tied: []string{"1"}}.encode())
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			if sdk.ClassOf(err) != sdk.ClassBadRequest {
				t.Fatalf("error of class %s, want bad_request: %v", sdk.ClassOf(err), err)
			}
			return
		}
		if s == "" {
			return
		}
		again, err := decodeCursor(c.encode())
		if err != nil {
			t.Fatalf("a decoded cursor does not decode once re-encoded: %v", err)
		}
		if again.After != c.After || again.Since != c.Since || again.Last != c.Last || !slices.Equal(again.Tied, c.Tied) {
			t.Fatalf("round trip changed the cursor: %+v → %+v", c, again)
		}
	})
}
