package cli

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// The garbage collector's defaults for callgate's processes (the gateway
// and its built-in plugins). Go's GOGC=100 collects whenever the heap
// doubles; callgate's live heap is small (tens of MB) and its garbage is
// per-request, so at 100 the collector ran on every few thousand
// requests and cost ~20-30 µs of CPU per webhook (docs/performance.md).
// 400 lets the heap grow to five times the live data between cycles;
// the soft memory limit makes the collector work harder again as the
// heap nears memoryShare of the memory the process may use, so the
// higher GOGC cannot push the process towards its container's limit.
const (
	defaultGOGC = 400
	memoryShare = 0.5 // of the cgroup's memory limit, else of the machine's memory
)

// gcSettings is what applyGCDefaults set (zero: left to the environment).
type gcSettings struct {
	GCPercent   int
	MemoryLimit int64
}

// applyGCDefaults sets GOGC and the soft memory limit unless the standard
// GOGC and GOMEMLIMIT environment variables say otherwise: they always
// win (GOGC=100 restores Go's default; GOMEMLIMIT=off drops the limit).
func applyGCDefaults() gcSettings {
	var s gcSettings
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGOGC)
		s.GCPercent = defaultGOGC
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		if avail := availableMemory(); avail > 0 {
			s.MemoryLimit = int64(float64(avail) * memoryShare)
			debug.SetMemoryLimit(s.MemoryLimit)
		}
	}
	return s
}

// availableMemory is the memory this process may use: its cgroup's limit
// (v2, then v1) when there is one, else the machine's; 0 when unknown.
func availableMemory() int64 {
	limit := cgroupLimit()
	total := memTotal()
	if limit > 0 && (total == 0 || limit < total) {
		return limit
	}
	return total
}

// cgroupLimit reads the memory limit of this process's cgroup; 0 when
// there is none ("max") or it cannot be read.
func cgroupLimit() int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
		if err == nil && n > 0 && n < 1<<62 { // v1 says "no limit" with a huge number
			return n
		}
		return 0
	}
	return 0
}

// memTotal is MemTotal from /proc/meminfo, in bytes; 0 when unreadable.
func memTotal() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return parseMemTotal(raw)
}

func parseMemTotal(raw []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
