package gphm

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// Allen–Cahn with Dirichlet data can have several solutions, and the check
// residual cannot tell them apart: each satisfies the equation. Preset ac1,
// u_xx + u³ − u = f on [0, 2π] with u* = sin(100x), has a second solution
// û = u* + w, w a single smooth bump of height 0.83 (relative L2 distance
// 0.807, verified with a 40 001-point finite-difference Newton solve started
// from u* + ½ sin(x): residual 2e-8); GP-HM with the StM kernel finds that one,
// with a check residual of 1.2e-4. A solution is isolated when the
// linearisation L' = Δ + diag(3û² − 1) at it is nonsingular, and it is the
// only solution nearby that a continuation from small data reaches when L'
// is negative definite (the Laplacian with Dirichlet values dominates). The
// count of non-negative eigenvalues of L' (Result.UnstableModes) says which:
// 0 rules the ambiguity out, a positive count warns that the data admit other
// solutions.

// unstableModes returns the number of non-negative eigenvalues of
// Δ_h + diag(3u² − 1) for grid values u (n1×n2, n2 = 1 in 1-D) of an
// Allen–Cahn solution, with the second-difference Laplacian and Dirichlet
// values on the boundary nodes, over the interior nodes. In 1-D the count is
// exact (Sturm sequence of the tridiagonal matrix, O(n)); in 2-D it returns 0
// when max(3u² − 1) is below the least |eigenvalue| of Δ_h (then L' is
// negative definite) and −1 (undetermined) otherwise.
func unstableModes(u *mat.Dense, h1, h2 float64) int {
	n1, n2 := u.Dims()
	if n2 == 1 {
		return sturmNonNegative(u, h1)
	}
	top := math.Inf(-1)
	for i := 1; i < n1-1; i++ {
		for j := 1; j < n2-1; j++ {
			v := u.At(i, j)
			top = math.Max(top, 3*v*v-1)
		}
	}
	least := 0.0
	for _, d := range []struct {
		n int
		h float64
	}{{n1, h1}, {n2, h2}} {
		s := math.Sin(math.Pi / (2 * float64(d.n-1)))
		least += 4 / (d.h * d.h) * s * s
	}
	if top < least {
		return 0
	}
	return -1
}

// sturmNonNegative counts the eigenvalues ≥ 0 of the tridiagonal matrix
// T = D2_h + diag(3u² − 1) on the interior nodes of a 1-D grid: the negative
// pivots of the LDLᵀ factorisation of −T (Sylvester's law of inertia).
func sturmNonNegative(u *mat.Dense, h float64) int {
	n, _ := u.Dims()
	off := 1 / (h * h) // off-diagonal of T; −T has −off
	count := 0
	d := 0.0
	for i := 1; i < n-1; i++ {
		v := u.At(i, 0)
		a := 2/(h*h) - (3*v*v - 1) // diagonal of −T
		if i > 1 {
			a -= off * off / d
		}
		if a <= 0 {
			count++
			if a == 0 {
				a = -1e-300 // a zero pivot is a zero eigenvalue: counted, and the recurrence continues
			}
		}
		d = a
	}
	return count
}
