package gphm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// normalDense returns an r×c matrix of standard normal entries from rng,
// drawn row by row.
func normalDense(rng *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := range r {
		for j := range c {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

// randomModel builds a model on an n1×n2 grid (n2 = 0 for 1-D) with random
// source, boundary data, spectra and grid values. Spectra use F = 2 cycles per
// unit on [0, 3] so that the kernel matrices are well conditioned and the
// finite-difference checks are meaningful.
func randomModel(t *testing.T, pde PDE, kind Kernel, n1, n2, q int, seed uint64) (*model, []Spectrum, *mat.Dense) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	axes := []*axis{newAxis(kind, n1, 0, 3, pde.order())}
	if pde.Dims() == 2 {
		axes = append(axes, newAxis(kind, n2, 0, 3, pde.order()))
	} else {
		n2 = 1
	}
	F := mat.NewDense(n1, n2, nil)
	U := mat.NewDense(n1, n2, nil)
	for i := range n1 {
		for j := range n2 {
			F.Set(i, j, rng.NormFloat64())
			U.Set(i, j, rng.NormFloat64())
		}
	}
	bIdx := boundaryIndex(n1, n2, pde.Dims())
	g := make([]float64, len(bIdx))
	for k := range g {
		g[k] = rng.NormFloat64()
	}
	m := newModel(pde, kind, axes, F, bIdx, g, 1.7, 3)
	var specs []Spectrum
	for range axes {
		s := NewSpectrum(kind, q, 2)
		ls := 0.5
		if kind == SE {
			// A smooth squared exponential on this grid is singular to rounding
			// (κ(K) ≈ 1/jitter); a shorter lengthscale keeps the differences exact.
			ls = 2.5
		}
		for i := range q {
			s.LogW[i] += 0.3 * rng.NormFloat64()
			s.LogLS[i] += ls + 0.3*rng.NormFloat64()
			if kind.Modulated() {
				s.Mu[i] += 0.1 * rng.NormFloat64()
			}
		}
		specs = append(specs, s)
	}
	if err := m.update(specs); err != nil {
		t.Fatal(err)
	}
	return m, specs, U
}

// TestObjectiveGradient compares every component of the analytic gradient of −L
// with fourth-order central differences. The relative agreement required is
// 1e-6 of max(|g|, 1e-3·‖g‖∞); the differences are accurate to about 1e-9 here.
func TestObjectiveGradient(t *testing.T) {
	for _, tc := range []struct {
		pde    PDE
		kind   Kernel
		n1, n2 int
		abs    bool // the paper's absolute nugget
		trend  bool
	}{
		{Poisson1D, GM, 20, 0, true, false},
		{Poisson2D, StM, 8, 6, true, false},
		{Poisson1D, GM, 20, 0, false, false},
		{Poisson1D, StM, 20, 0, false, false},
		{AllenCahn1D, GM, 20, 0, false, false},
		{AllenCahn1D, SE, 20, 0, false, false},
		{Poisson1D, Matern, 20, 0, false, false},
		{Poisson2D, GM, 8, 6, false, false},
		{Poisson2D, StM, 8, 6, false, false},
		{AllenCahn2D, StM, 8, 6, false, false},
		{Advection, GM, 8, 6, false, false},
		{Advection, StM, 7, 9, false, false},
		// With a fixed trend (the profile path's gradient at the solved β).
		{Poisson1D, GM, 20, 0, false, true},
		{AllenCahn1D, StM, 20, 0, false, true},
		{Poisson2D, GM, 8, 6, false, true},
		{AllenCahn2D, StM, 8, 6, false, true},
	} {
		t.Run(fmt.Sprintf("%v/%v/abs=%v/trend=%v", tc.pde, tc.kind, tc.abs, tc.trend), func(t *testing.T) {
			const q = 3
			m, specs, U := randomModel(t, tc.pde, tc.kind, tc.n1, tc.n2, q, 11)
			for _, a := range m.ax {
				a.absNugget = tc.abs
			}
			if tc.trend {
				m.tr = newTrend(m)
				beta := make([]float64, len(m.tr.exps))
				for k := range beta {
					beta[k] = 0.4 * math.Cos(float64(2*k+1))
				}
				m.setBeta(beta)
			}
			if err := m.update(specs); err != nil {
				t.Fatal(err)
			}
			lt := [2]float64{0.3, -0.2}
			gU := mat.NewDense(m.n1, m.n2, nil)
			gSpec := make([][]float64, len(specs))
			for j := range gSpec {
				gSpec[j] = make([]float64, 3*q)
			}
			var gLt [2]float64
			m.objective(U, lt, gU, gSpec, &gLt)

			f := func() float64 {
				if err := m.update(specs); err != nil {
					t.Fatal(err)
				}
				return m.objective(U, lt, nil, nil, nil)
			}
			var checks []check
			for i := range m.n1 {
				for j := range m.n2 {
					p := &U.RawMatrix().Data[i*U.RawMatrix().Stride+j]
					checks = append(checks, check{fmt.Sprintf("U[%d,%d]", i, j), p, gU.At(i, j)})
				}
			}
			for j, s := range specs {
				for i := range q {
					checks = append(checks,
						check{fmt.Sprintf("axis %d logw[%d]", j, i), &s.LogW[i], gSpec[j][i]},
						check{fmt.Sprintf("axis %d logls[%d]", j, i), &s.LogLS[i], gSpec[j][q+i]},
						check{fmt.Sprintf("axis %d mu[%d]", j, i), &s.Mu[i], gSpec[j][2*q+i]})
				}
			}
			checks = append(checks, check{"log tau1", &lt[0], gLt[0]}, check{"log tau2", &lt[1], gLt[1]})
			verify(t, f, checks, 1e-6)
		})
	}
}

type check struct {
	name string
	p    *float64
	g    float64
}

// verify compares each analytic derivative c.g of f with a fourth-order central
// difference in *c.p.
func verify(t *testing.T, f func() float64, checks []check, rel float64) {
	t.Helper()
	gmax := 0.0
	for _, c := range checks {
		gmax = math.Max(gmax, math.Abs(c.g))
	}
	worst := 0.0
	for _, c := range checks {
		x0 := *c.p
		h := 1e-3 * math.Max(1, math.Abs(x0))
		fd := fd5(func(x float64) float64 { *c.p = x; return f() }, x0, h)
		*c.p = x0
		scale := math.Max(math.Abs(c.g), 1e-3*gmax)
		e := math.Abs(fd-c.g) / scale
		worst = math.Max(worst, e)
		if e > rel {
			t.Errorf("%s: analytic %.12g, differences %.12g (relative %.2e)", c.name, c.g, fd, e)
		}
	}
	f()
	t.Logf("%d derivatives, worst relative deviation %.2e", len(checks), worst)
}
