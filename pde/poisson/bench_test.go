package poisson

import (
	"fmt"
	"testing"
)

// BenchmarkApply measures the stencil sweep. Bytes per apply are counted as
// 16 per cell (read x, write dst; neighbour reads hit cache), so MB/s is the
// effective streaming bandwidth. The serial and two-goroutine sweeps are
// timed separately by forcing the threshold.
func BenchmarkApply(b *testing.B) {
	for _, tc := range []struct{ dim, n int }{{2, 64}, {2, 128}, {2, 256}, {2, 1024}, {3, 16}, {3, 32}, {3, 64}, {3, 128}} {
		g, _ := NewGrid(tc.dim, tc.n)
		l := NewLaplacian(g)
		x, y := make([]float64, g.Len()), make([]float64, g.Len())
		for i := range x {
			x[i] = float64(i % 7)
		}
		for _, par := range []bool{false, true} {
			b.Run(fmt.Sprintf("dim=%d/n=%d/parallel=%v", tc.dim, tc.n, par), func(b *testing.B) {
				old := parallelMinCells
				defer func() { parallelMinCells = old }()
				parallelMinCells = 1 << 62
				if par {
					parallelMinCells = 0
				}
				b.SetBytes(int64(16 * g.Len()))
				for b.Loop() {
					l.Apply(y, x)
				}
			})
		}
	}
}
