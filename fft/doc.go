// Package fft computes discrete Fourier transforms of float64 and complex128
// data on 1-D, 2-D and 3-D periodic grids, and the spectral operations built on
// them: wavenumber grids, derivatives, the inverse Laplacian, 2/3-rule
// dealiasing and resampling between grid sizes.
//
// # Conventions
//
// For a d-dimensional grid of shape (n_0, …, n_{d-1}), stored row-major (the last
// axis is contiguous), the forward transform is unnormalised,
//
//	X[k] = Σ_j x[j] exp(−2πi Σ_a j_a k_a / n_a),
//
// and the inverse carries the factor 1/N with N = Π n_a,
//
//	x[j] = (1/N) Σ_k X[k] exp(+2πi Σ_a j_a k_a / n_a),
//
// so Inverse(Forward(x)) = x (numpy's "backward" normalisation). Spectral index
// k_a ∈ [0, n_a) stands for the integer wavenumber Mode(k_a, n_a) ∈ (−n_a/2, n_a/2].
//
// Real plans transform real grids to the half spectrum: the last axis keeps the
// wavenumbers 0 … n_{d-1}/2 only (length n_{d-1}/2+1), the others are complete;
// the missing half follows from Hermitian symmetry X[−k] = conj(X[k]).
//
// # Batches
//
// Every plan transforms a batch: a slice holding b consecutive grids (b ≥ 1,
// leading axes of the array) is transformed grid by grid, and b is inferred from
// the slice length. With SetWorkers(w) a plan splits the work of one call
// (rows, column blocks, batch members) over up to w goroutines, one per
// 16384 values at least (smaller passes run on the caller); the result is
// bit-identical for every w.
//
// # Cost and memory
//
// Lengths whose prime factors are all ≤ 31 use a self-sorting (Stockham)
// mixed-radix algorithm with radix-4, 2, 3, 5 and generic odd butterflies and
// precomputed twiddle factors; other lengths use Bluestein's chirp-z algorithm
// over a power-of-two length m ≥ 2n−1. Either costs O(N log N). Real transforms
// of even length use a complex transform of half the length.
//
// Every line is transformed together with up to 15 others as interleaved
// vectors, so that each butterfly streams over contiguous memory with one
// twiddle factor: adjacent columns along strided axes, consecutive rows
// (transposed into a cache-resident block) along the last axis. On amd64 with
// AVX2 and FMA the radix-4 and radix-2 stages and the real-to-complex
// untangling run in assembly (build tag purego selects the portable Go
// kernels everywhere); results then differ from the portable ones by rounding
// only. Either way a result does not depend on the number of workers.
//
// Plans hold their work buffers: after the first call with a given batch size,
// calls allocate nothing. A plan is not safe for concurrent use; use one plan
// per goroutine. Real.SetTruncation skips the work on wavenumbers that a
// dealiased spectral method discards anyway.
package fft
