package poisson_test

import (
	"context"
	"math"
	"testing"

	"eddy/pde/poisson"
	"eddy/solvers/krylov"
)

// solveManufactured solves the manufactured problem to a relative residual of
// 1e-12, so that the algebraic error (≤ κ·1e-12 ≈ 2e-9 relative at n = 64) is
// far below the discretisation error (≥ 1e-5), and returns the relative
// discrete L2 error.
func solveManufactured(t testing.TB, dim, n int) float64 {
	g, err := poisson.NewGrid(dim, n)
	if err != nil {
		t.Fatal(err)
	}
	a := poisson.NewLaplacian(g)
	f, exact := poisson.Manufactured(g)
	b := make([]float64, g.Len())
	a.RHS(b, f)
	x := make([]float64, g.Len())
	res, err := krylov.CG(context.Background(), a, b, x, krylov.Options{Tol: 1e-12}, nil)
	if err != nil || !res.Converged {
		t.Fatalf("dim=%d n=%d: CG: %+v, %v", dim, n, res.Converged, err)
	}
	return poisson.RelL2Error(x, exact)
}

// The error of the cell-centred scheme is O(h²): it must fall by ~4 when n
// doubles. Measured orders (log2 of successive error ratios):
// 2-D n=16→32→64: 2.000, 2.000; 3-D n=8→16→32: 1.936, 1.982 (the 3-D order
// approaches 2 from below as the wall layer's share of the error shrinks) —
// asserted in [1.9, 2.1].
func TestSecondOrderConvergence(t *testing.T) {
	for _, tc := range []struct {
		dim int
		ns  []int
	}{
		{2, []int{16, 32, 64}},
		{3, []int{8, 16, 32}},
	} {
		errs := make([]float64, len(tc.ns))
		for i, n := range tc.ns {
			errs[i] = solveManufactured(t, tc.dim, n)
		}
		for i := 1; i < len(errs); i++ {
			order := math.Log2(errs[i-1] / errs[i])
			t.Logf("dim=%d n=%d→%d: error %.3e → %.3e, order %.3f", tc.dim, tc.ns[i-1], tc.ns[i], errs[i-1], errs[i], order)
			if order < 1.9 || order > 2.1 {
				t.Errorf("dim=%d n=%d→%d: observed order %.3f, want in [1.9, 2.1]", tc.dim, tc.ns[i-1], tc.ns[i], order)
			}
		}
	}
}
