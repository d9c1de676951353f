package blas

import (
	"fmt"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Engine returns a short description of the implementation in use, for
// example "openblas (Haswell)" or "gonum".
func Engine() string {
	if openblasReady {
		return "openblas (" + openblasCore + ")"
	}
	return "gonum"
}

// FastDtrsv reports whether Dtrsv runs on the engine (OpenBLAS's blocked
// solve) rather than on gonum's unblocked one, which callers solving with
// large triangles may prefer to call by blocks.
func FastDtrsv() bool { return dtrsvReady }

// Dtrsv solves op(A) x = b for x, overwriting b (unit stride), with A n×n
// triangular, row-major with leading dimension lda: upper or lower, op(A) =
// Aᵀ when trans is set, unit diagonal when unit is set. At n = 2976 a pair of
// solves (Aᵀ, then A) reads the 71 MB triangle in 2.3–3.0 ms on the engine,
// 9.2 ms with gonum's kernels, whose transposed solve reads A down its
// columns.
func Dtrsv(upper, trans, unit bool, n int, a []float64, lda int, x []float64) {
	if n == 0 {
		return
	}
	if lda < max(1, n) || len(a) < (n-1)*lda+n || len(x) < n {
		panic("blas: Dtrsv: inconsistent dimensions")
	}
	if dtrsvReady {
		openblasDtrsv(upper, trans, unit, n, a, lda, x)
		return
	}
	ul, tr, d := triFlags(upper, trans, unit)
	gonum.Implementation{}.Dtrsv(ul, tr, d, n, a, lda, x, 1)
}

// triFlags returns gonum's flags for a triangular operand: upper or lower,
// transposed or not, unit diagonal or not.
func triFlags(upper, transposed, unit bool) (blas.Uplo, blas.Transpose, blas.Diag) {
	ul, d := blas.Lower, blas.NonUnit
	if upper {
		ul = blas.Upper
	}
	if unit {
		d = blas.Unit
	}
	return ul, trans(transposed), d
}

// ThreadsPerCall returns the threads one engine call runs on: 1 with
// OpenBLAS, which is loaded single-threaded (Float64 splits a large product
// across up to GOMAXPROCS calls instead), and 0, unknown, with gonum's
// pure-Go BLAS, which splits a product across goroutines itself.
func ThreadsPerCall() int {
	if openblasReady {
		return 1
	}
	return 0
}

// slots bounds the number of engine calls running at once to the number of
// cores Go may use. cgo calls do not count against GOMAXPROCS, so without it
// many goroutines calling at once would oversubscribe the cores (and could
// exhaust OpenBLAS's fixed table of per-call buffers).
var slots = make(chan struct{}, runtime.GOMAXPROCS(0))

// Dgemm computes C = α·op(A)·op(B) + β·C where op(A) is m×k, op(B) is k×n and
// C is m×n, all row-major with leading dimensions lda, ldb and ldc. op(X) is
// Xᵀ when the corresponding trans flag is true. A stored matrix with r rows
// and c columns must satisfy ld ≥ max(1, c) and len ≥ (r−1)·ld + c. When
// β = 0, C need not be initialised. Cost 2·m·n·k flops.
//
// Dgemm panics on inconsistent dimensions.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkShapes(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleD(m, n, beta, c, ldc)
		return
	}
	slots <- struct{}{}
	if openblasReady {
		openblasDgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	} else {
		GonumDgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	<-slots
}

// Sgemm is Dgemm for float32 matrices.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkShapes(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				if beta == 0 {
					row[j] = 0
				} else {
					row[j] *= beta
				}
			}
		}
		return
	}
	slots <- struct{}{}
	if openblasReady {
		openblasSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	} else {
		GonumSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	<-slots
}

// GonumDgemm is Dgemm computed by gonum's pure-Go BLAS, whatever Engine
// reports. It exists for comparison benchmarks and for tests of the engine.
func GonumDgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GonumSgemm is Sgemm computed by gonum's pure-Go BLAS.
func GonumSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonum.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func scaleD(m, n int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// checkShapes panics unless the stored matrices are large enough. The C
// library trusts its arguments, so this check is what keeps a shape error a
// Go panic instead of memory corruption.
func checkShapes(transA, transB bool, m, n, k, na, lda, nb, ldb, nc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("blas: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, rows, cols, length, ld int) {
		if ld < max(1, cols) {
			panic(fmt.Sprintf("blas: %s is %d×%d but leading dimension is %d", name, rows, cols, ld))
		}
		if rows > 0 && cols > 0 && length < (rows-1)*ld+cols {
			panic(fmt.Sprintf("blas: %s is %d×%d with leading dimension %d but has only %d elements", name, rows, cols, ld, length))
		}
	}
	if m > 0 && n > 0 && k > 0 {
		check("A", ar, ac, na, lda)
		check("B", br, bc, nb, ldb)
	}
	check("C", m, n, nc, ldc)
}
