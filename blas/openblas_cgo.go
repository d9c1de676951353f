//go:build cgo && !noopenblas

package blas

/*
#cgo LDFLAGS: -ldl -lpthread
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

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

// The crew: threads of this library that run the shares of a product split
// across the cores (eddy_split), so that a split call is one cgo call. With
// the shares on goroutines instead (one cgo call each, Go's scheduler
// between them) a 200×200×200 product took 270–300 µs on two cores here,
// against 340 µs on one; from C threads 185 µs (240 µs through one cgo call).
//
// A member spins for its next share for up to EDDY_SPIN_NS (pausing, and
// yielding the core to any other runnable thread, between looks), then
// sleeps on its condition variable: in an iterative solver's loop the
// products come every few hundred microseconds and the wake-up of a sleeping
// thread would cost about what it saves, while an idle process does not keep
// a core busy.
#define EDDY_CREW_MAX 63
#define EDDY_SPIN_NS 200000L

enum { EDDY_OP_GEMM, EDDY_OP_TRSM, EDDY_OP_TRMM };

typedef struct {
	int op, ta, tb, side, upper, unit, m, n, k, lda, ldb, ldc;
	double alpha, beta;
	const double *a, *b;
	double *c;
} eddy_share;

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int state; // 0 idle, 1 share posted, 2 share done
	atomic_int sleeping;
	atomic_int taken;
	eddy_share sh;
} eddy_member;

static eddy_member eddy_crew[EDDY_CREW_MAX];
static int eddy_crew_n;

static void eddy_run_share(const eddy_share *s) {
	if (s->m == 0 || s->n == 0) {
		return; // an empty share, as the goroutine split skips
	}
	switch (s->op) {
	case EDDY_OP_GEMM:
		eddy_dgemm(s->ta, s->tb, s->m, s->n, s->k, s->alpha, s->a, s->lda, s->b, s->ldb, s->beta, s->c, s->ldc);
		break;
	case EDDY_OP_TRSM:
		eddy_dtrsm(s->side, s->upper, s->ta, s->unit, s->m, s->n, s->alpha, s->a, s->lda, s->c, s->ldc);
		break;
	case EDDY_OP_TRMM:
		eddy_dtrmm(s->side, s->upper, s->ta, s->unit, s->m, s->n, s->alpha, s->a, s->lda, s->c, s->ldc);
		break;
	}
}

static long eddy_now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void *eddy_member_run(void *arg) {
	eddy_member *w = arg;
	long spin = EDDY_SPIN_NS, done = eddy_now_ns();
	for (;;) {
		long until = done + spin;
		int looks = 0;
		while (atomic_load(&w->state) != 1) {
			__builtin_ia32_pause();
			if (++looks % 64 != 0) {
				continue;
			}
			if (eddy_now_ns() < until) {
				sched_yield();
				continue;
			}
			pthread_mutex_lock(&w->mu);
			atomic_store(&w->sleeping, 1);
			while (atomic_load(&w->state) != 1) {
				pthread_cond_wait(&w->cv, &w->mu);
			}
			atomic_store(&w->sleeping, 0);
			pthread_mutex_unlock(&w->mu);
		}
		// Spin for the next share only when this one came within the
		// window: where shares come seldom (a product now and then between
		// a single thread's long stretches), spinning would only take the
		// core from the process's other threads.
		spin = eddy_now_ns() - done < EDDY_SPIN_NS ? EDDY_SPIN_NS : 0;
		eddy_run_share(&w->sh);
		done = eddy_now_ns();
		atomic_store(&w->state, 2);
	}
	return NULL;
}

// eddy_crew_start starts n members (at most EDDY_CREW_MAX) and returns how
// many run.
static int eddy_crew_start(int n) {
	if (n > EDDY_CREW_MAX) {
		n = EDDY_CREW_MAX;
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int i;
	for (i = 0; i < n; i++) {
		eddy_member *w = &eddy_crew[i];
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		pthread_t th;
		if (pthread_create(&th, &at, eddy_member_run, w) != 0) {
			break;
		}
	}
	pthread_attr_destroy(&at);
	eddy_crew_n = i;
	return i;
}

// eddy_split runs s split into parts shares: for a product, by rows of C
// (rows set) or by its columns; for a triangular operation, by the rows
// (rows set: side right) or the columns of B. The share boundaries are
// p·total/parts, those of the goroutine split, so the result is the same to
// the bit. It returns 0, having done nothing, when parts − 1 members are not
// free.
static int eddy_split(eddy_share s, int parts, int rows) {
	eddy_member *got[EDDY_CREW_MAX];
	int have = 0;
	for (int i = 0; i < eddy_crew_n && have < parts - 1; i++) {
		int z = 0;
		if (atomic_compare_exchange_strong(&eddy_crew[i].taken, &z, 1)) {
			got[have++] = &eddy_crew[i];
		}
	}
	if (have < parts - 1) {
		for (int i = 0; i < have; i++) {
			atomic_store(&got[i]->taken, 0);
		}
		return 0;
	}
	int total = rows ? s.m : s.n;
	eddy_share mine;
	for (int p = 0; p < parts; p++) {
		int lo = (int)((long)p * total / parts), hi = (int)((long)(p + 1) * total / parts);
		eddy_share t = s;
		if (rows) {
			t.m = hi - lo;
			if (s.op == EDDY_OP_GEMM) {
				t.a = s.a + (s.ta ? lo : (long)lo * s.lda);
			}
			t.c = s.c + (long)lo * s.ldc;
		} else {
			t.n = hi - lo;
			if (s.op == EDDY_OP_GEMM) {
				t.b = s.b + (s.tb ? (long)lo * s.ldb : lo);
			}
			t.c = s.c + lo;
		}
		if (p == 0) {
			mine = t;
			continue;
		}
		eddy_member *w = got[p - 1];
		w->sh = t;
		atomic_store(&w->state, 1);
		if (atomic_load(&w->sleeping)) {
			pthread_mutex_lock(&w->mu);
			pthread_cond_signal(&w->cv);
			pthread_mutex_unlock(&w->mu);
		}
	}
	eddy_run_share(&mine);
	for (int i = 0; i < have; i++) {
		while (atomic_load(&got[i]->state) != 2) {
			__builtin_ia32_pause();
		}
		atomic_store(&got[i]->state, 0);
		atomic_store(&got[i]->taken, 0);
	}
	return 1;
}

static int eddy_split_gemm(int parts, int rows, int ta, int tb, int m, int n, int k, double alpha,
	const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc) {
	eddy_share s = {.op = EDDY_OP_GEMM, .ta = ta, .tb = tb, .m = m, .n = n, .k = k, .alpha = alpha,
		.a = a, .lda = lda, .b = b, .ldb = ldb, .beta = beta, .c = c, .ldc = ldc};
	return eddy_split(s, parts, rows);
}

static int eddy_split_tri(int parts, int op, int side, int upper, int trans, int unit, int m, int n,
	double alpha, const double *a, int lda, double *b, int ldb) {
	eddy_share s = {.op = op, .side = side, .upper = upper, .ta = trans, .unit = unit, .m = m, .n = n,
		.alpha = alpha, .a = a, .lda = lda, .c = b, .ldc = ldb};
	return eddy_split(s, parts, side);
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
	"sync"
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

// crew.n is the number of this library's threads that take shares of split
// calls (eddy_split), started at the first split call.
var crew struct {
	once sync.Once
	n    int
}

// crewSplit runs a product or triangular operation (call) in parts shares,
// the caller's thread taking the first and the crew the others, in one cgo
// call. It reports false, having done nothing, when parts − 1 members of the
// crew or parts engine slots are not free now; the caller then splits on
// goroutines.
func crewSplit(parts int, call func() C.int) bool {
	crew.once.Do(func() { crew.n = int(C.eddy_crew_start(C.int(cap(slots) - 1))) })
	if parts < 2 || parts-1 > crew.n {
		return false
	}
	took := 0
	for took < parts {
		select {
		case slots <- struct{}{}:
			took++
			continue
		default:
		}
		break
	}
	ok := took == parts && call() != 0
	for range took {
		<-slots
	}
	return ok
}

func openblasDgemmSplit(parts int, rows, transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) bool {
	checkInt32(m, n, k, lda, ldb, ldc)
	return crewSplit(parts, func() C.int {
		return C.eddy_split_gemm(C.int(parts), cb(rows), cb(transA), cb(transB), C.int(m), C.int(n), C.int(k), C.double(alpha),
			(*C.double)(&a[0]), C.int(lda), (*C.double)(&b[0]), C.int(ldb), C.double(beta), (*C.double)(&c[0]), C.int(ldc))
	})
}

func openblasTriSplit(parts int, trmm, right, upper, trans, unit bool, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) bool {
	checkInt32(m, n, 0, lda, ldb, 0)
	op := C.EDDY_OP_TRSM
	if trmm {
		op = C.EDDY_OP_TRMM
	}
	return crewSplit(parts, func() C.int {
		return C.eddy_split_tri(C.int(parts), C.int(op), cb(right), cb(upper), cb(trans), cb(unit), C.int(m), C.int(n),
			C.double(alpha), (*C.double)(&a[0]), C.int(lda), (*C.double)(&b[0]), C.int(ldb))
	})
}

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
