package poisson

import (
	"fmt"
	"math"
)

// Manufactured returns the right-hand side f = −Δu and the exact solution u of
// the manufactured problem on g, both sampled at the cell centres in the
// grid's storage order. The solution is, with x = (x_1, …, x_d),
//
//	u(x) = Π_i sin(k_i π x_i)  +  4^d · Π_i x_i(1 − x_i) · exp(s(x)),
//	k = (1, 2) in 2-D, (1, 2, 1) in 3-D,   s(x) = Σ_{i<j} x_i x_j,
//
// a separable oscillating part plus a non-separable smooth part of comparable
// size. Both vanish on every wall; the second has a nonzero normal second
// derivative there, so the wall treatment is exercised. f is the exact
// −Δu, not a finite-difference approximation. To solve, form b = h²·f with
// Laplacian.RHS.
func Manufactured(g *Grid) (f, exact []float64) {
	nc := g.Len()
	f = make([]float64, nc)
	exact = make([]float64, nc)
	h := g.H()
	var x [3]float64
	pt := x[:g.dim]
	for idx := range nc {
		// Decompose idx = (k·n + j)·n + i with x fastest.
		rest := idx
		for a := range g.dim {
			pt[a] = (float64(rest%g.n) + 0.5) * h
			rest /= g.n
		}
		exact[idx], f[idx] = manufactured(pt)
	}
	return f, exact
}

// manufactured returns u(x) and −Δu(x) of the manufactured solution at the
// point x of dimension 2 or 3.
func manufactured(x []float64) (u, f float64) {
	d := len(x)
	k := [3]float64{1, 2, 1}

	// Separable part: −Δ Π sin(k_i π x_i) = π² Σ k_i² · Π sin(k_i π x_i).
	u1, ksq := 1.0, 0.0
	for i := range d {
		u1 *= math.Sin(k[i] * math.Pi * x[i])
		ksq += k[i] * k[i]
	}
	f1 := math.Pi * math.Pi * ksq * u1

	// Non-separable part u2 = c·P·g with P = Π p_i, p_i = x_i(1 − x_i) and
	// g = exp(s). With σ_i = ∂_i s = Σ_{j≠i} x_j (so ∂_i σ_i = 0) and
	// P_i = Π_{j≠i} p_j:
	//	Δ(P g) = g·[ Σ_i (−2 P_i) + 2 Σ_i (1 − 2x_i) σ_i P_i + P Σ_i σ_i² ].
	c := math.Pow(4, float64(d))
	var sum, s float64
	for i := range d {
		sum += x[i]
		for j := i + 1; j < d; j++ {
			s += x[i] * x[j]
		}
	}
	p := 1.0
	for i := range d {
		p *= x[i] * (1 - x[i])
	}
	g := math.Exp(s)
	var lap float64
	for i := range d {
		pi := 1.0
		for j := range d {
			if j != i {
				pi *= x[j] * (1 - x[j])
			}
		}
		sigma := sum - x[i]
		lap += -2*pi + 2*(1-2*x[i])*sigma*pi + p*sigma*sigma
	}
	u2 := c * p * g
	f2 := -c * g * lap
	return u1 + u2, f1 + f2
}

// RelL2Error returns the relative discrete L2 error ‖u − exact‖₂ / ‖exact‖₂
// over the cell values (the cell volume h^d cancels). If exact is zero it
// returns the absolute error ‖u‖₂. It panics if the lengths differ.
func RelL2Error(u, exact []float64) float64 {
	if len(u) != len(exact) {
		panic(fmt.Sprintf("poisson: RelL2Error: len(u)=%d, len(exact)=%d", len(u), len(exact)))
	}
	var e2, x2 float64
	for i, v := range exact {
		d := u[i] - v
		e2 += d * d
		x2 += v * v
	}
	if x2 == 0 {
		return math.Sqrt(e2)
	}
	return math.Sqrt(e2 / x2)
}
