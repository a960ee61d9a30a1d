package leadsquared

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
	f.Add(listCursor{Since: 1772442000, Tied: []string{"a1b2", "c3d4"}}.encode())
	f.Fuzz(func(t *testing.T, s string) {
		c, resumed, err := decodeCursor(s)
		if err != nil {
			if sdk.ClassOf(err) != sdk.ClassBadRequest {
				t.Fatalf("error of class %s, want bad_request: %v", sdk.ClassOf(err), err)
			}
			return
		}
		if !resumed {
			if s != "" {
				t.Fatalf("%q decoded as no cursor", s)
			}
			return
		}
		again, ok, err := decodeCursor(c.encode())
		if err != nil || !ok || again.Since != c.Since || !slices.Equal(again.Tied, c.Tied) {
			t.Fatalf("round trip changed the cursor: %+v → %+v (%v)", c, again, err)
		}
	})
}
