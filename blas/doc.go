// Package blas is the dense linear-algebra engine shared by Eddy's numerical
// packages. It provides
//
//   - Dgemm and Sgemm: C = α·op(A)·op(B) + β·C on row-major float64 and
//     float32 matrices, called directly by nn's layers;
//   - Dtrsv: one triangular solve with one right-hand side, for callers
//     solving with large dense factors (FastDtrsv reports whether it runs
//     on the engine);
//   - Float64 and Lapack: gonum's pure-Go BLAS and LAPACK with the matrix
//     product, the triangular solve and product (Dtrsm, Dtrmm) and the
//     symmetric eigensolver (Dsyev) replaced by this engine. UseInGonum
//     installs them for the whole program, so that every gonum mat.Dense
//     product, Cholesky factorisation and mat.EigenSym (solvers/gphm,
//     hyperspectral) uses them. A program calls it once at start-up (the
//     daemon does); a library never does.
//
// Two implementations exist. When the program is built with cgo and the
// shared library libopenblas.so.0 can be loaded at start-up, the calls go to
// OpenBLAS's cblas_dgemm/cblas_sgemm/cblas_dtrsm/cblas_dtrmm/cblas_dtrsv and
// LAPACK dsyevd,
// single-threaded per call (callers such as nn's data-parallel trainer run
// several calls at once, one per core; Float64 splits a large product or
// solve across the cores itself). A split call runs its shares on a crew of
// this package's own threads, one cgo call for the whole product: split on
// goroutines, one cgo call per share with Go's scheduler between them, a
// 200×200×200 product took 270–300 µs on two cores against 340 µs on one,
// and on the crew 230 µs (BenchmarkSplitGemm). When the crew is busy with
// another caller's product, the split falls back to goroutines. Otherwise, or when built with the tag
// noopenblas, they go to gonum's pure-Go BLAS and LAPACK. Engine reports
// which one is in use.
//
// OpenBLAS is loaded with dlopen rather than linked, for two reasons: the
// program builds and runs without it (pure-Go fallback at run time), and
// OPENBLAS_CORETYPE can be set before the library initialises. Debian's
// DYNAMIC_ARCH build of OpenBLAS 0.3.21 does not recognise some virtualised
// CPUs and falls back to its generic SSE3 ("Prescott") kernels, which were
// 4.4× slower than its AVX-512 kernels on the development machine. Unless
// the environment already sets OPENBLAS_CORETYPE, the loader selects Haswell
// (AVX2 and FMA) on every CPU that has them, AVX-512 ones included, so that a
// run gives the same result on any such CPU: the SkylakeX kernels round
// differently (gp.solve's iterates, and three of its tests' errors, differed
// between an AVX-512 Xeon and an AVX2 EPYC), and though their large products
// were 1.2–1.5× faster (BenchmarkGemm), preset adv's iterations of gp.solve
// took 31 s with them against 8 s with Haswell's, on the same Xeon. Setting
// OPENBLAS_CORETYPE=SkylakeX selects them. OPENBLAS_NUM_THREADS defaults to 1
// for the same reason as above.
// Setting the environment variable EDDY_GEMM=gonum selects the pure-Go path
// even when OpenBLAS is present.
package blas
