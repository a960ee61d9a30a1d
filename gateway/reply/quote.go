package reply

import (
	"strconv"
	"strings"
)

// MaxQuoted is how many runes of a caller's value an error message
// repeats back.
const MaxQuoted = 64

// Quote is strconv.Quote of Clip(s): an error names the bad value
// without echoing a megabyte of it back (or into a log line).
func Quote(s string) string {
	c := Clip(s)
	if c == s {
		return strconv.Quote(s)
	}
	return strconv.Quote(strings.TrimSuffix(c, "…")) + "…"
}

// Clip is s cut to MaxQuoted runes, with "…" when it was longer.
func Clip(s string) string {
	n := 0
	for i := range s {
		if n == MaxQuoted {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
