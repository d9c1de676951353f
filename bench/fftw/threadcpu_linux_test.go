package fftw

import (
	"syscall"
	"time"
)

// rusageThread is RUSAGE_THREAD: the CPU time of the calling thread.
const rusageThread = 1

// threadCPU returns the user+system CPU time consumed so far by the calling
// OS thread, or 0 if unknown.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
