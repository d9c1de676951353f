//go:build !linux

package wavelet

// threadCPU is unknown outside Linux.
func threadCPU() float64 { return 0 }
