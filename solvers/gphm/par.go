package gphm

import (
	"runtime"
	"sync"
)

// parMin is the least work inRows splits. The grid loops of a CG iteration
// (4e4 entries at 200²) are below it: split in two they made an iteration
// at 200² slower (2.5 ms against 2.2), the second goroutine's start and
// the rows' moves between the cores costing more than half a loop.
const parMin = 1 << 20

// inRows calls f(lo, hi) on contiguous parts of the rows [0, rows), at once
// on up to two goroutines when rows·cols is at least parMin and two
// processors are there, else on all rows in turn. The parts write disjoint
// rows, so that the result is the same to the bit however it is split.
func inRows(rows, cols int, f func(lo, hi int)) {
	if rows < 2 || rows*cols < parMin || runtime.GOMAXPROCS(0) < 2 {
		f(0, rows)
		return
	}
	mid := rows / 2
	var wg sync.WaitGroup
	wg.Go(func() { f(mid, rows) })
	f(0, mid)
	wg.Wait()
}
