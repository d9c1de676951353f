package krylov

import (
	"runtime"
	"sync"
)

// parallelMinLen is the vector length from which the vector kernels split
// their work over two goroutines (when GOMAXPROCS > 1). Measured with
// BenchmarkVector on a shared 2-core machine: at 2^16 the split was slower
// (dot 29 µs serial, 43 µs split), at 2^18 about even, at 2^20 1.3–1.6×
// faster.
var parallelMinLen = 1 << 19

// serial reports whether a kernel over n entries should run in the calling
// goroutine only.
func serial(n int) bool {
	return n < parallelMinLen || runtime.GOMAXPROCS(0) < 2
}

// split runs body on [0, n/2) in the calling goroutine and on [n/2, n) in a
// second goroutine, and returns the sum of the two values body returns.
// Callers use it only when n ≥ parallelMinLen, so that the serial path
// allocates nothing.
func split(n int, body func(lo, hi int) float64) float64 {
	h := n / 2
	var upper float64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		upper = body(h, n)
		wg.Done()
	}()
	lower := body(0, h)
	wg.Wait()
	return lower + upper
}

// dot returns xᵀy.
func dot(x, y []float64) float64 {
	if serial(len(x)) {
		return dotRange(x, y)
	}
	return split(len(x), func(lo, hi int) float64 { return dotRange(x[lo:hi], y[lo:hi]) })
}

// dotRange returns xᵀy with four partial sums, which breaks the dependency
// chain of the additions.
func dotRange(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// stepXR performs the CG update x += α p, r −= α Ap in one pass and returns
// the new rᵀr.
func stepXR(x, r, p, ap []float64, alpha float64) float64 {
	if serial(len(x)) {
		return stepXRRange(x, r, p, ap, alpha)
	}
	return split(len(x), func(lo, hi int) float64 {
		return stepXRRange(x[lo:hi], r[lo:hi], p[lo:hi], ap[lo:hi], alpha)
	})
}

func stepXRRange(x, r, p, ap []float64, alpha float64) float64 {
	n := len(x)
	r, p, ap = r[:n], p[:n], ap[:n]
	var s0, s1 float64
	i := 0
	for ; i+2 <= n; i += 2 {
		x[i] += alpha * p[i]
		x[i+1] += alpha * p[i+1]
		a := r[i] - alpha*ap[i]
		b := r[i+1] - alpha*ap[i+1]
		r[i], r[i+1] = a, b
		s0 += a * a
		s1 += b * b
	}
	for ; i < n; i++ {
		x[i] += alpha * p[i]
		r[i] -= alpha * ap[i]
		s0 += r[i] * r[i]
	}
	return s0 + s1
}

// stepP sets p = z + β p.
func stepP(p, z []float64, beta float64) {
	if serial(len(p)) {
		stepPRange(p, z, beta)
		return
	}
	split(len(p), func(lo, hi int) float64 {
		stepPRange(p[lo:hi], z[lo:hi], beta)
		return 0
	})
}

func stepPRange(p, z []float64, beta float64) {
	z = z[:len(p)]
	for i := range p {
		p[i] = z[i] + beta*p[i]
	}
}
