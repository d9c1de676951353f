package gphm

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// advection's Jacobian in blockOmega form: Ãᵀ is Ã's adjoint, T1 Ã(v) T2ᵀ is
// J v through the factors (P1 v T2ᵀ + T1 v P2ᵀ, as exactU.value forms it),
// and Ãᵀ(G1 Ã(v) G2) is JᵀJ v through the factors (kronCG.jtj without
// advJacobian), to rounding: on an odd and an even grid and on preset adv's
// at 120², where skewSchur leaves its planes of μ near zero; v random.
func TestAdvJacobian(t *testing.T) {
	preset := presetGrid(t, "adv", 120)
	rng := rand.New(rand.NewPCG(7, 1))
	random := func(n int) *mat.Dense {
		v := mat.NewDense(n, n, nil)
		for i := range n {
			for j := range n {
				v.Set(i, j, rng.NormFloat64())
			}
		}
		return v
	}
	rel := func(a, b *mat.Dense) float64 {
		var d mat.Dense
		d.Sub(a, b)
		return mat.Norm(&d, 2) / mat.Norm(b, 2)
	}
	for _, c := range []Config{advectionConfig(33), advectionConfig(48), preset} {
		n := c.N
		m, lt := harmonicModel(t, c)
		k := newKronCG(n, n)
		k.setup(m, lt)
		j := k.adv
		if j == nil {
			t.Fatalf("n=%d: no structured Jacobian", n)
		}
		v, w := random(n), random(n)
		av, atw := mat.NewDense(n, n, nil), mat.NewDense(n, n, nil)
		j.apply(av, v, false)
		j.apply(atw, w, true)
		l, r := frob(av, w), frob(v, atw)
		adj := math.Abs(l-r) / math.Max(math.Abs(l), math.Abs(r))

		// J v through the factors and through Ã.
		e := k.e
		var x, jv, t1 mat.Dense
		t1.Mul(e.p1, v)
		jv.Mul(&t1, e.t2.T())
		t1.Mul(e.t1, v)
		x.Mul(&t1, e.p2.T())
		jv.Add(&jv, &x)
		t1.Mul(e.t1, av)
		x.Mul(&t1, e.t2.T())
		dj := rel(&x, &jv)

		got, want := mat.NewDense(n, n, nil), mat.NewDense(n, n, nil)
		k.jtj(v, got)
		k.adv = nil
		k.jtj(v, want)
		k.adv = j
		dh := rel(got, want)
		t.Logf("n=%d: adjoint %.2g, J v %.2g, JᵀJ v %.2g (Ω's dropped entries %.2g of its largest)", n, adj, dj, dh, m.ax[0].OmDropped)
		if adj > 1e-13 || dj > 1e-13 || dh > 1e-12 {
			t.Errorf("n=%d: adjoint %.2g, J v %.2g, JᵀJ v %.2g, want ≤ 1e-13, 1e-13, 1e-12", n, adj, dj, dh)
		}
	}
}
