package walloc

import "golang.org/x/sys/unix"

// threadCPU returns the CPU time consumed so far by the calling OS thread in
// seconds, or 0 if unknown.
func threadCPU() float64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return float64(ts.Sec) + 1e-9*float64(ts.Nsec)
}
