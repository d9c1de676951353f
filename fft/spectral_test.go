package fft

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFreqMatchesNumpyConvention(t *testing.T) {
	// numpy.fft.fftfreq(8, 0.5) = [0, .25, .5, .75, −1, −.75, −.5, −.25]
	want := []float64{0, .25, .5, .75, -1, -.75, -.5, -.25}
	for i, f := range Freq(8, 0.5) {
		if f != want[i] {
			t.Errorf("Freq(8, .5)[%d] = %v, want %v", i, f, want[i])
		}
	}
	want5 := []float64{0, 1, 2, -2, -1}
	for i, f := range Freq(5, 0.2) {
		if math.Abs(f-want5[i]) > 1e-15 {
			t.Errorf("Freq(5, .2)[%d] = %v, want %v", i, f, want5[i])
		}
	}
	for i, f := range RFreq(8, 0.5) {
		if f != want[i] && !(i == 4 && f == 1) {
			t.Errorf("RFreq(8, .5)[%d] = %v", i, f)
		}
	}
}

// grid fills f(x, y) on an (ny, nx) grid of the box [0, lx)×... with point
// (i, j) at (x_j, y_i) = (j lx/nx, i ly/ny); the last axis is x.
func grid(ny, nx int, ly, lx float64, f func(x, y float64) float64) []float64 {
	g := make([]float64, ny*nx)
	for i := range ny {
		for j := range nx {
			g[i*nx+j] = f(float64(j)*lx/float64(nx), float64(i)*ly/float64(ny))
		}
	}
	return g
}

func maxAbsDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestDerivativeExact differentiates a trigonometric polynomial, for which the
// spectral derivative is exact up to rounding: the error relative to the
// largest value of the derivative is a few eps·log N.
func TestDerivativeExact(t *testing.T) {
	const ny, nx = 24, 30
	ly, lx := 2.0, 3.0
	cx, cy := 2*math.Pi/lx, 2*math.Pi/ly
	f := func(x, y float64) float64 {
		return math.Sin(3*cx*x)*math.Cos(2*cy*y) + 0.5*math.Cos(5*cx*x+cy*y)
	}
	fx := func(x, y float64) float64 {
		return 3*cx*math.Cos(3*cx*x)*math.Cos(2*cy*y) - 2.5*cx*math.Sin(5*cx*x+cy*y)
	}
	fyy := func(x, y float64) float64 {
		return -4*cy*cy*math.Sin(3*cx*x)*math.Cos(2*cy*y) - 0.5*cy*cy*math.Cos(5*cx*x+cy*y)
	}
	fxxx := func(x, y float64) float64 {
		return -27*cx*cx*cx*math.Cos(3*cx*x)*math.Cos(2*cy*y) + 62.5*cx*cx*cx*math.Sin(5*cx*x+cy*y)
	}
	shape := []int{ny, nx}
	lengths := []float64{ly, lx}
	p := NewReal(ny, nx)
	F := make([]complex128, p.SpectrumLen())
	p.Forward(F, grid(ny, nx, ly, lx, f))
	D := make([]complex128, len(F))
	out := make([]float64, ny*nx)
	for _, c := range []struct {
		name        string
		axis, order int
		want        func(x, y float64) float64
	}{{"f_x", 1, 1, fx}, {"f_yy", 0, 2, fyy}, {"f_xxx", 1, 3, fxxx}} {
		Derivative(D, F, shape, lengths, c.axis, c.order)
		p.Inverse(out, D)
		want := grid(ny, nx, ly, lx, c.want)
		var scale float64
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		if d := maxAbsDiff(out, want) / scale; d > 1e-13 {
			t.Errorf("%s: max relative error %.3g > 1e-13", c.name, d)
		}
	}
	// Δ(Δ⁻¹ f) = f for mean-free f.
	InverseLaplacian(D, F, shape, lengths)
	L := make([]complex128, len(F))
	Derivative(L, D, shape, lengths, 0, 2)
	Derivative(D, D, shape, lengths, 1, 2)
	for i := range L {
		L[i] += D[i]
	}
	p.Inverse(out, L)
	if d := maxAbsDiff(out, grid(ny, nx, ly, lx, f)); d > 1e-13 {
		t.Errorf("Δ Δ⁻¹ f: max error %.3g > 1e-13", d)
	}
}

func TestDealiasRule(t *testing.T) {
	for _, c := range []struct{ n, kmax int }{{64, 21}, {256, 85}, {48, 15}, {32, 10}, {33, 10}} {
		for m := -c.n / 2; m <= c.n/2; m++ {
			if got, want := Retained(m, c.n), m >= -c.kmax && m <= c.kmax; got != want {
				t.Errorf("Retained(%d, %d) = %v, want %v", m, c.n, got, want)
			}
		}
	}
	// The product of two retained fields, dealiased, equals the exact
	// truncated product: compute both on a grid fine enough to be alias-free.
	const n = 24
	rng := rand.New(rand.NewPCG(3, 3))
	p := NewReal(n, n)
	a, b := randReal(rng, n*n), randReal(rng, n*n)
	A := make([]complex128, p.SpectrumLen())
	B := make([]complex128, p.SpectrumLen())
	p.Forward(A, a)
	p.Forward(B, b)
	Dealias(A, []int{n, n})
	Dealias(B, []int{n, n})
	p.Inverse(a, A)
	p.Inverse(b, B)
	prod := make([]float64, n*n)
	for i := range prod {
		prod[i] = a[i] * b[i]
	}
	P := make([]complex128, p.SpectrumLen())
	p.Forward(P, prod)
	Dealias(P, []int{n, n})
	// Exact: zero-pad to 2n (no aliasing), multiply, transform, truncate.
	const m = 2 * n
	q := NewReal(m, m)
	Af := make([]complex128, q.SpectrumLen())
	Bf := make([]complex128, q.SpectrumLen())
	Resample(Af, []int{m, m}, A, []int{n, n})
	Resample(Bf, []int{m, m}, B, []int{n, n})
	af, bf := make([]float64, m*m), make([]float64, m*m)
	q.Inverse(af, Af)
	q.Inverse(bf, Bf)
	for i := range af {
		af[i] *= bf[i]
	}
	q.Forward(Af, af)
	exact := make([]complex128, p.SpectrumLen())
	Resample(exact, []int{n, n}, Af, []int{m, m})
	Dealias(exact, []int{n, n})
	if e := relErr(P, exact); e > 1e-13 {
		t.Errorf("dealiased product differs from the exact one: rel. %.3g", e)
	}
}

// TestResample checks that zero padding reproduces a band-limited function on
// the finer grid, that truncation keeps the low modes, and that growing then
// shrinking (odd and even sizes, Nyquist modes present) is the identity.
func TestResample(t *testing.T) {
	lx, ly := 1.0, 1.0
	f := func(x, y float64) float64 {
		return math.Cos(2*math.Pi*(3*x-2*y)) + math.Sin(2*math.Pi*(x+4*y)) + 0.25
	}
	for _, c := range []struct{ ns, nt [2]int }{{[2]int{12, 10}, [2]int{32, 24}}, {[2]int{11, 13}, [2]int{20, 27}}} {
		ps, pt := NewReal(c.ns[0], c.ns[1]), NewReal(c.nt[0], c.nt[1])
		S := make([]complex128, ps.SpectrumLen())
		ps.Forward(S, grid(c.ns[0], c.ns[1], ly, lx, f))
		T := make([]complex128, pt.SpectrumLen())
		Resample(T, c.nt[:], S, c.ns[:])
		out := make([]float64, pt.Len())
		pt.Inverse(out, T)
		if d := maxAbsDiff(out, grid(c.nt[0], c.nt[1], ly, lx, f)); d > 1e-13 {
			t.Errorf("%v → %v: max interpolation error %.3g", c.ns, c.nt, d)
		}
		// Back down: the original values.
		back := make([]complex128, ps.SpectrumLen())
		Resample(back, c.ns[:], T, c.nt[:])
		outS := make([]float64, ps.Len())
		ps.Inverse(outS, back)
		if d := maxAbsDiff(outS, grid(c.ns[0], c.ns[1], ly, lx, f)); d > 1e-13 {
			t.Errorf("%v → %v → back: max error %.3g", c.ns, c.nt, d)
		}
	}
	// Random data with energy at the Nyquist modes, 3-D, batched.
	rng := rand.New(rand.NewPCG(4, 4))
	for _, c := range []struct{ ns, nt []int }{{[]int{8, 6, 10}, []int{12, 9, 16}}, {[]int{7, 8, 6}, []int{14, 10, 9}}} {
		ps, pt := NewReal(c.ns...), NewReal(c.nt...)
		x := randReal(rng, 2*ps.Len())
		S := make([]complex128, 2*ps.SpectrumLen())
		ps.Forward(S, x)
		T := make([]complex128, 2*pt.SpectrumLen())
		Resample(T, c.nt, S, c.ns)
		back := make([]complex128, len(S))
		Resample(back, c.ns, T, c.nt)
		y := make([]float64, len(x))
		ps.Inverse(y, back)
		if d := maxAbsDiff(x, y); d > 1e-13 {
			t.Errorf("%v → %v → back: max error %.3g", c.ns, c.nt, d)
		}
		// The values on the coarse grid points are kept when growing by an
		// integer factor (trigonometric interpolation is interpolating).
		if c.nt[0]%c.ns[0] == 0 && c.nt[1]%c.ns[1] == 0 && c.nt[2]%c.ns[2] == 0 {
			fine := make([]float64, 2*pt.Len())
			pt.Inverse(fine, T)
			f0, f1, f2 := c.nt[0]/c.ns[0], c.nt[1]/c.ns[1], c.nt[2]/c.ns[2]
			var d float64
			for b := range 2 {
				for i := range c.ns[0] {
					for j := range c.ns[1] {
						for k := range c.ns[2] {
							v := fine[b*pt.Len()+((i*f0)*c.nt[1]+j*f1)*c.nt[2]+k*f2]
							d = math.Max(d, math.Abs(v-x[b*ps.Len()+(i*c.ns[1]+j)*c.ns[2]+k]))
						}
					}
				}
			}
			if d > 1e-13 {
				t.Errorf("%v → %v: interpolant misses the coarse values by %.3g", c.ns, c.nt, d)
			}
		}
	}
}
