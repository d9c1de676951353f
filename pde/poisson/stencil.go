package poisson

import (
	"fmt"
)

// Stencil is a symmetric variable-coefficient 5-point (2-D) or 7-point (3-D)
// operator on a structured grid of Shape[0]×Shape[1]×Shape[2] cells (x, y, z
// sizes; Shape[2] = 1 in 2-D), stored row-major with x fastest:
//
//	(A x)_c = Diag_c·x_c − Σ_{a} ( W[a][c]·x_{c+e_a} + W[a][c−e_a]·x_{c−e_a} ),
//
// where e_a is the unit step along axis a and W[a][c] ≥ 0 is the coupling of
// cell c with its neighbour c+e_a (zero on the last layer of the axis, so the
// grid does not wrap). A is symmetric by construction; it is an M-matrix, and
// positive definite, when every connected set of cells has one row with
// Diag_c > Σ of its couplings (a Dirichlet face).
//
// Inactive cells (Inactive[c] true) carry the decoupled equation x_c = b_c:
// Diag_c = 1 and no coupling. Poisson systems use them for solid and air
// cells, so that vectors keep the full grid shape (an image, as a network
// sees it) while the unknowns are the fluid cells. Coarsening ignores them.
//
// Apply costs 2·(2d+1) flops per cell and one streaming pass; it does not
// allocate. A Stencil is read-only after construction and safe for
// concurrent use.
type Stencil struct {
	// Dim is 2 or 3.
	Dim int
	// Shape holds the cell counts along x, y and z (1 in 2-D).
	Shape [3]int
	// Diag is the diagonal, one entry per cell.
	Diag []float64
	// W holds the couplings along x, y and z; W[2] is nil in 2-D.
	W [3][]float64
	// Inactive marks the cells with the identity equation; nil if none.
	Inactive []bool
	zero     []float64
}

// NewStencil returns the stencil of the given shape with zero diagonal and
// couplings and every cell active. shape[2] must be 1 when dim is 2.
func NewStencil(dim int, shape [3]int) *Stencil {
	if dim == 2 {
		shape[2] = 1
	}
	nc := shape[0] * shape[1] * shape[2]
	s := &Stencil{Dim: dim, Shape: shape, Diag: make([]float64, nc), Inactive: make([]bool, nc)}
	for a := range dim {
		s.W[a] = make([]float64, nc)
	}
	s.zero = make([]float64, shape[0])
	return s
}

// Len returns the number of cells; A is Len×Len.
func (s *Stencil) Len() int { return len(s.Diag) }

// Apply sets dst = A x. dst and x must have length Len and must not overlap.
func (s *Stencil) Apply(dst, x []float64) {
	nc := s.Len()
	if len(dst) != nc || len(x) != nc {
		panic(fmt.Sprintf("poisson: Stencil.Apply: len(dst)=%d, len(x)=%d, want %d", len(dst), len(x), nc))
	}
	nx, ny, nz := s.Shape[0], s.Shape[1], s.Shape[2]
	z := s.zero
	for k := range nz {
		for j := range ny {
			r := (k*ny + j) * nx
			xs, ws, xn, wn := z, z, z, z
			if j > 0 {
				xs, ws = x[r-nx:r], s.W[1][r-nx:r]
			}
			if j < ny-1 {
				xn, wn = x[r+nx:r+2*nx], s.W[1][r:r+nx]
			}
			xb, wb, xt, wt := z, z, z, z
			if s.Dim == 3 {
				p := nx * ny
				if k > 0 {
					xb, wb = x[r-p:r-p+nx], s.W[2][r-p:r-p+nx]
				}
				if k < nz-1 {
					xt, wt = x[r+p:r+p+nx], s.W[2][r:r+nx]
				}
			}
			applyRow(dst[r:r+nx], x[r:r+nx], s.Diag[r:r+nx], s.W[0][r:r+nx], xs, ws, xn, wn, xb, wb, xt, wt)
		}
	}
}

// applyRow computes one grid row of A x.
func applyRow(dst, xr, d, wx, xs, ws, xn, wn, xb, wb, xt, wt []float64) {
	n := len(dst)
	xr, d, wx = xr[:n], d[:n], wx[:n]
	xs, ws, xn, wn = xs[:n], ws[:n], xn[:n], wn[:n]
	xb, wb, xt, wt = xb[:n], wb[:n], xt[:n], wt[:n]
	for i := range n {
		dst[i] = d[i]*xr[i] - (ws[i]*xs[i] + wn[i]*xn[i]) - (wb[i]*xb[i] + wt[i]*xt[i])
	}
	for i := 0; i < n-1; i++ {
		w := wx[i]
		dst[i] -= w * xr[i+1]
		dst[i+1] -= w * xr[i]
	}
}

// CSR assembles A in compressed sparse row form: row c holds its entries in
// increasing column order in col[rowPtr[c]:rowPtr[c+1]] and
// val[rowPtr[c]:rowPtr[c+1]]; zero couplings are not stored, so inactive
// rows hold their diagonal 1 only. Memory: at most 2d+1 entries per row.
func (s *Stencil) CSR() (rowPtr []int, col []int32, val []float64) {
	nc := s.Len()
	nx, ny := s.Shape[0], s.Shape[1]
	strides := [3]int{1, nx, nx * ny}
	rowPtr = make([]int, nc+1)
	col = make([]int32, 0, (2*s.Dim+1)*nc)
	val = make([]float64, 0, (2*s.Dim+1)*nc)
	for c := range nc {
		// Lower neighbours in decreasing stride order give increasing columns.
		for a := s.Dim - 1; a >= 0; a-- {
			if nb := c - strides[a]; nb >= 0 && s.W[a][nb] != 0 {
				col = append(col, int32(nb))
				val = append(val, -s.W[a][nb])
			}
		}
		col = append(col, int32(c))
		val = append(val, s.Diag[c])
		for a := range s.Dim {
			if w := s.W[a][c]; w != 0 {
				col = append(col, int32(c+strides[a]))
				val = append(val, -w)
			}
		}
		rowPtr[c+1] = len(col)
	}
	return rowPtr, col, val
}

// Coarsen returns the Galerkin coarse operator Pᵀ A P on the grid of
// ⌈Shape/2⌉ cells and the aggregation that defines P: agg[f] is the coarse
// cell of fine cell f, or −1 if f is not aggregated, and (P e)_f = e_agg[f]
// (0 where agg[f] = −1). Each block of 2^d fine cells forms one aggregate: its
// active cells that are connected through couplings inside the block; if they
// fall into several such groups (a thin obstacle through the block), only the
// largest is aggregated and the others are left to the smoother, so that no
// coarse unknown joins fluid on both sides of an obstacle. A coarse cell
// without an aggregated fine cell is inactive (identity row). The coarse
// diagonal is the sum of the aggregated diagonals minus twice the couplings
// inside the aggregate; the coarse coupling is the sum of the fine couplings
// between two aggregates. Restrict and ProlongAdd apply Pᵀ and P. Cost O(Len).
func (s *Stencil) Coarsen() (*Stencil, []int32) {
	nx, ny, nz := s.Shape[0], s.Shape[1], s.Shape[2]
	cs := [3]int{(nx + 1) / 2, (ny + 1) / 2, 1}
	if s.Dim == 3 {
		cs[2] = (nz + 1) / 2
	}
	c := NewStencil(s.Dim, cs)
	agg := make([]int32, s.Len())
	for i := range agg {
		agg[i] = -1
	}
	strides := [3]int{1, nx, nx * ny}
	var kids [8]int
	var root [8]int
	find := func(i int) int {
		for root[i] != i {
			root[i] = root[root[i]]
			i = root[i]
		}
		return i
	}
	for ck := range cs[2] {
		for cj := range cs[1] {
			for ci := range cs[0] {
				cc := (ck*cs[1]+cj)*cs[0] + ci
				// The block's active cells.
				m := 0
				for dk := range 2 {
					for dj := range 2 {
						for di := range 2 {
							i, j, k := 2*ci+di, 2*cj+dj, 2*ck+dk
							if i >= nx || j >= ny || k >= nz {
								continue
							}
							f := (k*ny+j)*nx + i
							if s.Inactive != nil && s.Inactive[f] {
								continue
							}
							kids[m] = f
							root[m] = m
							m++
						}
					}
				}
				if m == 0 {
					c.Inactive[cc] = true
					c.Diag[cc] = 1
					continue
				}
				// Union the cells coupled inside the block.
				for x := range m {
					for y := x + 1; y < m; y++ {
						f, g := kids[x], kids[y]
						for a := range s.Dim {
							if g-f == strides[a] && s.W[a][f] != 0 {
								root[find(y)] = find(x)
							}
						}
					}
				}
				var size [8]int
				best := 0
				for x := range m {
					r := find(x)
					size[r]++
					if size[r] > size[best] || (size[r] == size[best] && r < best) {
						best = r
					}
				}
				for x := range m {
					if find(x) == best {
						agg[kids[x]] = int32(cc)
					}
				}
			}
		}
	}
	for f, cf := range agg {
		if cf < 0 {
			continue
		}
		c.Diag[cf] += s.Diag[f]
		for a := range s.Dim {
			w := s.W[a][f]
			if w == 0 {
				continue
			}
			switch cg := agg[f+strides[a]]; {
			case cg == cf:
				c.Diag[cf] -= 2 * w
			case cg >= 0:
				c.W[a][cf] += w
			}
		}
	}
	return c, agg
}

// Restrict sets dst = Pᵀ r for the aggregation agg of Coarsen: each coarse
// entry is the sum of its aggregate's fine entries. dst must have the coarse
// length and r the fine length.
func Restrict(dst, r []float64, agg []int32) {
	clear(dst)
	for f, c := range agg {
		if c >= 0 {
			dst[c] += r[f]
		}
	}
}

// ProlongAdd sets x += P e for the aggregation agg of Coarsen: every
// aggregated fine cell receives its aggregate's coarse value.
func ProlongAdd(x, e []float64, agg []int32) {
	for f, c := range agg {
		if c >= 0 {
			x[f] += e[c]
		}
	}
}

// Stencil returns the Laplacian as an assembled variable-coefficient stencil
// with the same entries (unit couplings, diagonal 2d plus one per wall face),
// for the solvers that need the coefficients: IC(0) and multigrid.
func (l *Laplacian) Stencil() *Stencil {
	n := l.g.n
	s := NewStencil(l.g.dim, [3]int{n, n, n}) // NewStencil sets Shape[2] = 1 in 2-D
	l.Diagonal(s.Diag)
	for i := range s.Diag {
		for a := range l.g.dim {
			if axisIndex(i, a, n) < n-1 {
				s.W[a][i] = 1
			}
		}
	}
	return s
}
