package poisson

import (
	"math"
	"math/rand/v2"
	"testing"
)

// f must be −Δu of u itself: compare with the fourth-order central difference
// −Σ_a (−u(x−2δe_a) + 16u(x−δe_a) − 30u(x) + 16u(x+δe_a) − u(x+2δe_a))/(12δ²).
// With δ = 1e-3 the truncation error is O(δ⁴·‖∂⁶u‖) ≈ 1e-12·(2π)⁶ ≈ 1e-7 and
// the rounding error is O(ε‖u‖/δ²) ≈ 1e-10, so 1e-6 relative to max|f| (~100)
// is a safe bound that still catches any wrong term of the formula.
func TestManufacturedIsExact(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	const delta = 1e-3
	for _, d := range []int{2, 3} {
		for range 50 {
			x := make([]float64, d)
			for a := range x {
				x[a] = 0.01 + 0.98*rnd.Float64()
			}
			_, f := manufactured(x)
			var lap float64
			u := func(a int, s float64) float64 {
				y := append([]float64(nil), x...)
				y[a] += s
				v, _ := manufactured(y)
				return v
			}
			for a := range d {
				lap += (-u(a, -2*delta) + 16*u(a, -delta) - 30*u(a, 0) + 16*u(a, delta) - u(a, 2*delta)) / (12 * delta * delta)
			}
			if math.Abs(f+lap) > 1e-6*100 {
				t.Errorf("d=%d x=%v: f = %v, finite-difference −Δu = %v", d, x, f, -lap)
			}
		}
	}
}

// u vanishes on every wall; f does not (so the wall treatment matters).
func TestManufacturedBoundary(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	var fmax float64
	for _, d := range []int{2, 3} {
		for range 100 {
			x := make([]float64, d)
			for a := range x {
				x[a] = rnd.Float64()
			}
			x[rnd.IntN(d)] = float64(rnd.IntN(2))
			u, f := manufactured(x)
			if math.Abs(u) > 1e-14 {
				t.Errorf("d=%d x=%v on a wall: u = %v, want 0", d, x, u)
			}
			fmax = max(fmax, math.Abs(f))
		}
	}
	if fmax < 1 {
		t.Errorf("max |f| on the walls = %v; want the non-separable term to load the walls", fmax)
	}
}

func TestManufacturedLayout(t *testing.T) {
	// Index (k·n + j)·n + i holds the cell centre ((i+½)h, (j+½)h, (k+½)h).
	g, _ := NewGrid(3, 5)
	f, u := Manufactured(g)
	i, j, k := 1, 3, 4
	h := g.H()
	wantU, wantF := manufactured([]float64{(float64(i) + 0.5) * h, (float64(j) + 0.5) * h, (float64(k) + 0.5) * h})
	if c := (k*5+j)*5 + i; u[c] != wantU || f[c] != wantF {
		t.Errorf("cell (%d,%d,%d): u, f = %v, %v; want %v, %v", i, j, k, u[c], f[c], wantU, wantF)
	}
}

func TestRelL2Error(t *testing.T) {
	if e := RelL2Error([]float64{3, 4}, []float64{0, 0}); e != 5 {
		t.Errorf("zero exact: got %v, want absolute error 5", e)
	}
	if e := RelL2Error([]float64{1, 1}, []float64{1, 2}); math.Abs(e-1/math.Sqrt(5)) > 1e-16 {
		t.Errorf("got %v, want 1/√5", e)
	}
}
