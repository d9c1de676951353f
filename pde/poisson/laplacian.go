package poisson

import (
	"fmt"
	"runtime"
	"sync"
)

// parallelMinCells is the grid size from which Apply splits its work over two
// goroutines (when GOMAXPROCS > 1). Measured with BenchmarkApply on a shared
// 2-core machine: at 256² and 64³ the split gained nothing or lost up to 30%
// (goroutine hand-off against a 60–300 µs sweep, second core often busy); at
// 1024² and 128³ it ranged from break-even to 1.9× faster.
var parallelMinCells = 1 << 19

// Laplacian is the matrix-free cell-centred operator A = h²·(−Δ_h) on a Grid
// with homogeneous Dirichlet walls imposed by ghost-cell reflection (see the
// package documentation). It implements the operator interface of
// eddy/solvers/krylov. A Laplacian is read-only after construction and safe
// for concurrent use.
type Laplacian struct {
	g *Grid
	// zero is a row of N zeros that stands in for the neighbour row beyond a
	// wall: the ghost value −u_c is accounted for by the diagonal, so the
	// neighbour's contribution is zero there.
	zero []float64
}

// NewLaplacian returns the operator A = h²·(−Δ_h) on g.
func NewLaplacian(g *Grid) *Laplacian {
	return &Laplacian{g: g, zero: make([]float64, g.n)}
}

// Grid returns the grid the operator acts on.
func (l *Laplacian) Grid() *Grid { return l.g }

// Len returns the number of unknowns, N^Dim; A is Len×Len.
func (l *Laplacian) Len() int { return l.g.Len() }

// Apply sets dst = A x. dst and x must have length Len and must not overlap.
// The cost is 5 (2-D) or 7 (3-D) flops per cell and one streaming pass over x
// and dst; on grids of at least 2^19 cells the sweep is split over two
// goroutines, and only then does Apply allocate (a closure and its WaitGroup).
func (l *Laplacian) Apply(dst, x []float64) {
	nc := l.Len()
	if len(dst) != nc || len(x) != nc {
		panic(fmt.Sprintf("poisson: Apply: len(dst)=%d, len(x)=%d, want %d", len(dst), len(x), nc))
	}
	// The outer loop runs over rows (2-D) or planes (3-D).
	m := l.g.n
	if nc < parallelMinCells || runtime.GOMAXPROCS(0) < 2 {
		l.applyRange(dst, x, 0, m)
		return
	}
	half := m / 2
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		l.applyRange(dst, x, half, m)
		wg.Done()
	}()
	l.applyRange(dst, x, 0, half)
	wg.Wait()
}

// applyRange computes dst = A x on the rows (2-D) or planes (3-D) lo ≤ · < hi.
func (l *Laplacian) applyRange(dst, x []float64, lo, hi int) {
	n := l.g.n
	if l.g.dim == 2 {
		for j := lo; j < hi; j++ {
			r := j * n
			s, nn, w := l.neighbours(x, r, n, j)
			row2(dst[r:r+n], x[r:r+n], s, nn, 4+w)
		}
		return
	}
	for k := lo; k < hi; k++ {
		for j := range n {
			r := (k*n + j) * n
			s, nn, wy := l.neighbours(x, r, n, j)
			b, t, wz := l.neighbours(x, r, n*n, k)
			row3(dst[r:r+n], x[r:r+n], s, nn, b, t, 6+wy+wz)
		}
	}
}

// neighbours returns the two rows of x adjacent to the row starting at r along
// the axis with the given stride, where idx is the row's index on that axis.
// A neighbour beyond a wall is the zero row, and walls counts those (0–2),
// each adding one to the diagonal through the reflected ghost.
func (l *Laplacian) neighbours(x []float64, r, stride, idx int) (lo, hi []float64, walls float64) {
	n := l.g.n
	lo, hi = l.zero, l.zero
	if idx > 0 {
		lo = x[r-stride : r-stride+n]
	} else {
		walls++
	}
	if idx < n-1 {
		hi = x[r+stride : r+stride+n]
	} else {
		walls++
	}
	return lo, hi, walls
}

// row2 computes one row of the 2-D stencil: dst[i] = d·c[i] − c[i−1] − c[i+1]
// − s[i] − nn[i], where d already counts the y walls and the x walls at the
// two ends of the row add one to the diagonal. len(c) = len(dst) ≥ 2.
func row2(dst, c, s, nn []float64, d float64) {
	n := len(dst)
	c, s, nn = c[:n], s[:n], nn[:n]
	dst[0] = (d+1)*c[0] - c[1] - (s[0] + nn[0])
	// left, mid, right rotate through c so that each entry is loaded once.
	left, mid := c[0], c[1]
	for i := 1; i < n-1; i++ {
		right := c[i+1]
		dst[i] = d*mid - (left + right) - (s[i] + nn[i])
		left, mid = mid, right
	}
	dst[n-1] = (d+1)*c[n-1] - c[n-2] - (s[n-1] + nn[n-1])
}

// row3 is row2 with the two further neighbour rows b and t of the 3-D stencil.
func row3(dst, c, s, nn, b, t []float64, d float64) {
	n := len(dst)
	c, s, nn, b, t = c[:n], s[:n], nn[:n], b[:n], t[:n]
	dst[0] = (d+1)*c[0] - c[1] - (s[0] + nn[0]) - (b[0] + t[0])
	left, mid := c[0], c[1]
	for i := 1; i < n-1; i++ {
		right := c[i+1]
		dst[i] = d*mid - (left + right) - (s[i] + nn[i]) - (b[i] + t[i])
		left, mid = mid, right
	}
	dst[n-1] = (d+1)*c[n-1] - c[n-2] - (s[n-1] + nn[n-1]) - (b[n-1] + t[n-1])
}

// Diagonal sets dst to the diagonal of A: 2·Dim plus the number of faces of
// the cell that lie on a wall. dst must have length Len.
func (l *Laplacian) Diagonal(dst []float64) {
	nc := l.Len()
	if len(dst) != nc {
		panic(fmt.Sprintf("poisson: Diagonal: len(dst)=%d, want %d", len(dst), nc))
	}
	n := l.g.n
	walls := func(i int) float64 {
		if i == 0 || i == n-1 {
			return 1
		}
		return 0
	}
	if l.g.dim == 2 {
		for j := 0; j < n; j++ {
			for i := 0; i < n; i++ {
				dst[j*n+i] = 4 + walls(i) + walls(j)
			}
		}
		return
	}
	for k := 0; k < n; k++ {
		for j := 0; j < n; j++ {
			for i := 0; i < n; i++ {
				dst[(k*n+j)*n+i] = 6 + walls(i) + walls(j) + walls(k)
			}
		}
	}
}

// RHS sets dst = h²·f, the right-hand side b of A u = b that discretises
// −Δu = f with f sampled at the cell centres. dst and f must have length Len;
// they may be the same slice.
func (l *Laplacian) RHS(dst, f []float64) {
	nc := l.Len()
	if len(dst) != nc || len(f) != nc {
		panic(fmt.Sprintf("poisson: RHS: len(dst)=%d, len(f)=%d, want %d", len(dst), len(f), nc))
	}
	h := l.g.H()
	h2 := h * h
	for i, v := range f {
		dst[i] = h2 * v
	}
}
