package rules

import "syscall"

// threadCPU is the CPU time the calling OS thread has used, in ns. Wall
// time per op swings with the load of a shared machine; CPU time much less.
func threadCPU() (ns int64, ok bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), true
}
