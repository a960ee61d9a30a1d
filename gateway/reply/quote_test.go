package reply

import (
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	long := strings.Repeat("a", 1000)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"short", "Asia/Kolkata", `"Asia/Kolkata"`},
		{"exactly the limit", strings.Repeat("x", MaxQuoted), `"` + strings.Repeat("x", MaxQuoted) + `"`},
		{"one over", strings.Repeat("x", MaxQuoted+1), `"` + strings.Repeat("x", MaxQuoted) + `"…`},
		{"long", long, `"` + long[:MaxQuoted] + `"…`},
		{"multibyte runes are not split", strings.Repeat("é", 100), `"` + strings.Repeat("é", MaxQuoted) + `"…`},
		{"control characters escaped", "a\nb", `"a\nb"`},
		{"invalid utf-8", "\xff", `"\xff"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quote(tc.in); got != tc.want {
				t.Errorf("Quote(%.20q…) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestClip(t *testing.T) {
	if got := Clip("/call/outbound"); got != "/call/outbound" {
		t.Errorf("short value changed: %q", got)
	}
	long := "/" + strings.Repeat("p", 5000)
	if got := Clip(long); got != long[:MaxQuoted]+"…" {
		t.Errorf("Clip(long) = %q", got)
	}
}
