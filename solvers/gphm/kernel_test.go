package gphm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fd5 is the fourth-order central difference (f(x−2h) − 8f(x−h) + 8f(x+h) − f(x+2h))/(12h).
func fd5(f func(float64) float64, x, h float64) float64 {
	return (f(x-2*h) - 8*f(x-h) + 8*f(x+h) - f(x+2*h)) / (12 * h)
}

// TestComponentDerivatives checks the closed-form z-derivatives and parameter
// derivatives of every kernel component against fourth-order central
// differences. With h = 1e-4 (relative to the lengthscale) the truncation error
// is O(h⁴ g⁽⁵⁾) ≈ 1e-13 and the rounding error O(ε/h) ≈ 1e-12 of the size of the
// terms, so 1e-7 relative to that size is a safe bound that still catches any
// wrong sign or factor.
func TestComponentDerivatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kind := range []Kernel{GM, StM, SE, Matern} {
		for range 40 {
			ls := -1 + 2*rng.Float64()
			mu := 3 * rng.Float64()
			z := -1.5 + 3*rng.Float64()
			if math.Abs(z) < 1e-2 {
				continue // the Matérn third derivative jumps at 0; keep the stencil off it
			}
			g, dls, dmu := component(kind, ls, mu, z)
			scale := 1 + math.Abs(2*math.Pi*mu) + math.Sqrt(5)*math.Exp(ls)
			tol := 1e-7 * scale * scale * scale
			for d := range 2 {
				fz := fd5(func(z float64) float64 { g, _, _ := component(kind, ls, mu, z); return g[d] }, z, 1e-4)
				if math.Abs(fz-g[d+1]) > tol {
					t.Errorf("%v ls=%.3f mu=%.3f z=%.3f: d/dz of order %d = %v, differences %v", kind, ls, mu, z, d, g[d+1], fz)
				}
			}
			for d := range 3 {
				fl := fd5(func(ls float64) float64 { g, _, _ := component(kind, ls, mu, z); return g[d] }, ls, 1e-4)
				if math.Abs(fl-dls[d]) > tol {
					t.Errorf("%v ls=%.3f mu=%.3f z=%.3f: d/dls of order %d = %v, differences %v", kind, ls, mu, z, d, dls[d], fl)
				}
				fm := fd5(func(mu float64) float64 { g, _, _ := component(kind, ls, mu, z); return g[d] }, mu, 1e-5)
				if kind.Modulated() && math.Abs(fm-dmu[d]) > tol {
					t.Errorf("%v ls=%.3f mu=%.3f z=%.3f: d/dmu of order %d = %v, differences %v", kind, ls, mu, z, d, dmu[d], fm)
				}
				if !kind.Modulated() && dmu[d] != 0 {
					t.Errorf("%v: nonzero frequency derivative", kind)
				}
			}
		}
	}
}

// TestComponentClosedForm checks the components against the textbook formulas
// at a few points (exact up to rounding).
func TestComponentClosedForm(t *testing.T) {
	z, ls, mu := 0.3, 0.4, 2.5
	a := math.Exp(ls)
	c := math.Sqrt(5) * math.Exp(ls)
	mat52 := (1 + c*z + c*c*z*z/3) * math.Exp(-c*z)
	cosb := math.Cos(2 * math.Pi * mu * z)
	for _, tc := range []struct {
		kind Kernel
		want float64
	}{
		{GM, math.Exp(-a*z*z) * cosb},
		{SE, math.Exp(-a * z * z)},
		{StM, mat52 * cosb},
		{Matern, mat52},
	} {
		g, _, _ := component(tc.kind, ls, mu, z)
		if math.Abs(g[0]-tc.want) > 1e-15 {
			t.Errorf("%v: k(%v) = %v, want %v", tc.kind, z, g[0], tc.want)
		}
		// Every kernel is even: k(−z) = k(z), k'(−z) = −k'(z), k''(−z) = k''(z).
		gm, _, _ := component(tc.kind, ls, mu, -z)
		if gm[0] != g[0] || gm[1] != -g[1] || gm[2] != g[2] {
			t.Errorf("%v: parity broken: %v at z, %v at −z", tc.kind, g, gm)
		}
	}
}
