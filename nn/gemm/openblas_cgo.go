//go:build cgo && !noopenblas

package gemm

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// CBLAS enumerations (cblas.h): row-major 101, no transpose 111, transpose 112.
typedef void (*eddy_dgemm_fn)(int, int, int, int, int, int, double, const double*, int,
	const double*, int, double, double*, int);
typedef void (*eddy_sgemm_fn)(int, int, int, int, int, int, float, const float*, int,
	const float*, int, float, float*, int);
typedef char* (*eddy_corename_fn)(void);
typedef void (*eddy_threads_fn)(int);

static eddy_dgemm_fn eddy_dgemm_p;
static eddy_sgemm_fn eddy_sgemm_p;
static eddy_corename_fn eddy_corename_p;

// eddy_openblas_load opens libopenblas.so.0 after choosing its kernel set.
// It returns 0 on success.
static int eddy_openblas_load(void) {
	if (getenv("OPENBLAS_CORETYPE") == NULL) {
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
			__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
			setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
		} else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
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
*/
import "C"

import (
	"math"
	"os"
)

var (
	openblasReady bool
	openblasCore  string
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
			panic("gemm: dimension exceeds the 32-bit range of the BLAS interface")
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
