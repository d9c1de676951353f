package blas

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// Float64 is gonum's pure-Go BLAS with its matrix product and triangular
// solve and product (Dtrsm, Dtrmm) replaced by this package's engine, split
// across the cores Go may use. Installed with UseInGonum, it speeds up every
// mat.Dense product and solve and the blocked LAPACK factorisations and
// inverses built on them (Cholesky, Potri), about fivefold per core when
// OpenBLAS is loaded.
type Float64 struct{ gonum.Implementation }

// Lapack is gonum's pure-Go LAPACK with the symmetric eigensolver replaced by
// OpenBLAS's divide-and-conquer dsyevd when it is loaded (mat.EigenSym;
// gonum's implicit QR iteration spends O(n³) in plane rotations and was ten
// times slower at n = 400).
type Lapack struct{ lapackgonum.Implementation }

// gemmSplitFlops is the product size below which Dgemm runs on one core:
// handing a share of a smaller product to another goroutine costs more than
// it saves.
const gemmSplitFlops = 1 << 22

// Dgemm computes C = α·op(A)·op(B) + β·C in gonum's calling convention.
func (f Float64) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if !openblasReady || m == 0 || n == 0 || k == 0 {
		f.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	ta, tb := tA != blas.NoTrans, tB != blas.NoTrans
	parts := min(runtime.GOMAXPROCS(0), cap(slots))
	if 2*m*n*k < gemmSplitFlops || parts < 2 {
		Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkShapes(ta, tb, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	// On the crew when it is free (see the package comment), else on
	// goroutines; the shares are the same, and so are the bits.
	if openblasDgemmSplit(parts, m >= n, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	if m >= n {
		// Rows of C: rows of op(A), that is rows of A or columns of Aᵀ.
		inParts(m, parts, func(r0, r1 int) {
			off := r0 * lda
			if ta {
				off = r0
			}
			Dgemm(ta, tb, r1-r0, n, k, alpha, a[off:], lda, b, ldb, beta, c[r0*ldc:], ldc)
		})
		return
	}
	// Columns of C: columns of op(B), that is columns of B or rows of Bᵀ.
	inParts(n, parts, func(c0, c1 int) {
		off := c0
		if tb {
			off = c0 * ldb
		}
		Dgemm(ta, tb, m, c1-c0, k, alpha, a, lda, b[off:], ldb, beta, c[c0:], ldc)
	})
}

// syrkBlock is the row block of Dsyrk: its diagonal blocks go through a
// scratch product, the rest of each block row straight to Dgemm.
const syrkBlock = 128

// Dsyrk sets the uplo triangle of the symmetric n×n matrix C to
// α op(A) op(A)ᵀ + β C, op(A) = A (n×k) or Aᵀ (A k×n), leaving the other
// triangle untouched. With the engine loaded it goes by blocks of rows: the
// part of a block row off the diagonal block is one product (split across
// the cores when large), the diagonal block is formed whole in scratch space
// and its triangle added, so every flop runs on the engine (gonum's own
// Dsyrk, used by its blocked Cholesky factorisation, was the slowest
// operation left in the 1-D GP path: 7 % of a run).
func (f Float64) Dsyrk(ul blas.Uplo, t blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	if !openblasReady || n == 0 || k == 0 || alpha == 0 || n*n*k < 1<<15 {
		f.Implementation.Dsyrk(ul, t, n, k, alpha, a, lda, beta, c, ldc)
		return
	}
	tr := t != blas.NoTrans
	if (!tr && (lda < max(1, k) || len(a) < (n-1)*lda+k)) || (tr && (lda < max(1, n) || len(a) < (k-1)*lda+n)) ||
		ldc < max(1, n) || len(c) < (n-1)*ldc+n {
		panic("blas: Dsyrk: inconsistent dimensions")
	}
	// rows returns op(A)'s rows [i0, i1) as a Dgemm operand.
	rows := func(i0 int) []float64 {
		if tr {
			return a[i0:]
		}
		return a[i0*lda:]
	}
	scratch := make([]float64, syrkBlock*syrkBlock)
	for i0 := 0; i0 < n; i0 += syrkBlock {
		i1 := min(i0+syrkBlock, n)
		b := i1 - i0
		// Off the diagonal block: columns [i1, n) above it, [0, i0) below.
		if ul == blas.Upper && i1 < n {
			f.Dgemm(t, flip(t), b, n-i1, k, alpha, rows(i0), lda, rows(i1), lda, beta, c[i0*ldc+i1:], ldc)
		}
		if ul == blas.Lower && i0 > 0 {
			f.Dgemm(t, flip(t), b, i0, k, alpha, rows(i0), lda, rows(0), lda, beta, c[i0*ldc:], ldc)
		}
		Dgemm(tr, !tr, b, b, k, alpha, rows(i0), lda, rows(i0), lda, 0, scratch, b)
		for i := range b {
			lo, hi := i, b
			if ul == blas.Lower {
				lo, hi = 0, i+1
			}
			row := c[(i0+i)*ldc+i0:]
			for j := lo; j < hi; j++ {
				if beta == 0 {
					row[j] = scratch[i*b+j]
				} else {
					row[j] = beta*row[j] + scratch[i*b+j]
				}
			}
		}
	}
}

// flip returns the other transpose flag.
func flip(t blas.Transpose) blas.Transpose {
	if t == blas.NoTrans {
		return blas.Trans
	}
	return blas.NoTrans
}

// inParts runs f(lo, hi) at once on each of parts contiguous, non-empty
// shares of [0, total) and waits for them.
func inParts(total, parts int, f func(lo, hi int)) {
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*total/parts, (p+1)*total/parts
		if lo < hi {
			wg.Go(func() { f(lo, hi) })
		}
	}
	wg.Wait()
}

var useOnce sync.Once

// UseInGonum installs Float64 as gonum's BLAS (blas64.Use) and Lapack as its
// LAPACK (lapack64.Use) for the whole program. It is safe to call more than
// once.
func UseInGonum() {
	useOnce.Do(func() {
		blas64.Use(Float64{})
		lapack64.Use(Lapack{})
	})
}

// Dtrsm solves op(A) X = αB (side Left) or X op(A) = αB (side Right) for X,
// overwriting B, with A triangular.
func (f Float64) Dtrsm(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	if !triangular(false, s, ul, tA, d, m, n, alpha, a, lda, b, ldb) {
		f.Implementation.Dtrsm(s, ul, tA, d, m, n, alpha, a, lda, b, ldb)
	}
}

// Dtrmm sets B = α op(A) B (side Left) or B = α B op(A) (side Right), with A
// triangular.
func (f Float64) Dtrmm(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	if !triangular(true, s, ul, tA, d, m, n, alpha, a, lda, b, ldb) {
		f.Implementation.Dtrmm(s, ul, tA, d, m, n, alpha, a, lda, b, ldb)
	}
}

// triangular runs the triangular BLAS-3 operation (Dtrmm when trmm is set,
// else Dtrsm: B is overwritten column by column for side Left, row by row for
// side Right) with the engine, split across the cores for large B. It reports
// false, doing nothing, when the engine is not loaded or the operation is too
// small to be worth a call, and the caller falls back to gonum.
func triangular(trmm bool, s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) bool {
	call, name := openblasDtrsm, "Dtrsm"
	if trmm {
		call, name = openblasDtrmm, "Dtrmm"
	}
	k := m
	if s == blas.Right {
		k = n
	}
	if !lapackReady || m == 0 || n == 0 || m*n*k < 1<<15 || alpha == 0 {
		return false
	}
	right, upper, trans, unit := s == blas.Right, ul == blas.Upper, tA != blas.NoTrans, d == blas.Unit
	if lda < max(1, k) || len(a) < (k-1)*lda+k || ldb < max(1, n) || len(b) < (m-1)*ldb+n {
		panic("blas: " + name + ": inconsistent dimensions")
	}
	// The columns of B are independent for a left operation, the rows for a
	// right one.
	parts := min(runtime.GOMAXPROCS(0), cap(slots))
	if m*n*k < gemmSplitFlops {
		parts = 1
	}
	if openblasTriSplit(parts, trmm, right, upper, trans, unit, m, n, alpha, a, lda, b, ldb) {
		return true
	}
	if right {
		inParts(m, parts, func(r0, r1 int) {
			slots <- struct{}{}
			call(right, upper, trans, unit, r1-r0, n, alpha, a, lda, b[r0*ldb:], ldb)
			<-slots
		})
		return true
	}
	inParts(n, parts, func(c0, c1 int) {
		slots <- struct{}{}
		call(right, upper, trans, unit, m, c1-c0, alpha, a, lda, b[c0:], ldb)
		<-slots
	})
	return true
}

// Dsyev computes the eigenvalues and optionally the eigenvectors of the
// symmetric matrix A in gonum's calling convention (row-major, eigenvectors in
// the columns of a on return, eigenvalues ascending). work is used only for
// the workspace query; the eigensolver allocates its own.
func (l Lapack) Dsyev(jobz lapack.EVJob, uplo blas.Uplo, n int, a []float64, lda int, w, work []float64, lwork int) bool {
	if !lapackReady || n < 32 {
		return l.Implementation.Dsyev(jobz, uplo, n, a, lda, w, work, lwork)
	}
	if lwork == -1 {
		work[0] = float64(3*n - 1)
		return true
	}
	if lda < n || len(a) < (n-1)*lda+n || len(w) < n {
		panic("blas: Dsyev: inconsistent dimensions")
	}
	vectors := jobz == lapack.EVCompute
	// The row-major buffer read column-major is Aᵀ: the other triangle.
	slots <- struct{}{}
	ok := openblasDsyevd(vectors, uplo == blas.Lower, n, a, lda, w)
	<-slots
	if ok && vectors {
		// Column-major eigenvectors in columns are rows here; transpose.
		for i := range n {
			for j := i + 1; j < n; j++ {
				a[i*lda+j], a[j*lda+i] = a[j*lda+i], a[i*lda+j]
			}
		}
	}
	return ok
}
