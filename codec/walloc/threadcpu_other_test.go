//go:build !linux

package walloc

// threadCPU is unknown outside Linux.
func threadCPU() float64 { return 0 }
