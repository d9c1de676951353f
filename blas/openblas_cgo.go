//go:build cgo && !noopenblas

package blas

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// CBLAS enumerations (cblas.h): row-major 101, no transpose 111, transpose 112.
typedef void (*eddy_dgemm_fn)(int, int, int, int, int, int, double, const double*, int,
	const double*, int, double, double*, int);
typedef void (*eddy_sgemm_fn)(int, int, int, int, int, int, float, const float*, int,
	const float*, int, float, float*, int);
typedef void (*eddy_dtrsm_fn)(int, int, int, int, int, int, int, double, const double*, int,
	double*, int);
typedef void (*eddy_dsyevd_fn)(const char*, const char*, const int*, double*, const int*, double*,
	double*, const int*, int*, const int*, int*, size_t, size_t);
typedef void (*eddy_dtrsv_fn)(int, int, int, int, int, const double*, int, double*, int);
typedef char* (*eddy_corename_fn)(void);
typedef void (*eddy_threads_fn)(int);

static eddy_dgemm_fn eddy_dgemm_p;
static eddy_sgemm_fn eddy_sgemm_p;
static eddy_corename_fn eddy_corename_p;
static eddy_dtrsm_fn eddy_dtrsm_p;
static eddy_dtrsm_fn eddy_dtrmm_p; // cblas_dtrmm has cblas_dtrsm's signature
static eddy_dsyevd_fn eddy_dsyevd_p;
static eddy_dtrsv_fn eddy_dtrsv_p;

// eddy_openblas_load opens libopenblas.so.0 after choosing its kernel set.
// It returns 0 on success.
static int eddy_openblas_load(void) {
	if (getenv("OPENBLAS_CORETYPE") == NULL) {
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
			setenv("OPENBLAS_CORETYPE", "Haswell", 0);
		}
	}
	setenv("OPENBLAS_NUM_THREADS", "1", 0);
	void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		h = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL) {
		return 1;
	}
	eddy_dgemm_p = (eddy_dgemm_fn)dlsym(h, "cblas_dgemm");
	eddy_sgemm_p = (eddy_sgemm_fn)dlsym(h, "cblas_sgemm");
	eddy_corename_p = (eddy_corename_fn)dlsym(h, "openblas_get_corename");
	eddy_dtrsm_p = (eddy_dtrsm_fn)dlsym(h, "cblas_dtrsm");
	eddy_dtrmm_p = (eddy_dtrsm_fn)dlsym(h, "cblas_dtrmm");
	eddy_dsyevd_p = (eddy_dsyevd_fn)dlsym(h, "dsyevd_");
	eddy_dtrsv_p = (eddy_dtrsv_fn)dlsym(h, "cblas_dtrsv");
	eddy_threads_fn threads = (eddy_threads_fn)dlsym(h, "openblas_set_num_threads");
	if (eddy_dgemm_p == NULL || eddy_sgemm_p == NULL) {
		return 2;
	}
	if (threads != NULL) {
		threads(1);
	}
	return 0;
}

static const char* eddy_openblas_core(void) {
	return eddy_corename_p ? eddy_corename_p() : "unknown";
}

static void eddy_dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
	const double *b, int ldb, double beta, double *c, int ldc) {
	eddy_dgemm_p(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void eddy_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
	const float *b, int ldb, float beta, float *c, int ldc) {
	eddy_sgemm_p(101, ta ? 112 : 111, tb ? 112 : 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
// eddy_dtrsm solves op(A) X = αB (side 0) or X op(A) = αB (side 1) in place,
// row-major; upper, trans and unit are 0 or 1.
static void eddy_dtrsm(int side, int upper, int trans, int unit, int m, int n, double alpha,
	const double *a, int lda, double *b, int ldb) {
	eddy_dtrsm_p(101, side ? 142 : 141, upper ? 121 : 122, trans ? 112 : 111, unit ? 132 : 131,
		m, n, alpha, a, lda, b, ldb);
}

// eddy_dtrmm sets B = α op(A) B (side 0) or B = α B op(A) (side 1) in place,
// row-major; upper, trans and unit are 0 or 1.
static void eddy_dtrmm(int side, int upper, int trans, int unit, int m, int n, double alpha,
	const double *a, int lda, double *b, int ldb) {
	eddy_dtrmm_p(101, side ? 142 : 141, upper ? 121 : 122, trans ? 112 : 111, unit ? 132 : 131,
		m, n, alpha, a, lda, b, ldb);
}

static int eddy_have_dtrsv(void) {
	return eddy_dtrsv_p != NULL;
}

// eddy_dtrsv solves op(A) x = b in place, row-major, x of unit stride.
static void eddy_dtrsv(int upper, int trans, int unit, int n, const double *a, int lda, double *x) {
	eddy_dtrsv_p(101, upper ? 121 : 122, trans ? 112 : 111, unit ? 132 : 131, n, a, lda, x, 1);
}

static int eddy_have_lapack(void) {
	return eddy_dtrsm_p != NULL && eddy_dtrmm_p != NULL && eddy_dsyevd_p != NULL;
}

// eddy_dsyevd is LAPACK's divide-and-conquer symmetric eigensolver on a
// column-major matrix; lwork = liwork = -1 queries the workspace sizes.
static int eddy_dsyevd(int vectors, int upper, int n, double *a, int lda, double *w,
	double *work, int lwork, int *iwork, int liwork) {
	int info = 0;
	eddy_dsyevd_p(vectors ? "V" : "N", upper ? "U" : "L", &n, a, &lda, w, work, &lwork, iwork,
		&liwork, &info, 1, 1);
	return info;
}
*/
import "C"

import (
	"math"
	"os"
)

var (
	openblasReady bool
	openblasCore  string
	lapackReady   bool
	dtrsvReady    bool
)

func init() {
	if os.Getenv("EDDY_GEMM") == "gonum" {
		return
	}
	if C.eddy_openblas_load() != 0 {
		return
	}
	openblasReady = true
	openblasCore = C.GoString(C.eddy_openblas_core())
	lapackReady = C.eddy_have_lapack() != 0
	dtrsvReady = C.eddy_have_dtrsv() != 0
}

func cbool(t bool) C.int {
	if t {
		return 1
	}
	return 0
}

func checkInt32(m, n, k, lda, ldb, ldc int) {
	for _, v := range [...]int{m, n, k, lda, ldb, ldc} {
		if v > math.MaxInt32 {
			panic("blas: dimension exceeds the 32-bit range of the BLAS interface")
		}
	}
}

func openblasDgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkInt32(m, n, k, lda, ldb, ldc)
	C.eddy_dgemm(cbool(transA), cbool(transB), C.int(m), C.int(n), C.int(k), C.double(alpha),
		(*C.double)(&a[0]), C.int(lda), (*C.double)(&b[0]), C.int(ldb), C.double(beta), (*C.double)(&c[0]), C.int(ldc))
}

func openblasSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkInt32(m, n, k, lda, ldb, ldc)
	C.eddy_sgemm(cbool(transA), cbool(transB), C.int(m), C.int(n), C.int(k), C.float(alpha),
		(*C.float)(&a[0]), C.int(lda), (*C.float)(&b[0]), C.int(ldb), C.float(beta), (*C.float)(&c[0]), C.int(ldc))
}

func cb(t bool) C.int { return cbool(t) }

func openblasDtrsm(right, upper, trans, unit bool, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	checkInt32(m, n, 0, lda, ldb, 0)
	C.eddy_dtrsm(cb(right), cb(upper), cb(trans), cb(unit), C.int(m), C.int(n), C.double(alpha),
		(*C.double)(&a[0]), C.int(lda), (*C.double)(&b[0]), C.int(ldb))
}

func openblasDtrmm(right, upper, trans, unit bool, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	checkInt32(m, n, 0, lda, ldb, 0)
	C.eddy_dtrmm(cb(right), cb(upper), cb(trans), cb(unit), C.int(m), C.int(n), C.double(alpha),
		(*C.double)(&a[0]), C.int(lda), (*C.double)(&b[0]), C.int(ldb))
}

func openblasDtrsv(upper, trans, unit bool, n int, a []float64, lda int, x []float64) {
	checkInt32(n, lda, 0, 0, 0, 0)
	C.eddy_dtrsv(cb(upper), cb(trans), cb(unit), C.int(n), (*C.double)(&a[0]), C.int(lda), (*C.double)(&x[0]))
}

// openblasDsyevd overwrites the column-major n×n matrix a (leading
// dimension lda; triangle upper or lower) with its eigenvectors when vectors
// is set and w with its eigenvalues in ascending order. It reports whether
// the iteration converged.
func openblasDsyevd(vectors, upper bool, n int, a []float64, lda int, w []float64) bool {
	checkInt32(n, lda, 0, 0, 0, 0)
	var qw [1]C.double
	var qi [1]C.int
	if C.eddy_dsyevd(cb(vectors), cb(upper), C.int(n), (*C.double)(&a[0]), C.int(lda), (*C.double)(&w[0]),
		&qw[0], -1, &qi[0], -1) != 0 {
		return false
	}
	work := make([]C.double, int(qw[0])+1)
	iwork := make([]C.int, int(qi[0])+1)
	return C.eddy_dsyevd(cb(vectors), cb(upper), C.int(n), (*C.double)(&a[0]), C.int(lda), (*C.double)(&w[0]),
		&work[0], C.int(len(work)), &iwork[0], C.int(len(iwork))) == 0
}
