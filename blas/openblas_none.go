//go:build !cgo || noopenblas

package blas

const (
	openblasReady = false
	openblasCore  = ""
	lapackReady   = false
	dtrsvReady    = false
)

func openblasDgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	panic("blas: OpenBLAS is not available in this build")
}

func openblasSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("blas: OpenBLAS is not available in this build")
}

func openblasDtrsm(right, upper, trans, unit bool, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	panic("blas: OpenBLAS is not available in this build")
}

func openblasDtrmm(right, upper, trans, unit bool, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	panic("blas: OpenBLAS is not available in this build")
}

func openblasDsyevd(vectors, upper bool, n int, a []float64, lda int, w []float64) bool {
	panic("blas: OpenBLAS is not available in this build")
}

func openblasDtrsv(upper, trans, unit bool, n int, a []float64, lda int, x []float64) {
	panic("blas: OpenBLAS is not available in this build")
}

func openblasDgemmSplit(parts int, rows, transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) bool {
	return false
}

func openblasTriSplit(parts int, trmm, right, upper, trans, unit bool, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) bool {
	return false
}
