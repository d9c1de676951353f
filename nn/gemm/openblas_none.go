//go:build !cgo || noopenblas

package gemm

const (
	openblasReady = false
	openblasCore  = ""
)

func openblasDgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	panic("gemm: OpenBLAS is not available in this build")
}

func openblasSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("gemm: OpenBLAS is not available in this build")
}
