package gphm

import (
	"errors"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// trendSolveIters returns the CG iterations of one Gauss–Newton solve, from
// zero to kronTol, for a fixed right-hand side, on preset ac2d's solution
// scaled to an 80² grid of [0, 1]² (frequencies and F = 20 two thirds of the
// preset's, the same nodes per period as 120² there): linearised at the
// exact solution, with the polynomial trend (p = 6 coefficients) when trend
// is set, without it otherwise.
func trendSolveIters(t *testing.T, trend bool) int {
	t.Helper()
	const exact = "(sin(x) + 0.1*sin(13.333*x) + cos(66.667*x))*(sin(y) + 0.1*sin(13.333*y) + cos(66.667*y))"
	c := Config{PDE: "allen_cahn2d", Exact: exact, XMax: 1, YMax: 1, N: 80, Kernel: "gm", Components: 30, FreqScale: 20, LambdaB: 200}
	m, lt := harmonicModel(t, c)
	if trend {
		m.tr = newTrend(m)
	}
	k := newKronCG(m.n1, m.n2)
	k.setup(m, lt)
	if k.using == pcDense {
		t.Fatal("dense preconditioner: the case no longer tests the Kronecker ones")
	}
	k.e.initTrend(m)
	g := func(s float64) float64 { return math.Sin(s) + 0.1*math.Sin(13.333*s) + math.Cos(66.667*s) }
	h := 1 / float64(m.n1-1)
	U := mat.NewDense(m.n1, m.n2, nil)
	U.Apply(func(i, j int, _ float64) float64 { return g(h*float64(i)) * g(h*float64(j)) }, U)
	Z := mat.NewDense(m.n1, m.n2, nil)
	k.fromU(m, U, Z)
	k.e.value(m, Z, lt, mat.NewDense(m.n1, m.n2, nil))
	k.linearise(m)
	if k.tail != nil && !k.tail.factor(k.d) {
		t.Fatal("tail block not positive definite")
	}
	p := len(k.e.beta)
	if trend != (p > 0) {
		t.Fatalf("%d trend coefficients", p)
	}
	if err := k.augment(m, lt); err != nil {
		t.Fatal(err)
	}
	b, bb := cgRHS(m, p)
	k.precondAug(b, bb, k.z, k.zb[:p])
	ref := math.Sqrt(frob(b, k.z) + dot(bb, k.zb[:p]))
	x, xb := mat.NewDense(m.n1, m.n2, nil), make([]float64, p)
	it, err := k.cg(m, b, bb, x, xb, lt, kronTol, ref, kronMaxIter, math.NaN(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// The trend costs the Allen–Cahn Gauss–Newton solves few CG iterations:
// the augmented system is preconditioned in the balancing form with a block
// Krylov coarse space on [−M⁻¹C; I] (augment). Here 408 iterations against
// 382 without the trend; the block inverse of [M C; Cᵀ H_ββ] it replaced,
// with |H_ββ − CᵀM⁻¹C|, took 1110, the first block of the coarse space
// alone 793.
func TestTrendCoarseSpace(t *testing.T) {
	with, without := trendSolveIters(t, true), trendSolveIters(t, false)
	t.Logf("CG iterations of one Gauss–Newton solve: with the trend %d, without %d", with, without)
	if !(4*with <= 5*without) {
		t.Errorf("with the trend %d iterations, without %d: want at most 25 %% more", with, without)
	}
}

// A trend block H_ββ that is not finite (grid values gone to NaN) ends the
// solve with errTrendBlock, which the line search takes as a failed trial,
// instead of a panic in hbbSolve that failed the whole job ("invalid
// Cholesky factorization", met on a held-out Allen–Cahn problem at 80² with
// a change to the Gauss–Newton steps that was not kept).
func TestTrendBlockNotFinite(t *testing.T) {
	c := Config{PDE: "allen_cahn2d", Exact: "sin(3*x)*cos(4*y)+x*y", XMax: 1, YMax: 1, N: 24, Kernel: "gm", Components: 30, FreqScale: 5, LambdaB: 200}
	m, lt := harmonicModel(t, c)
	m.tr = newTrend(m)
	k := newKronCG(m.n1, m.n2)
	k.denseOn = false
	k.setup(m, lt)
	Z := mat.NewDense(m.n1, m.n2, nil)
	Z.Set(3, 5, math.NaN())
	if _, err := k.solve(m, Z, lt, k.maxSteps(false)); !errors.Is(err, errTrendBlock) {
		t.Fatalf("solve from grid values with a NaN: %v, want %v", err, errTrendBlock)
	}
}
