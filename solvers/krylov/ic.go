package krylov

import (
	"fmt"
)

// IC is an incomplete Cholesky preconditioner with no fill, IC(0), or its
// modified form MIC(0), of a symmetric matrix given in CSR form. It holds
//
//	M = (D + L) D⁻¹ (D + Lᵀ)
//
// with D diagonal and L strictly lower triangular on the sparsity pattern of
// A's lower triangle. The factors come from Gaussian elimination in which
// every update a_ij −= l_ik l_jk / d_k that falls outside the pattern is
// dropped (IC(0)), or, for MIC(0), dropped and subtracted, scaled by τ, from
// the diagonals d_i and d_j, so that for τ = 1 the row sums of M equal those
// of A (M e = A e): the smooth error modes that limit IC(0) are then
// preconditioned almost exactly. On entries in the pattern, IC(0) reproduces A
// exactly: M_ij = A_ij.
//
// Safety (Bridson's rule for MIC): if a pivot d_k falls below Safety·A_kk it
// is reset to A_kk. For the M-matrices of Poisson problems IC(0) needs no
// such guard, but MIC(0) with τ near 1 on a singular or nearly singular block
// can drive a pivot towards zero.
//
// Setup costs O(Σ_k (nnz of column k)²), about 10 flops per cell for a
// 7-point stencil; Precondition costs two triangular sweeps, 4·nnz flops, and
// allocates nothing. Memory: the pattern's lower triangle plus two vectors.
type IC struct {
	n      int
	rowPtr []int
	col    []int32
	l      []float64 // strict lower entries of row i (updated a_ik)
	d      []float64
	work   []float64
}

// ICOptions select the variant of NewIC.
type ICOptions struct {
	// Modified selects MIC(0).
	Modified bool
	// Tau is the fraction of the dropped fill added to the diagonal by
	// MIC(0); zero means 0.97. It is not used by IC(0).
	Tau float64
	// Safety is the pivot guard of MIC(0); zero means 0.25.
	Safety float64
}

// NewIC factorises the symmetric matrix a (only its lower triangle and
// diagonal are read). It returns an error wrapping ErrNotPositiveDefinite if
// an IC(0) pivot is not positive.
func NewIC(a *CSR, o ICOptions) (*IC, error) {
	n := a.N
	tau, safety := o.Tau, o.Safety
	if !o.Modified {
		tau = 0
	} else {
		if tau == 0 {
			tau = 0.97
		}
		if safety == 0 {
			safety = 0.25
		}
	}
	f := &IC{n: n, rowPtr: make([]int, n+1), d: make([]float64, n), work: make([]float64, n)}
	diag0 := make([]float64, n)
	// Lower triangle, and for each column k the positions of its entries
	// below the diagonal (the transpose's pattern) to find them fast.
	for i := range n {
		for p := a.RowPtr[i]; p < a.RowPtr[i+1]; p++ {
			j := int(a.Col[p])
			if j < i {
				f.col = append(f.col, int32(j))
				f.l = append(f.l, a.Val[p])
			} else if j == i {
				f.d[i] = a.Val[p]
			}
		}
		f.rowPtr[i+1] = len(f.col)
	}
	copy(diag0, f.d)
	colPtr := make([]int, n+1)
	for _, j := range f.col {
		colPtr[j+1]++
	}
	for j := range n {
		colPtr[j+1] += colPtr[j]
	}
	below := make([]int, len(f.col)) // positions in f.l, grouped by column, rows increasing
	next := append([]int(nil), colPtr[:n]...)
	for i := range n {
		for p := f.rowPtr[i]; p < f.rowPtr[i+1]; p++ {
			j := f.col[p]
			below[next[j]] = p
			next[j]++
		}
	}
	rowOf := make([]int32, len(f.col))
	for i := range n {
		for p := f.rowPtr[i]; p < f.rowPtr[i+1]; p++ {
			rowOf[p] = int32(i)
		}
	}
	for k := range n {
		dk := f.d[k]
		if o.Modified && !(dk >= safety*diag0[k]) {
			dk = diag0[k]
		}
		if !(dk > 0) {
			return nil, fmt.Errorf("krylov: IC: pivot %d is %g: %w", k, dk, ErrNotPositiveDefinite)
		}
		f.d[k] = dk
		// Update the trailing matrix with column k: rows i > j > k in it.
		cs := below[colPtr[k]:colPtr[k+1]]
		for x, pi := range cs {
			i := int(rowOf[pi])
			lik := f.l[pi]
			f.d[i] -= lik * lik / dk
			for _, pj := range cs[:x] {
				j := int(rowOf[pj])
				prod := lik * f.l[pj] / dk
				if q := f.find(i, j); q >= 0 {
					f.l[q] -= prod
				} else if tau != 0 {
					f.d[i] -= tau * prod
					f.d[j] -= tau * prod
				}
			}
		}
	}
	return f, nil
}

// find returns the position of (i, j), j < i, in the lower pattern, or −1.
func (f *IC) find(i, j int) int {
	for p := f.rowPtr[i]; p < f.rowPtr[i+1]; p++ {
		if int(f.col[p]) == j {
			return p
		}
	}
	return -1
}

// Factors returns copies of D (the pivots) and of the strict lower factor L
// as a dense row-major n×n matrix; for tests at small n.
func (f *IC) Factors() (d []float64, l []float64) {
	d = append([]float64(nil), f.d...)
	l = make([]float64, f.n*f.n)
	for i := range f.n {
		for p := f.rowPtr[i]; p < f.rowPtr[i+1]; p++ {
			l[i*f.n+int(f.col[p])] = f.l[p]
		}
	}
	return d, l
}

// Precondition sets dst = M⁻¹ r: solve (D + L) y = r, then
// (D + Lᵀ) dst = D y.
func (f *IC) Precondition(dst, r []float64) {
	n := f.n
	if len(dst) != n || len(r) != n {
		panic(fmt.Sprintf("krylov: IC: len(dst)=%d, len(r)=%d, want %d", len(dst), len(r), n))
	}
	y := f.work
	for i := range n {
		s := r[i]
		for p := f.rowPtr[i]; p < f.rowPtr[i+1]; p++ {
			s -= f.l[p] * y[f.col[p]]
		}
		y[i] = s / f.d[i]
	}
	// Backward sweep by columns: t = D y, then dst_i = t_i/d_i and
	// t_j −= L_ij dst_i for the entries of row i.
	for i := range n {
		y[i] *= f.d[i]
	}
	for i := n - 1; i >= 0; i-- {
		v := y[i] / f.d[i]
		dst[i] = v
		for p := f.rowPtr[i]; p < f.rowPtr[i+1]; p++ {
			y[f.col[p]] -= f.l[p] * v
		}
	}
}

// Bytes returns the memory held by the factorisation, in bytes.
func (f *IC) Bytes() int64 {
	return int64(8*len(f.rowPtr) + 4*len(f.col) + 8*len(f.l) + 16*f.n)
}
