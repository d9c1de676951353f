package poisson

import (
	"errors"
	"fmt"
)

// MaxCells is the largest number of cells NewGrid accepts. It guards index
// arithmetic against overflow; callers that must bound memory should use
// MemoryEstimate, which is far more restrictive in practice.
const MaxCells = 1 << 34

// ErrSize reports a grid dimension or resolution that is out of range.
var ErrSize = errors.New("grid size out of range")

// Grid is a uniform cell-centred grid on the unit square (Dim = 2) or the unit
// cube (Dim = 3) with N cells per side. A Grid is immutable and safe for
// concurrent use.
type Grid struct {
	dim, n int
}

// NewGrid returns the grid of n^dim cells of side 1/n. It returns an error
// wrapping ErrSize unless dim ∈ {2, 3}, n ≥ 2 and n^dim ≤ MaxCells.
func NewGrid(dim, n int) (*Grid, error) {
	if err := checkSize(dim, n); err != nil {
		return nil, err
	}
	return &Grid{dim: dim, n: n}, nil
}

func checkSize(dim, n int) error {
	if dim != 2 && dim != 3 {
		return fmt.Errorf("poisson: dim=%d: %w: want 2 or 3", dim, ErrSize)
	}
	if n < 2 {
		return fmt.Errorf("poisson: n=%d: %w: want n ≥ 2", n, ErrSize)
	}
	if n > 1<<20 || cellCount(dim, n) > MaxCells {
		return fmt.Errorf("poisson: dim=%d n=%d: %w: more than %d cells", dim, n, ErrSize, int64(MaxCells))
	}
	return nil
}

// cellCount returns n^dim; it cannot overflow for n ≤ 2^20.
func cellCount(dim, n int) int64 {
	c := int64(n) * int64(n)
	if dim == 3 {
		c *= int64(n)
	}
	return c
}

// Dim returns the space dimension, 2 or 3.
func (g *Grid) Dim() int { return g.dim }

// N returns the number of cells per side.
func (g *Grid) N() int { return g.n }

// H returns the cell side h = 1/N.
func (g *Grid) H() float64 { return 1 / float64(g.n) }

// Len returns the number of cells (unknowns), N^Dim.
func (g *Grid) Len() int {
	if g.dim == 2 {
		return g.n * g.n
	}
	return g.n * g.n * g.n
}

// Shape returns the array shape of a grid vector in storage order,
// {N, N} ("y,x") or {N, N, N} ("z,y,x").
func (g *Grid) Shape() []int {
	if g.dim == 2 {
		return []int{g.n, g.n}
	}
	return []int{g.n, g.n, g.n}
}

// vectorsPerSolve is the number of grid vectors alive during a poisson.solve
// job: f, exact, b, x, and the four PCG work vectors r, z, p, Ap, plus the
// inverse diagonal of the Jacobi preconditioner.
const vectorsPerSolve = 9

// MemoryEstimate returns an upper estimate, in bytes, of the memory needed to
// set up and solve the manufactured problem on the grid NewGrid(dim, n) with
// CG or Jacobi-preconditioned CG: nine float64 vectors of n^dim entries
// (f, exact solution, right-hand side, iterate, four solver work vectors and
// the preconditioner's diagonal); plain CG needs seven of them. The residual
// history (krylov.HistoryBytes) is not included. It returns the same errors
// as NewGrid.
func MemoryEstimate(dim, n int) (int64, error) {
	if err := checkSize(dim, n); err != nil {
		return 0, err
	}
	return vectorsPerSolve * 8 * cellCount(dim, n), nil
}
