package gphm

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestKronCGVsDense solves the U subproblem of random 2-D problems with the
// matrix-free conjugate gradients and with the dense factorisation and
// requires the minimisers to agree to 1e-6 relative (both stop near rounding:
// the dense solve at about 1e-9, the iteration at a residual of 1e-10 of the
// data scale) and Φ to 1e-9 relative.
func TestKronCGVsDense(t *testing.T) {
	for _, pde := range []PDE{Poisson2D, AllenCahn2D, Advection} {
		t.Run(pde.String(), func(t *testing.T) {
			m, _, U := randomModel(t, pde, GM, 14, 11, 4, 3)
			// Moderate data: the Allen–Cahn term is then mildly nonlinear.
			U.Scale(0.3, U)
			lt := [2]float64{3, 5}
			d := newExactU(m.n1, m.n2)
			d.setup(m, lt)
			Zd := mat.NewDense(m.n1, m.n2, nil)
			phiD, err := d.solve(m, Zd, lt, 30)
			if err != nil {
				t.Fatal(err)
			}
			k := newKronCG(m.n1, m.n2)
			k.setup(m, lt)
			Zk := mat.NewDense(m.n1, m.n2, nil)
			phiK, err := k.solve(m, Zk, lt, 30)
			if err != nil {
				t.Fatal(err)
			}
			var diff mat.Dense
			diff.Sub(Zk, Zd)
			rel := math.Sqrt(frob(&diff, &diff) / frob(Zd, Zd))
			t.Logf("Φ dense %.12g, CG %.12g (%d iterations); |ΔZ|/|Z| = %.1e", phiD, phiK, k.Iters, rel)
			if rel > 1e-6 {
				t.Errorf("|Z_cg − Z_dense|/|Z_dense| = %.2e, want ≤ 1e-6", rel)
			}
			if math.Abs(phiK-phiD) > 1e-9*math.Abs(phiD) {
				t.Errorf("Φ: CG %.12g, dense %.12g", phiK, phiD)
			}
		})
	}
}

// The conjugate-gradient loop allocates nothing: a solve of 6 iterations
// allocates what one of 3 does (the set-up before the loop), for Poisson,
// Allen–Cahn (the Gauss–Newton term) and advection, with the polynomial
// trend (the augmented system and its Schur complement).
func TestKronCGLoopAllocates(t *testing.T) {
	for _, pde := range []PDE{Poisson2D, AllenCahn2D, Advection} {
		m, _, U := randomModel(t, pde, GM, 14, 11, 4, 3)
		U.Scale(0.3, U)
		m.tr = newTrend(m)
		lt := [2]float64{3, 5}
		k := newKronCG(m.n1, m.n2)
		k.setup(m, lt)
		k.e.initTrend(m)
		k.e.fromU(m, U, mat.NewDense(m.n1, m.n2, nil))
		// 3U² − 1 at U with the trend's offset, as a solve linearises: the
		// augmented system is then a Gauss–Newton Hessian, positive definite.
		k.linearise(m)
		if err := k.augment(m, lt); err != nil {
			t.Fatal(err)
		}
		p := len(k.e.beta)
		if p == 0 {
			t.Fatalf("%s: no trend coefficients", pde)
		}
		b, bb := cgRHS(m, p)
		checkLoopAllocs(t, pde.String(), k, m, b, bb, lt)
	}
}

// cgRHS returns a smooth right-hand side of the Newton system on m's grid
// with p trend coefficients.
func cgRHS(m *model, p int) (*mat.Dense, []float64) {
	b := mat.NewDense(m.n1, m.n2, nil)
	b.Apply(func(i, j int, _ float64) float64 { return math.Sin(float64(3*i + j)) }, b)
	bb := make([]float64, p)
	for a := range bb {
		bb[a] = float64(a + 1)
	}
	return b, bb
}

// checkLoopAllocs fails t when k's conjugate-gradient loop allocates: a
// solve of 6 iterations must allocate what one of 3 does.
func checkLoopAllocs(t *testing.T, label string, k *kronCG, m *model, b *mat.Dense, bb []float64, lt [2]float64) {
	t.Helper()
	x, xb := mat.NewDense(m.n1, m.n2, nil), make([]float64, len(bb))
	run := func(iters int) float64 {
		return testing.AllocsPerRun(5, func() {
			x.Zero()
			clear(xb)
			if n, err := k.cg(m, b, bb, x, xb, lt, 0, 1, iters, math.NaN(), nil); err != nil || n != iters {
				t.Fatalf("%s: %d iterations (%v), want %d", label, n, err, iters)
			}
		})
	}
	short, long := run(3), run(6)
	t.Logf("%s: %.0f allocations in 3 iterations, %.0f in 6", label, short, long)
	if long != short {
		t.Errorf("%s: %.0f allocations in 6 iterations, %.0f in 3: the loop allocates", label, long, short)
	}
}

// The Hessian product of a diagonal Ω through the Gram matrices T_jᵀT_j
// (two n×n×n products, used with the two-level preconditioner) agrees with
// the one through T_j (four) to rounding: 1e-12 of ‖H v‖ (both are sums of
// n² terms of the same magnitude).
func TestKronCGGramProduct(t *testing.T) {
	m, _, _ := randomModel(t, Poisson2D, GM, 30, 23, 4, 3)
	lt := [2]float64{3, 5}
	k := newKronCG(m.n1, m.n2)
	k.setup(m, lt)
	if k.lam == nil {
		t.Fatal("no Kronecker eigendecomposition for Poisson")
	}
	k.g1, k.g2 = gram(nil, k.e.t1), gram(nil, k.e.t2) // as build does with a tail solve
	v := mat.NewDense(m.n1, m.n2, nil)
	for i := range m.n1 {
		for j := range m.n2 {
			v.Set(i, j, math.Sin(float64(3*i+7*j+1)))
		}
	}
	gram, four := mat.NewDense(m.n1, m.n2, nil), mat.NewDense(m.n1, m.n2, nil)
	k.using = pcTail
	k.apply(m, v, gram, lt)
	k.using = pcHarmonic
	k.apply(m, v, four, lt)
	var diff mat.Dense
	diff.Sub(gram, four)
	rel := math.Sqrt(frob(&diff, &diff) / frob(four, four))
	t.Logf("|H v (Gram) − H v (T)| / |H v| = %.1e", rel)
	if !(rel > 0 && rel <= 1e-12) {
		t.Errorf("relative difference %.2e, want in (0, 1e-12]: the two forms, to rounding", rel)
	}
}

// The balancing form's corner products (applyCorner) agree with the full
// Hessian product to rounding (1e-12 of ‖H v‖): from a vector on the tail
// corner, everywhere; from any vector, on the corner.
func TestKronCGCornerProduct(t *testing.T) {
	m, _, _ := randomModel(t, Poisson2D, GM, 30, 23, 4, 3)
	lt := [2]float64{3, 5}
	k := newKronCG(m.n1, m.n2)
	k.setup(m, lt)
	k.tail = &tailSolve{s: [2]int{19, 14}}
	k.g1, k.g2 = gram(nil, k.e.t1), gram(nil, k.e.t2) // as build does with a tail solve
	s1, s2 := k.tail.s[0], k.tail.s[1]
	v := mat.NewDense(m.n1, m.n2, nil)
	for i := range m.n1 {
		for j := range m.n2 {
			v.Set(i, j, math.Sin(float64(3*i+7*j+1)))
		}
	}
	vc := mat.NewDense(m.n1, m.n2, nil)
	vc.Slice(s1, m.n1, s2, m.n2).(*mat.Dense).Copy(v.Slice(s1, m.n1, s2, m.n2))
	full, corner := mat.NewDense(m.n1, m.n2, nil), mat.NewDense(m.n1, m.n2, nil)
	rel := func(a, b mat.Matrix) float64 {
		var d mat.Dense
		d.Sub(a, b)
		bb := mat.DenseCopyOf(b)
		return math.Sqrt(frob(&d, &d) / frob(bb, bb))
	}
	k.apply(m, vc, full, lt)
	k.applyCorner(m, vc, corner, lt, true)
	if r := rel(corner, full); r > 1e-12 {
		t.Errorf("from the corner: relative difference %.2e", r)
	}
	k.apply(m, v, full, lt)
	corner.Zero()
	k.applyCorner(m, v, corner, lt, false)
	if r := rel(corner.Slice(s1, m.n1, s2, m.n2), full.Slice(s1, m.n1, s2, m.n2)); r > 1e-12 {
		t.Errorf("on the corner: relative difference %.2e", r)
	}
}
