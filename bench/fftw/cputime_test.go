package fftw

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// rusageThread is RUSAGE_THREAD (Linux): the CPU time of the calling thread.
const rusageThread = 1

// threadCPU returns the user+system CPU time consumed so far by the calling
// OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs f b.N times on a locked OS thread and reports, besides the wall
// time, "cpu-ns/op": the CPU time of that thread per call. On a shared,
// loaded machine the wall time includes waiting for a core; the thread CPU
// time does not, so for one worker it is the better estimate of the cost.
// (With more workers the other goroutines' time is not included.)
func loop(b *testing.B, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f()
	c0 := threadCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(threadCPU()-c0)/float64(n), "cpu-ns/op")
	}
}
