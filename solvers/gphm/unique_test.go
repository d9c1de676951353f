package gphm

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The Sturm count of unstableModes equals the number of non-negative
// eigenvalues of the dense matrix Δ_h + diag(3u² − 1), for potentials that
// make none, one and several of them non-negative.
func TestUnstableModesVsDense(t *testing.T) {
	const n = 41
	h := 2 * math.Pi / (n - 1)
	for _, amp := range []float64{0, 0.5, 1, 2, 4} {
		u := mat.NewDense(n, 1, nil)
		for i := range n {
			u.Set(i, 0, amp*math.Sin(float64(i)*h*3))
		}
		m := n - 2
		T := mat.NewSymDense(m, nil)
		for i := range m {
			v := u.At(i+1, 0)
			T.SetSym(i, i, -2/(h*h)+3*v*v-1)
			if i+1 < m {
				T.SetSym(i, i+1, 1/(h*h))
			}
		}
		var es mat.EigenSym
		if !es.Factorize(T, false) {
			t.Fatal("eigendecomposition failed")
		}
		want := 0
		for _, l := range es.Values(nil) {
			if l >= 0 {
				want++
			}
		}
		if got := unstableModes(u, h, 0); got != want {
			t.Errorf("amplitude %g: %d non-negative eigenvalues, dense count %d", amp, got, want)
		}
	}
	// 2-D: a small solution on [0, 1]² is isolated (3u² − 1 < 2π²); a large
	// one cannot be shown to be.
	u := mat.NewDense(20, 20, nil)
	u.Apply(func(i, j int, _ float64) float64 { return 0.5 * math.Sin(float64(i)) }, u)
	if got := unstableModes(u, 1.0/19, 1.0/19); got != 0 {
		t.Errorf("2-D, |u| ≤ 0.5: %d, want 0", got)
	}
	u.Scale(10, u)
	if got := unstableModes(u, 1.0/19, 1.0/19); got != -1 {
		t.Errorf("2-D, |u| ≤ 5: %d, want −1", got)
	}
}

// A run that satisfies the equation but is far from the given exact solution
// is another solution (preset ac1 with StM: error 0.81 at check residual
// 1.2e-4); an inaccurate run whose residual shows it is not, nor is an
// accurate one.
func TestOtherSolution(t *testing.T) {
	for _, tc := range []struct {
		rel, rho float64
		want     bool
	}{{0.81, 1.2e-4, true}, {0.81, 0.3, false}, {3e-5, 5.7e-5, false}, {math.NaN(), 1e-8, false}} {
		if got := otherSolution(&Result{RelL2: tc.rel, CheckResidual: tc.rho}); got != tc.want {
			t.Errorf("rel_l2 %g, check residual %g: %v, want %v", tc.rel, tc.rho, got, tc.want)
		}
	}
}

// Preset ac1's data admit a second solution: Newton on the second-difference
// discretisation (4001 nodes) from u* + ½ sin(x) converges to a solution at
// relative distance 0.802 from u* = sin(100x) (0.807 with 40 001 nodes: the
// error of the StM run that reported success before OtherSolution existed),
// and the linearisation at either solution has a non-negative eigenvalue, so
// both runs warn.
func TestAllenCahnSecondSolution(t *testing.T) {
	const n = 4001
	L := 2 * math.Pi
	h := L / (n - 1)
	us, f, u := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		x := float64(i) * h
		us[i] = math.Sin(100 * x)
		f[i] = -1e4*us[i] + us[i]*us[i]*us[i] - us[i]
		u[i] = us[i] + 0.5*math.Sin(x)
	}
	u[0], u[n-1] = us[0], us[n-1]
	// Newton with the tridiagonal Jacobian (Thomas algorithm); f is the exact
	// u*'' + u*³ − u*, so the discrete solutions differ from u* by O(h²) too.
	b, c, r := make([]float64, n), make([]float64, n), make([]float64, n)
	for range 40 {
		for i := 1; i < n-1; i++ {
			r[i] = -((u[i-1]-2*u[i]+u[i+1])/(h*h) + u[i]*u[i]*u[i] - u[i] - f[i])
			b[i] = -2/(h*h) + 3*u[i]*u[i] - 1
			c[i] = 1 / (h * h)
		}
		b[0], c[0], r[0], b[n-1], r[n-1] = 1, 0, 0, 1, 0
		for i := 1; i < n; i++ {
			a := 0.0
			if i < n-1 {
				a = 1 / (h * h)
			}
			w := a / b[i-1]
			b[i] -= w * c[i-1]
			r[i] -= w * r[i-1]
		}
		r[n-1] /= b[n-1]
		for i := n - 2; i >= 0; i-- {
			r[i] = (r[i] - c[i]*r[i+1]) / b[i]
		}
		for i := range u {
			u[i] += r[i]
		}
	}
	var num, den, res float64
	for i := range u {
		num += (u[i] - us[i]) * (u[i] - us[i])
		den += us[i] * us[i]
		if i > 0 && i < n-1 {
			res = math.Max(res, math.Abs((u[i-1]-2*u[i]+u[i+1])/(h*h)+u[i]*u[i]*u[i]-u[i]-f[i]))
		}
	}
	dist := math.Sqrt(num / den)
	t.Logf("second solution: relative distance %.4f from u*, max residual %.1e", dist, res)
	if !(math.Abs(dist-0.802) < 0.005 && res < 1e-6) {
		t.Errorf("second solution at distance %.4f (residual %.1e), want 0.802", dist, res)
	}
	for name, v := range map[string][]float64{"u*": us, "second": u} {
		if k := unstableModes(mat.NewDense(n, 1, v), h, 0); k < 1 {
			t.Errorf("%s: %d non-negative eigenvalues, want ≥ 1", name, k)
		}
	}
}
