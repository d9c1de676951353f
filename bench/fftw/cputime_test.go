package fftw

import (
	"runtime"
	"testing"
)

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
	if n > 0 && c0 > 0 {
		b.ReportMetric(float64(threadCPU()-c0)/float64(n), "cpu-ns/op")
	}
}
