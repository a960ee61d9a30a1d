package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// usage is the resources a load round cost, read before and after it:
// CPU time of this process (gateway and load generator together), of the
// plugin processes it started and, on PostgreSQL, of the server processes
// working for the bench; and this process's heap allocations.
type usage struct {
	self    time.Duration
	plugins time.Duration
	db      map[int]time.Duration // server pid → CPU; nil without a database
	mallocs uint64
	bytes   uint64
}

// readUsage samples the counters usage subtracts (db: the database's
// server, nil for none). ReadMemStats stops the world briefly, which is
// why it runs only at round boundaries.
func readUsage(db *pgProbe) usage {
	u := usage{db: db.serverCPU()}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		u.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, pid := range childPIDs(os.Getpid()) {
		u.plugins += procCPU(pid)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	u.mallocs, u.bytes = ms.Mallocs, ms.TotalAlloc
	return u
}

// perRequest is the usage between a and b divided over n requests.
type perRequest struct {
	SelfCPU, PluginCPU time.Duration // CPU per request
	DBCPU              time.Duration // of the PostgreSQL server, per request
	HasDB              bool          // DBCPU was measured
	Allocs             float64       // heap allocations per request (this process)
	Bytes              float64       // bytes allocated per request (this process)
}

func (a usage) per(b usage, n int) perRequest {
	if n <= 0 {
		return perRequest{}
	}
	return perRequest{
		SelfCPU:   (b.self - a.self) / time.Duration(n),
		PluginCPU: (b.plugins - a.plugins) / time.Duration(n),
		DBCPU:     cpuSince(a.db, b.db) / time.Duration(n),
		HasDB:     b.db != nil,
		Allocs:    float64(b.mallocs-a.mallocs) / float64(n),
		Bytes:     float64(b.bytes-a.bytes) / float64(n),
	}
}

func (p perRequest) String() string {
	db := ""
	if p.HasDB {
		db = fmt.Sprintf(" + %5.1fµs db", us(p.DBCPU))
	}
	return fmt.Sprintf("cpu/req %6.1fµs here + %5.1fµs plugins%s  allocs/req %5.0f (%4.1f KB)",
		us(p.SelfCPU), us(p.PluginCPU), db, p.Allocs, p.Bytes/1024)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// childPIDs lists the processes whose parent is pid (the plugin
// processes the bench's gateway started), from /proc; none off Linux.
func childPIDs(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		f := statFields(raw)
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			if child, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
				out = append(out, child)
			}
		}
	}
	return out
}

// procCPU is the user plus system time pid has used (0 when unreadable).
func procCPU(pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := statFields(raw)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// statFields splits /proc/PID/stat after the command name, which is in
// parentheses and may hold spaces: field 0 is the state, 1 the parent
// pid, 11 and 12 utime and stime (fields 3, 4, 14 and 15 of proc(5)).
func statFields(raw []byte) []string {
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return nil
	}
	var out []string
	for _, f := range bytes.Fields(raw[i+1:]) {
		out = append(out, string(f))
	}
	return out
}
