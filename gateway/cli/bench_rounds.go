package cli

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
)

// printRounds sums up alternating rounds as min / median / max of each
// figure: single rounds on a shared machine move with the neighbours.
func printRounds(w io.Writer, bares, gws []loadResult) {
	ratio := make([]float64, len(gws))
	for i := range gws {
		if r := bares[i].Rate(); r > 0 {
			ratio[i] = gws[i].Rate() / r
		}
	}
	fmt.Fprintf(w, "over %d rounds (min / median / max):\n", len(gws))
	for _, set := range []struct {
		name string
		rs   []loadResult
	}{{"bare", bares}, {"gateway", gws}} {
		rs := set.rs
		db := ""
		if rs[0].Use.HasDB {
			db = " + " + spread(rs, "%.1f", func(r loadResult) float64 { return us(r.Use.DBCPU) }) + " µs db"
		}
		fmt.Fprintf(w, "  %-8s req/s %s  p50 %s ms  p99 %s ms  cpu/req %s µs here + %s µs plugins%s  allocs/req %s\n", set.name,
			spread(rs, "%.0f", func(r loadResult) float64 { return r.Rate() }),
			spread(rs, "%.2f", func(r loadResult) float64 { return ms(r.P50) }),
			spread(rs, "%.2f", func(r loadResult) float64 { return ms(r.P99) }),
			spread(rs, "%.1f", func(r loadResult) float64 { return us(r.Use.SelfCPU) }),
			spread(rs, "%.1f", func(r loadResult) float64 { return us(r.Use.PluginCPU) }),
			db,
			spread(rs, "%.0f", func(r loadResult) float64 { return r.Use.Allocs }))
	}
	fmt.Fprintf(w, "  gateway/bare %s\n", spreadOf(ratio, "%.3f"))
}

func spread(rs []loadResult, format string, f func(loadResult) float64) string {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return spreadOf(v, format)
}

func spreadOf(v []float64, format string) string {
	v = slices.Clone(v)
	slices.SortFunc(v, cmp.Compare)
	return fmt.Sprintf(format+" / "+format+" / "+format, v[0], v[len(v)/2], v[len(v)-1])
}

// startProfile starts a CPU profile into path.round (nothing when path is
// empty) and returns what stops it.
func startProfile(path string, round int) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", path, round))
	if err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// startMemProfile samples every 4 KiB allocated while a gateway round runs
// (and nothing between rounds) when a memory profile is asked for.
func startMemProfile(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	runtime.MemProfileRate = 4096
	return func() { runtime.MemProfileRate = 0 }
}

// writeMemProfile writes the allocations sampled during the gateway rounds.
func writeMemProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: memory profile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return fmt.Errorf("bench: memory profile: %w", err)
	}
	return nil
}
