// Package mixed holds mixed-precision dense kernels: matrices stored in
// float32, arithmetic in float64, for operands read far more often than they
// are made, where halving the bytes read halves the time.
package mixed

// Upper is an upper triangular matrix U with a float64 diagonal and its
// entries above the diagonal rounded to float32, for solves with A = UᵀU
// where U is read far more often than it is made and A's solve is a
// preconditioner: the rounded factor Ũ is still triangular with a positive
// diagonal, so ŨᵀŨ is symmetric positive definite and (ŨᵀŨ)⁻¹ one fixed
// linear operator, computed in float64 arithmetic. Only its distance from
// A⁻¹ grows, by a relative perturbation of about 6e-8 in U's entries. The
// solve reads half the bytes of a float64 one; it is memory-bound at the
// sizes where that matters.
type Upper struct {
	n    int
	diag []float64
	rows []float32 // row i holds U[i, i+1:n] from off[i]
	off  []int
}

// NewUpper rounds the upper triangle of the n×n row-major a (leading
// dimension lda) into an Upper. It panics on a zero diagonal entry.
func NewUpper(n int, a []float64, lda int) *Upper {
	t := new(Upper)
	t.Set(n, a, lda)
	return t
}

// Set makes t the rounded upper triangle of the n×n row-major a, as
// NewUpper, reusing t's storage when it is large enough.
func (t *Upper) Set(n int, a []float64, lda int) {
	if lda < max(1, n) || n > 0 && len(a) < (n-1)*lda+n {
		panic("mixed: Upper.Set: inconsistent dimensions")
	}
	m := n * (n - 1) / 2
	if cap(t.rows) < m || cap(t.diag) < n {
		t.rows, t.diag, t.off = make([]float32, m), make([]float64, n), make([]int, n+1)
	}
	t.n, t.rows, t.diag, t.off = n, t.rows[:m], t.diag[:n], t.off[:n+1]
	for i := range n {
		t.diag[i] = a[i*lda+i]
		if t.diag[i] == 0 {
			panic("mixed: Upper.Set: zero diagonal entry")
		}
		t.off[i+1] = t.off[i] + n - 1 - i
		row := t.rows[t.off[i]:t.off[i+1]]
		for j, v := range a[i*lda+i+1 : i*lda+n] {
			row[j] = float32(v)
		}
	}
}

// SolveNormal overwrites x (length N) with (ŨᵀŨ)⁻¹x: Ũᵀy = x forward, each
// unknown's share taken from the rest of its row (axpy), then Ũx = y
// backward, each unknown from the dot of its row with those after it. Both
// passes read Ũ row by row.
func (t *Upper) SolveNormal(x []float64) {
	n := t.n
	x = x[:n]
	for i := range n {
		xi := x[i] / t.diag[i]
		x[i] = xi
		axpy32(-xi, t.rows[t.off[i]:t.off[i+1]], x[i+1:])
	}
	for i := n - 1; i >= 0; i-- {
		x[i] = (x[i] - dot32(t.rows[t.off[i]:t.off[i+1]], x[i+1:])) / t.diag[i]
	}
}

// axpy32 sets y[j] += α x[j] for j < len(x) ≤ len(y).
func axpy32(alpha float64, x []float32, y []float64) {
	y = y[:len(x)]
	j := 0
	if haveMixedKernels && len(x) >= 4 {
		j = len(x) &^ 3
		axpy32Vec(alpha, &x[0], &y[0], j)
	}
	for ; j < len(x); j++ {
		y[j] += alpha * float64(x[j])
	}
}

// dot32 returns Σ_j x[j] y[j] for j < len(x) ≤ len(y).
func dot32(x []float32, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	j := 0
	if haveMixedKernels && len(x) >= 4 {
		j = len(x) &^ 3
		s = dot32Vec(&x[0], &y[0], j)
	}
	for ; j < len(x); j++ {
		s += float64(x[j]) * y[j]
	}
	return s
}

// Fast reports whether the solves run on vector kernels; without them a
// float64 solve on the engine (blas.Dtrsv) is faster.
func Fast() bool { return haveMixedKernels }
