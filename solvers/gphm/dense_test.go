package gphm

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// denseSystem sets up k at a random problem of pde on a 14×11 grid with the
// polynomial trend, linearised at moderate grid values as a Gauss–Newton
// step is, and returns the number of trend coefficients.
func denseSystem(t *testing.T, pde PDE, lt [2]float64) (*model, *kronCG, int) {
	m, _, U := randomModel(t, pde, GM, 14, 11, 4, 3)
	U.Scale(0.3, U)
	m.tr = newTrend(m)
	k := newKronCG(m.n1, m.n2)
	k.setup(m, lt)
	k.e.initTrend(m)
	Z := mat.NewDense(m.n1, m.n2, nil)
	k.e.fromU(m, U, Z)
	k.e.value(m, Z, lt, mat.NewDense(m.n1, m.n2, nil))
	k.linearise(m)
	if err := k.augment(m, lt); err != nil {
		t.Fatal(err)
	}
	return m, k, len(k.e.beta)
}

// The dense factor is that of the Newton system kronCG solves: the formed
// matrix reproduces the matrix-free product (applyAug) to rounding, and
// with it as preconditioner CG solves the system in one or two iterations,
// for every PDE (Allen–Cahn linearised at the grid values with the trend, as
// the Gauss–Newton steps are) and at a large precision (condition up to
// 1e9).
func TestDenseFactorSolvesNewton(t *testing.T) {
	for _, pde := range []PDE{Poisson2D, AllenCahn2D, Advection} {
		for _, lt := range [][2]float64{{3, 5}, {10, 16}} {
			m, k, p := denseSystem(t, pde, lt)
			if p == 0 {
				t.Fatalf("%s: no trend coefficients", pde)
			}
			if !k.dense.build(k, p) {
				t.Fatalf("%s, precisions e^%v: Newton matrix not positive definite", pde, lt)
			}
			b, bb := cgRHS(m, p)
			hv, hvb := mat.NewDense(m.n1, m.n2, nil), make([]float64, p)
			k.applyAug(m, b, bb, hv, hvb, lt)
			n := m.n1 * m.n2
			v := make([]float64, n+p)
			for i := range n {
				v[i] = b.At(i/m.n2, i%m.n2)
			}
			copy(v[n:], bb)
			// The factor's RᵀR against the product: the formed matrix and
			// its factorisation checked at once.
			r := mat.NewTriDense(n+p, mat.Upper, k.dense.u.Data)
			var rv, av mat.VecDense
			rv.MulVec(r, mat.NewVecDense(n+p, v))
			av.MulVec(r.T(), &rv)
			diff, size := 0.0, 0.0
			for i := range n + p {
				want := hvb[max(i-n, 0)]
				if i < n {
					want = hv.At(i/m.n2, i%m.n2)
				}
				diff = math.Max(diff, math.Abs(av.AtVec(i)-want))
				size = math.Max(size, math.Abs(want))
			}
			if diff > 1e-12*size {
				t.Errorf("%s, e^%v: the factor's RᵀR against the product: %.2g of %.2g", pde, lt, diff, size)
			}
			k.using = pcDense
			x, xb := mat.NewDense(m.n1, m.n2, nil), make([]float64, p)
			it, err := k.cg(m, b, bb, x, xb, lt, 1e-10, math.Sqrt(frob(b, b)), 50, math.NaN(), nil)
			if err != nil || it > 2 {
				t.Errorf("%s, e^%v: CG with the dense factor took %d iterations (%v), want at most 2", pde, lt, it, err)
			}
		}
	}
}

// chooseDense moves to the dense factor only after denseSamples evaluations
// that each cost more than forming it would, comes back for one evaluation
// every denseProbe, and stays with pick's preconditioner once an evaluation
// is cheap.
func TestChooseDense(t *testing.T) {
	k := newKronCG(40, 40)
	dear := 2 * k.denseCost()
	var got []bool
	// Dear evaluations throughout: three to measure, then denseProbe on
	// the factor, one to measure again, …
	for range 3 + denseProbe + 1 + 2 {
		d := k.chooseDense()
		got = append(got, d)
		if !d {
			k.evalCost = dear
		}
	}
	want := []bool{false, false, false}
	for range denseProbe {
		want = append(want, true)
	}
	want = append(want, false, true, true)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("dear evaluations: choices %v, want %v", got, want)
		}
	}
	// A cheap measurement ends it.
	k = newKronCG(40, 40)
	got = got[:0]
	for i := range 3 + denseProbe + 3 {
		d := k.chooseDense()
		got = append(got, d)
		if !d {
			k.evalCost = dear
			if i > 3 {
				k.evalCost = 1
			}
		}
	}
	for i, d := range got[3+denseProbe+1:] {
		if d {
			t.Fatalf("after a cheap evaluation: choices %v, the dense factor at %d", got, 3+denseProbe+1+i)
		}
	}
	// Large grids never form it.
	if newKronCG(60, 60).denseOn {
		t.Errorf("a 60² grid forms the dense factor (DenseNodes %d)", DenseNodes)
	}
}

// The conjugate-gradient loop with the dense factor allocates nothing: a
// solve of 6 iterations allocates what one of 3 does.
func TestDenseLoopAllocates(t *testing.T) {
	m, k, p := denseSystem(t, AllenCahn2D, [2]float64{3, 5})
	// A factor of another operator, so that CG takes more than one step.
	k.d.Scale(2, k.d)
	if !k.dense.build(k, p) {
		t.Fatal("Newton matrix not positive definite")
	}
	k.d.Scale(0.5, k.d)
	k.using = pcDense
	b, bb := cgRHS(m, p)
	checkLoopAllocs(t, "dense factor", k, m, b, bb, [2]float64{3, 5})
}

// An evaluation on the dense factor drops the Kronecker preconditioners of
// the earlier set-up (other kernels): a tail block left there would be
// factored again at every Gauss–Newton step and, failing, would switch the
// solve to the stale harmonic one.
func TestDenseSetupDropsKronecker(t *testing.T) {
	lt := [2]float64{3, 5}
	m, k, _ := denseSystem(t, Poisson2D, lt)
	if k.h == nil {
		t.Fatal("no harmonic preconditioner at the first set-up")
	}
	k.krylovCost = [denseSamples]float64{1e12, 1e12, 1e12}
	k.samples = denseSamples
	k.setup(m, lt)
	if k.using != pcDense || k.h != nil || k.tail != nil {
		t.Errorf("after dear evaluations: preconditioner %d, harmonic %v, tail %v; want the dense factor alone", k.using, k.h != nil, k.tail != nil)
	}
}

// A Newton matrix that does not factor (here a NaN in the Allen–Cahn
// coefficient) leaves the run on pick's preconditioners for good.
func TestDenseFactorFailsOver(t *testing.T) {
	_, k, p := denseSystem(t, AllenCahn2D, [2]float64{3, 5})
	k.using = pcDense
	k.d.Set(0, 0, math.NaN())
	k.buildDense(p)
	if k.denseOn || k.using == pcDense || k.DenseBuilds != 1 {
		t.Errorf("after a failed factorisation: dense on %v, preconditioner %d, builds %d; want pick's preconditioner", k.denseOn, k.using, k.DenseBuilds)
	}
}
