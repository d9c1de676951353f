package fft

import (
	"fmt"
	"sync"
)

// Workers splits loops over the goroutines that run the plans' passes, so that
// code built on the transforms (pointwise work between them, as in a spectral
// solver) runs on the same threads without starting goroutines per call.
type Workers struct {
	n  int
	wg sync.WaitGroup
}

// NewWorkers returns a splitter over n ≥ 1 goroutines (the caller's included).
func NewWorkers(n int) *Workers {
	if n < 1 {
		panic(fmt.Sprintf("fft: workers = %d < 1", n))
	}
	return &Workers{n: n}
}

// N returns the number of goroutines.
func (w *Workers) N() int { return w.n }

// Run calls f(worker, lo, hi) for contiguous chunks [lo, hi) that cover
// [0, count), at most N of them, with distinct worker indices in [0, N), and
// returns when all are done; the first chunk runs on the calling goroutine. f
// must not call Run of the same Workers. To allocate nothing, pass a function
// value created once (for example a method value stored in a field).
func (w *Workers) Run(count int, f func(worker, lo, hi int)) {
	parallel(w.n, count, f, &w.wg)
}
