//go:build !linux

package fftw

import "time"

// threadCPU is unknown outside Linux.
func threadCPU() time.Duration { return 0 }
