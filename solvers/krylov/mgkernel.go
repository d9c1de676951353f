package krylov

// The kernels of MG: one pass of a sweep, residual or transfer over a range
// of a level, run in the caller or split with MG's worker goroutine.

import "eddy/pde/poisson"

// Kernel operations on one level, run over a range of rows: grid rows of
// the stencil on level 0, unknowns or aggregates on coarse levels.
const (
	opSweep    = iota // red–black half-sweep of one colour on x
	opFirst           // x = D⁻¹b on red, 0 on black
	opResidual        // r = b − A x; with colour 1 on red only, 0 on black
	opRestrict        // b_c = Pᵀ r, over the aggregates
	opProlong         // x += P x_c
	opApply           // dst = A src (coarse levels)
	// The fused passes of level 0:
	opFirstBlack       // x = D⁻¹b on red, then the black half-sweep
	opResidualRestrict // b_c += Pᵀ r for the red residuals (the black are 0)
	opProlongBlack     // the black half-sweep on x + P x_c (red x left stale)
)

// mgJob is one kernel call over [lo, hi).
type mgJob struct {
	op, colour int
	l          *mgLevel
	lo, hi     int
	dst, src   []float64 // opApply's vectors
	align      int       // a split point must be a multiple of align
}

// mgWorker runs jobs until work is closed.
func mgWorker(work <-chan mgJob, done chan<- struct{}) {
	for j := range work {
		j.exec()
		done <- struct{}{}
	}
}

// run executes op over [lo, hi), split in two halves between the caller
// and the worker when the level is large enough.
func (m *MG) run(j mgJob) {
	if m.work == nil || j.l.n < mgParallelMin || j.hi-j.lo < 2 {
		j.exec()
		return
	}
	upper := j
	upper.lo = j.lo + (j.hi-j.lo)/2
	if j.align > 1 {
		upper.lo -= upper.lo % j.align
	}
	j.hi = upper.lo
	m.work <- upper
	j.exec()
	<-m.done
}

// rows returns the number of grid rows of level 0, or of unknowns of a
// coarse level.
func (l *mgLevel) rows() int {
	if l.st != nil {
		return l.st.Shape[1] * l.st.Shape[2]
	}
	return l.n
}

// exec runs the job in the calling goroutine.
func (j mgJob) exec() {
	l := j.l
	switch j.op {
	case opSweep:
		if l.st != nil {
			sweepStencil(l.st, l.zero, l.inv, l.x, l.b, j.colour, j.lo, j.hi)
			return
		}
		l.sweepCSR(j.lo, j.hi)
	case opFirst:
		if l.st != nil {
			firstStencil(l.st, l.inv, l.x, l.b, j.lo, j.hi)
			return
		}
		for i := j.lo; i < j.hi; i++ {
			if i < l.nRed {
				l.x[i] = l.b[i] * l.inv[i]
			} else {
				l.x[i] = 0
			}
		}
	case opResidual:
		if l.st != nil {
			residualStencil(l.st, l.zero, l.r, l.x, l.b, j.colour == 1, j.lo, j.hi)
			return
		}
		hi := j.hi
		if j.colour == 1 {
			hi = min(hi, l.nRed)
			if lo := max(j.lo, l.nRed); lo < j.hi {
				clear(l.r[lo:j.hi])
			}
		}
		l.applyCSR(l.r, l.x, j.lo, hi)
		for i := j.lo; i < hi; i++ {
			l.r[i] = l.b[i] - l.r[i]
		}
	case opRestrict:
		b := l.next.b
		for a := j.lo; a < j.hi; a++ {
			var s float64
			for _, i := range l.mem[l.memPtr[a]:l.memPtr[a+1]] {
				s += l.r[i]
			}
			b[a] = s
		}
	case opProlong:
		e := l.next.x
		for i := j.lo; i < j.hi; i++ {
			if a := l.agg[i]; a >= 0 {
				l.x[i] += e[a]
			}
		}
	case opApply:
		l.applyCSR(j.dst, j.src, j.lo, j.hi)
	case opFirstBlack:
		firstBlackStencil(l.st, l.zero, l.inv, l.x, l.b, j.lo, j.hi)
	case opResidualRestrict:
		residualRestrictStencil(l.st, l.zero, l.x, l.b, l.agg, l.next.b, j.lo, j.hi)
	case opProlongBlack:
		prolongBlackStencil(l.st, l.zero, l.inv, l.x, l.b, l.agg, l.next.x, j.lo, j.hi)
	}
}

// applyCSR sets dst = A x on rows [lo, hi) of a coarse level.
func (l *mgLevel) applyCSR(dst, x []float64, lo, hi int) {
	rowPtr, col, val, diag := l.rowPtr, l.col, l.val, l.diag
	for i := lo; i < hi; i++ {
		s := diag[i] * x[i]
		for p := rowPtr[i]; p < rowPtr[i+1]; p++ {
			s += val[p] * x[col[p]]
		}
		dst[i] = s
	}
}

// sweepCSR performs the Gauss–Seidel update of unknowns [lo, hi) of a
// coarse level, all of one colour, so that none reads another's new value.
func (l *mgLevel) sweepCSR(lo, hi int) {
	rowPtr, col, val, x, b, inv := l.rowPtr, l.col, l.val, l.x, l.b, l.inv
	for i := lo; i < hi; i++ {
		s := b[i]
		for p := rowPtr[i]; p < rowPtr[i+1]; p++ {
			s -= val[p] * x[col[p]]
		}
		x[i] = s * inv[i]
	}
}

// rowNeighbours returns the neighbour rows of grid row (j, k) of a stencil
// and their couplings (the zero row z where the grid ends).
func rowNeighbours(a *poisson.Stencil, z, x []float64, j, k int) (xs, ws, xn, wn, xb, wb, xt, wt []float64) {
	nx, ny, nz := a.Shape[0], a.Shape[1], a.Shape[2]
	r := (k*ny + j) * nx
	xs, ws, xn, wn, xb, wb, xt, wt = z, z, z, z, z, z, z, z
	if j > 0 {
		xs, ws = x[r-nx:r], a.W[1][r-nx:r]
	}
	if j < ny-1 {
		xn, wn = x[r+nx:r+2*nx], a.W[1][r:r+nx]
	}
	if a.Dim == 3 {
		p := nx * ny
		if k > 0 {
			xb, wb = x[r-p:r-p+nx], a.W[2][r-p:r-p+nx]
		}
		if k < nz-1 {
			xt, wt = x[r+p:r+p+nx], a.W[2][r:r+nx]
		}
	}
	return
}

// sweepStencil performs the red–black Gauss–Seidel half-sweep of one colour
// ((i+j+k) mod 2 = colour) on grid rows [lo, hi) (row index k·ny + j).
func sweepStencil(a *poisson.Stencil, z, inv, x, b []float64, colour, lo, hi int) {
	nx, ny := a.Shape[0], a.Shape[1]
	for row := lo; row < hi; row++ {
		j, k := row%ny, row/ny
		r := row * nx
		xs, ws, xn, wn, xb, wb, xt, wt := rowNeighbours(a, z, x, j, k)
		xr, br, wx, ir := x[r:r+nx], b[r:r+nx], a.W[0][r:r+nx], inv[r:r+nx]
		i := (j + k + colour) & 1
		if i == 0 {
			xr[0] = (br[0] + wx[0]*xr[1%nx] + ws[0]*xs[0] + wn[0]*xn[0] + wb[0]*xb[0] + wt[0]*xt[0]) * ir[0]
			i = 2
		}
		for ; i < nx-1; i += 2 {
			s := br[i] + wx[i-1]*xr[i-1] + wx[i]*xr[i+1]
			s += ws[i]*xs[i] + wn[i]*xn[i]
			s += wb[i]*xb[i] + wt[i]*xt[i]
			xr[i] = s * ir[i]
		}
		if i == nx-1 {
			xr[i] = (br[i] + wx[i-1]*xr[i-1] + ws[i]*xs[i] + wn[i]*xn[i] + wb[i]*xb[i] + wt[i]*xt[i]) * ir[i]
		}
	}
}

// firstStencil sets x = D⁻¹b on the red cells and x = 0 on the black ones
// of grid rows [lo, hi).
func firstStencil(a *poisson.Stencil, inv, x, b []float64, lo, hi int) {
	nx, ny := a.Shape[0], a.Shape[1]
	for row := lo; row < hi; row++ {
		j, k := row%ny, row/ny
		r := row * nx
		xr, br, ir := x[r:r+nx], b[r:r+nx], inv[r:r+nx]
		i0 := (j + k) & 1 // the first red cell
		for i := i0; i < nx; i += 2 {
			xr[i] = br[i] * ir[i]
		}
		for i := 1 - i0; i < nx; i += 2 {
			xr[i] = 0
		}
	}
}

// residualStencil sets r = b − A x on grid rows [lo, hi), or, with redOnly,
// on the red cells and r = 0 on the black ones (whose residual a black
// half-sweep has just made zero).
func residualStencil(a *poisson.Stencil, z, r, x, b []float64, redOnly bool, lo, hi int) {
	nx, ny := a.Shape[0], a.Shape[1]
	for row := lo; row < hi; row++ {
		j, k := row%ny, row/ny
		o := row * nx
		xs, ws, xn, wn, xb, wb, xt, wt := rowNeighbours(a, z, x, j, k)
		xr, br, rr, wx, d := x[o:o+nx], b[o:o+nx], r[o:o+nx], a.W[0][o:o+nx], a.Diag[o:o+nx]
		if redOnly {
			i0 := (j + k) & 1
			for i := 1 - i0; i < nx; i += 2 {
				rr[i] = 0
			}
			for i := i0; i < nx; i += 2 {
				s := br[i] - d[i]*xr[i] + (ws[i]*xs[i] + wn[i]*xn[i]) + (wb[i]*xb[i] + wt[i]*xt[i])
				if i > 0 {
					s += wx[i-1] * xr[i-1]
				}
				if i < nx-1 {
					s += wx[i] * xr[i+1]
				}
				rr[i] = s
			}
			continue
		}
		for i := range nx {
			rr[i] = br[i] - d[i]*xr[i] + (ws[i]*xs[i] + wn[i]*xn[i]) + (wb[i]*xb[i] + wt[i]*xt[i])
		}
		for i := 0; i < nx-1; i++ {
			w := wx[i]
			rr[i] += w * xr[i+1]
			rr[i+1] += w * xr[i]
		}
	}
}

// firstBlackStencil performs the first red and black half-sweeps from x = 0
// on grid rows [lo, hi) in one pass: x = D⁻¹b on red, and on black
// x = D⁻¹(b + Σ w·D⁻¹b) with the red values formed on the fly.
func firstBlackStencil(a *poisson.Stencil, z, inv, x, b []float64, lo, hi int) {
	nx, ny := a.Shape[0], a.Shape[1]
	for row := lo; row < hi; row++ {
		j, k := row%ny, row/ny
		r := row * nx
		bs, ws, bn, wn, bb, wb, bt, wt := rowNeighbours(a, z, b, j, k)
		is, _, in, _, ib, _, it, _ := rowNeighbours(a, z, inv, j, k)
		xr, br, wx, ir := x[r:r+nx], b[r:r+nx], a.W[0][r:r+nx], inv[r:r+nx]
		is, in, ib, it = is[:nx], in[:nx], ib[:nx], it[:nx]
		bs, ws, bn, wn = bs[:nx], ws[:nx], bn[:nx], wn[:nx]
		bb, wb, bt, wt = bb[:nx], wb[:nx], bt[:nx], wt[:nx]
		red := (j + k) & 1
		for i := red; i < nx; i += 2 {
			xr[i] = br[i] * ir[i]
		}
		for i := 1 - red; i < nx; i += 2 {
			s := br[i] + ws[i]*(bs[i]*is[i]) + wn[i]*(bn[i]*in[i]) + wb[i]*(bb[i]*ib[i]) + wt[i]*(bt[i]*it[i])
			if i > 0 {
				s += wx[i-1] * (br[i-1] * ir[i-1])
			}
			if i < nx-1 {
				s += wx[i] * (br[i+1] * ir[i+1])
			}
			xr[i] = s * ir[i]
		}
	}
}

// residualRestrictStencil adds the red residuals b − A x of grid rows
// [lo, hi) to their aggregates' entries of bc (the black residuals are zero
// after a black half-sweep). Rows [lo, hi) must hold whole blocks, so that
// two calls on disjoint ranges write disjoint entries.
func residualRestrictStencil(a *poisson.Stencil, z, x, b []float64, agg []int32, bc []float64, lo, hi int) {
	nx, ny := a.Shape[0], a.Shape[1]
	for row := lo; row < hi; row++ {
		j, k := row%ny, row/ny
		r := row * nx
		xs, ws, xn, wn, xb, wb, xt, wt := rowNeighbours(a, z, x, j, k)
		xr, br, wx, d, ar := x[r:r+nx], b[r:r+nx], a.W[0][r:r+nx], a.Diag[r:r+nx], agg[r:r+nx]
		xs, ws, xn, wn = xs[:nx], ws[:nx], xn[:nx], wn[:nx]
		xb, wb, xt, wt = xb[:nx], wb[:nx], xt[:nx], wt[:nx]
		for i := (j + k) & 1; i < nx; i += 2 {
			g := ar[i]
			if g < 0 {
				continue
			}
			s := br[i] - d[i]*xr[i] + ws[i]*xs[i] + wn[i]*xn[i] + wb[i]*xb[i] + wt[i]*xt[i]
			if i > 0 {
				s += wx[i-1] * xr[i-1]
			}
			if i < nx-1 {
				s += wx[i] * xr[i+1]
			}
			bc[g] += s
		}
	}
}

// prolongBlackStencil performs the black half-sweep that follows the
// prolongation x += P e on grid rows [lo, hi), reading the red neighbours as
// x + P e without storing them: the red half-sweep after it overwrites
// every red value from the black ones, so x need not be updated there.
// Inactive cells (agg −1) have no couplings, so e[0] stands in for them.
func prolongBlackStencil(a *poisson.Stencil, z, inv, x, b []float64, agg []int32, e []float64, lo, hi int) {
	nx, ny, nz := a.Shape[0], a.Shape[1], a.Shape[2]
	p := nx * ny
	v := func(c int) float64 {
		return x[c] + e[max(agg[c], 0)]
	}
	for row := lo; row < hi; row++ {
		j, k := row%ny, row/ny
		r := row * nx
		_, ws, _, wn, _, wb, _, wt := rowNeighbours(a, z, x, j, k)
		br, wx, ir := b[r:r+nx], a.W[0][r:r+nx], inv[r:r+nx]
		ws, wn, wb, wt = ws[:nx], wn[:nx], wb[:nx], wt[:nx]
		for i := 1 - (j+k)&1; i < nx; i += 2 {
			c := r + i
			s := br[i]
			if w := ws[i]; w != 0 {
				s += w * v(c-nx)
			}
			if w := wn[i]; w != 0 {
				s += w * v(c+nx)
			}
			if w := wb[i]; w != 0 {
				s += w * v(c-p)
			}
			if w := wt[i]; w != 0 && k < nz-1 {
				s += w * v(c+p)
			}
			if i > 0 {
				if w := wx[i-1]; w != 0 {
					s += w * v(c-1)
				}
			}
			if w := wx[i]; w != 0 {
				s += w * v(c+1)
			}
			x[c] = s * ir[i]
		}
	}
}
