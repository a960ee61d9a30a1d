//go:build !linux

package rules

// threadCPU is not measured off Linux.
func threadCPU() (ns int64, ok bool) { return 0, false }
