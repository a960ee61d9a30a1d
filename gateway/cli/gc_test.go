package cli

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"MemTotal:       24576000 kB\nMemFree:  100 kB\n", 24576000 << 10},
		{"MemFree:  100 kB\nMemTotal: 2048 kB\n", 2048 << 10},
		{"MemFree:  100 kB\n", 0},
		{"MemTotal: lots kB\n", 0},
		{"", 0},
	} {
		if got := parseMemTotal([]byte(tc.in)); got != tc.want {
			t.Errorf("%q: got %d, want %d", tc.in, got, tc.want)
		}
	}
}

// restoreGC puts the test binary's GC settings back.
func restoreGC(t *testing.T) {
	pct := debug.SetGCPercent(100)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	})
}

// Without GOGC and GOMEMLIMIT the defaults apply; either variable, when
// set, wins over its default.
func TestApplyGCDefaults(t *testing.T) {
	restoreGC(t)
	t.Run("defaults", func(t *testing.T) {
		t.Setenv("GOGC", "")
		t.Setenv("GOMEMLIMIT", "")
		unsetEnv(t, "GOGC", "GOMEMLIMIT")
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
		s := applyGCDefaults()
		if got := debug.SetGCPercent(100); got != defaultGOGC || s.GCPercent != defaultGOGC {
			t.Errorf("GOGC %d (reported %d), want %d", got, s.GCPercent, defaultGOGC)
		}
		if avail := availableMemory(); avail > 0 {
			if got := debug.SetMemoryLimit(-1); got != s.MemoryLimit || s.MemoryLimit != int64(float64(avail)*memoryShare) {
				t.Errorf("memory limit %d (reported %d), want %v of %d", got, s.MemoryLimit, memoryShare, avail)
			}
		}
	})
	t.Run("environment wins", func(t *testing.T) {
		t.Setenv("GOGC", "150")
		t.Setenv("GOMEMLIMIT", "off")
		debug.SetGCPercent(150) // what the runtime read from GOGC at start
		debug.SetMemoryLimit(math.MaxInt64)
		if s := applyGCDefaults(); s != (gcSettings{}) {
			t.Errorf("set %+v with both variables given", s)
		}
		if got := debug.SetGCPercent(100); got != 150 {
			t.Errorf("GOGC %d, want the environment's 150", got)
		}
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Errorf("memory limit %d, want none (GOMEMLIMIT=off)", got)
		}
	})
}

// unsetEnv removes keys for the test (t.Setenv first, so they come back).
func unsetEnv(t *testing.T, keys ...string) {
	for _, k := range keys {
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
}
