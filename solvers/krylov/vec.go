package krylov

import "runtime"

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

// pair holds a worker goroutine that runs the upper half of a split
// kernel while the caller runs the lower half, so that a split allocates
// nothing. A nil *pair runs every kernel in the caller. The halves are
// fixed, so results do not depend on scheduling.
type pair struct {
	work chan vecJob
	done chan float64
}

// vecJob is the upper half of one kernel call.
type vecJob struct {
	op         int
	x, y, z, w []float64
	s          float64
}

const (
	opDot = iota
	opStepXR
	opStepP
)

// newPair returns a pair for vectors of length n, or nil if kernels of that
// length run serially. The caller must close it.
func newPair(n int) *pair {
	if serial(n) {
		return nil
	}
	t := &pair{work: make(chan vecJob), done: make(chan float64)}
	go func() {
		for j := range t.work {
			t.done <- j.run()
		}
	}()
	return t
}

// close stops the worker.
func (t *pair) close() {
	if t != nil {
		close(t.work)
	}
}

func (j vecJob) run() float64 {
	switch j.op {
	case opDot:
		return dotRange(j.x, j.y)
	case opStepXR:
		return stepXRRange(j.x, j.y, j.z, j.w, j.s)
	default:
		stepPRange(j.x, j.y, j.s)
		return 0
	}
}

// split runs j on [0, n/2) in the caller and on [n/2, n) in the worker and
// returns the sum of the two values.
func (t *pair) split(j vecJob) float64 {
	h := len(j.x) / 2
	hi := vecJob{op: j.op, s: j.s, x: j.x[h:], y: j.y[h:]}
	lo := vecJob{op: j.op, s: j.s, x: j.x[:h], y: j.y[:h]}
	if j.z != nil {
		hi.z, hi.w, lo.z, lo.w = j.z[h:], j.w[h:], j.z[:h], j.w[:h]
	}
	t.work <- hi
	lower := lo.run()
	return lower + <-t.done
}

// dot returns xᵀy.
func (t *pair) dot(x, y []float64) float64 {
	if t == nil {
		return dotRange(x, y)
	}
	return t.split(vecJob{op: opDot, x: x, y: y[:len(x)]})
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
func (t *pair) stepXR(x, r, p, ap []float64, alpha float64) float64 {
	if t == nil {
		return stepXRRange(x, r, p, ap, alpha)
	}
	n := len(x)
	return t.split(vecJob{op: opStepXR, x: x, y: r[:n], z: p[:n], w: ap[:n], s: alpha})
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
func (t *pair) stepP(p, z []float64, beta float64) {
	if t == nil {
		stepPRange(p, z, beta)
		return
	}
	t.split(vecJob{op: opStepP, x: p, y: z[:len(p)], s: beta})
}

func stepPRange(p, z []float64, beta float64) {
	z = z[:len(p)]
	for i := range p {
		p[i] = z[i] + beta*p[i]
	}
}
