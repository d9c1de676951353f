package fft

import (
	"runtime"
	"sync"
)

// task is one contiguous chunk [lo, hi) of the tasks of a call, run by worker w.
type task struct {
	run    func(w, lo, hi int)
	w      int
	lo, hi int
	wg     *sync.WaitGroup
}

var (
	poolOnce sync.Once
	poolCh   chan task
)

// startPool starts one long-lived goroutine per CPU that runs the chunks sent
// by parallel. Chunks never wait for other chunks, so a fixed pool cannot
// deadlock; sending a task value allocates nothing.
func startPool() {
	n := runtime.NumCPU()
	poolCh = make(chan task, 4*n)
	for range n {
		go func() {
			for t := range poolCh {
				t.run(t.w, t.lo, t.hi)
				t.wg.Done()
			}
		}()
	}
}

// minChunk is the least number of values a worker is handed in one pass:
// waking another goroutine costs microseconds (far more on a busy machine),
// about the time a transform pass spends on this many values.
const minChunk = 1 << 14

// workersFor returns how many of workers a pass over size values should use.
func workersFor(workers, size int) int {
	return max(1, min(workers, size/minChunk))
}

// parallel runs run(w, lo, hi) over [0, n) split into at most workers
// contiguous chunks, the first on the calling goroutine, and waits for all.
// run must be a function value created once (a stored method value), so that
// the call allocates nothing.
func parallel(workers, n int, run func(w, lo, hi int), wg *sync.WaitGroup) {
	w := min(workers, n)
	if w <= 1 {
		if n > 0 {
			run(0, 0, n)
		}
		return
	}
	poolOnce.Do(startPool)
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		poolCh <- task{run: run, w: i, lo: i * n / w, hi: (i + 1) * n / w, wg: wg}
	}
	run(0, 0, n/w)
	wg.Wait()
}
