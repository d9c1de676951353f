package wavelet

import (
	"math"
	"testing"
)

// pywtDecLo and pywtDecHi are the bior4.4 decomposition filters as printed in
// PyWavelets' coefficient table (pywt/_extensions/c/wavelets_coeffs.template.h,
// pywt.Wavelet("bior4.4").dec_lo and .dec_hi), indexed as PyWavelets applies
// them: a[i] = Σ_j dec[j] x[(2i + 5 − j) mod N].
var (
	pywtDecLo = [10]float64{0, 0.03782845550726404, -0.023849465019556843, -0.11062440441843718,
		0.37740285561283066, 0.85269867900889385, 0.37740285561283066, -0.11062440441843718,
		-0.023849465019556843, 0.03782845550726404}
	pywtDecHi = [10]float64{0, -0.064538882628697058, 0.040689417609164058, 0.41809227322161724,
		-0.7884856164055829, 0.41809227322161724, 0.040689417609164058, -0.064538882628697058, 0, 0}
)

// cdf97Taps builds the CDF 9/7 decomposition filters from their definition
// (Cohen, Daubechies and Feauveau 1992; Daubechies, Ten Lectures §8.3): with
// y = sin²(ω/2), the product of the two lowpass responses is
// cos⁸(ω/2) P(y), P(y) = 1 + 4y + 10y² + 20y³; P has one real root y₀ and
// P(y) = 20 (y − y₀)(y² + py + q). The 9-tap analysis lowpass is
// cos⁴(ω/2)(y² + py + q)/q, the 7-tap synthesis lowpass cos⁴(ω/2)(1 − y/y₀),
// both scaled to √2 at ω = 0, and the analysis highpass is the synthesis
// lowpass modulated by (−1)^k with the sign PyWavelets uses. The result is in
// PyWavelets' indexing (see pywtDecLo); it depends on no value of this
// package.
func cdf97Taps() (lo, hi [10]float64) {
	y0 := -0.3
	for range 50 { // Newton on 20y³ + 10y² + 4y + 1
		y0 -= (((20*y0+10)*y0+4)*y0 + 1) / ((60*y0+20)*y0 + 4)
	}
	a1 := 10 + 20*y0
	a0 := 4 + a1*y0
	p, q := a1/20, a0/20
	// Laurent polynomials in z as (coefficients, index of z⁰).
	type poly struct {
		c   []float64
		off int
	}
	mul := func(a, b poly) poly {
		c := make([]float64, len(a.c)+len(b.c)-1)
		for i, u := range a.c {
			for j, v := range b.c {
				c[i+j] += u * v
			}
		}
		return poly{c, a.off + b.off}
	}
	comb := func(a poly, s float64, b poly, t float64) poly { // s·a + t·b, same support
		c := make([]float64, len(a.c))
		for i := range c {
			c[i] = s*a.c[i] + t*b.c[i]
		}
		return poly{c, a.off}
	}
	one := poly{[]float64{0, 1, 0}, 1}
	y := poly{[]float64{-0.25, 0.5, -0.25}, 1} // sin²(ω/2) = (2 − z − 1/z)/4
	c2 := poly{[]float64{0.25, 0.5, 0.25}, 1}  // cos²(ω/2)
	c4 := mul(c2, c2)
	yy := mul(y, y)
	quad := poly{make([]float64, 5), 2}
	for i := range quad.c {
		quad.c[i] = yy.c[i]/q + p/q*at(y.c, i-1) + at(one.c, i-1)
	}
	h9 := mul(c4, quad)
	h7 := mul(c4, comb(one, 1, y, -1/y0))
	for _, h := range []poly{h9, h7} {
		s := 0.0
		for _, v := range h.c {
			s += v
		}
		for i := range h.c {
			h.c[i] *= math.Sqrt2 / s
		}
	}
	tap := func(h poly, k int) float64 { return at(h.c, k+h.off) }
	for j := range 10 {
		lo[j] = tap(h9, 5-j) // coefficient of x[2i + (5 − j)]
		m := 4 - j           // x[2i + 5 − j] = x[2i + 1 + m]
		hi[j] = -sign(m) * tap(h7, -m)
	}
	return lo, hi
}

func at(c []float64, i int) float64 {
	if i < 0 || i >= len(c) {
		return 0
	}
	return c[i]
}

// sign returns (−1)^m.
func sign(m int) float64 {
	if m%2 == 0 {
		return 1
	}
	return -1
}

// refDWT is one level of PyWavelets' periodization DWT by direct convolution:
// a[i] = Σ_j lo[j] x[(2i + 5 − j) mod N], d likewise with hi.
func refDWT(x []float64, lo, hi *[10]float64) (a, d []float64) {
	n := len(x)
	a, d = make([]float64, n/2), make([]float64, n/2)
	for i := range n / 2 {
		for j := range 10 {
			v := x[((2*i+5-j)%n+n)%n]
			a[i] += lo[j] * v
			d[i] += hi[j] * v
		}
	}
	return a, d
}

// refPacket1D is the J-level 1-D packet transform of a (C, L) array written
// as the reference code does it: every level maps channels (C', L') to
// (2C', L'/2) with channel c'·2 + f, f = 0 lowpass, 1 highpass.
func refPacket1D(x []float64, length, levels int, lo, hi *[10]float64) []float64 {
	cur := append([]float64(nil), x...)
	n := length
	for range levels {
		ch := len(cur) / n
		next := make([]float64, len(cur))
		for c := range ch {
			a, d := refDWT(cur[c*n:(c+1)*n], lo, hi)
			copy(next[(2*c)*n/2:], a)
			copy(next[(2*c+1)*n/2:], d)
		}
		cur, n = next, n/2
	}
	return cur
}

// refDWT2 is one 2-D level of an h×w plane: the 1-D level along x (rows),
// then along y (columns); band f = 2·(x highpass) + (y highpass), the
// order of pytorch_wavelets' afb2d (LL, LH, HL, HH, first letter along x).
func refDWT2(x []float64, h, w int, lo, hi *[10]float64) [4][]float64 {
	xl, xh := make([]float64, h*w/2), make([]float64, h*w/2) // h × w/2
	for r := range h {
		a, d := refDWT(x[r*w:(r+1)*w], lo, hi)
		copy(xl[r*w/2:], a)
		copy(xh[r*w/2:], d)
	}
	var out [4][]float64
	for fx, half := range [][]float64{xl, xh} {
		ll, lh := make([]float64, h*w/4), make([]float64, h*w/4)
		col := make([]float64, h)
		for j := range w / 2 {
			for r := range h {
				col[r] = half[r*w/2+j]
			}
			a, d := refDWT(col, lo, hi)
			for i := range h / 2 {
				ll[i*w/2+j] = a[i]
				lh[i*w/2+j] = d[i]
			}
		}
		out[2*fx], out[2*fx+1] = ll, lh
	}
	return out
}

// refPacket2D is the J-level 2-D packet transform of a (C, H, W) array as
// the reference code writes it: every level maps (C', H', W') to
// (4C', H'/2, W'/2) with channel c'·4 + f ("b c f h w -> b (c f) h w").
func refPacket2D(x []float64, h, w, levels int, lo, hi *[10]float64) []float64 {
	cur := append([]float64(nil), x...)
	for range levels {
		ch := len(cur) / (h * w)
		next := make([]float64, len(cur))
		q := h * w / 4
		for c := range ch {
			bands := refDWT2(cur[c*h*w:(c+1)*h*w], h, w, lo, hi)
			for f, b := range bands {
				copy(next[(4*c+f)*q:], b)
			}
		}
		cur, h, w = next, h/2, w/2
	}
	return cur
}

// maxAbs returns max |x[i]|.
func maxAbs[T Float](x []T) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// maxDiff returns max |x[i] − y[i]|.
func maxDiff[T, U Float](x []T, y []U) float64 {
	m := 0.0
	for i := range x {
		m = math.Max(m, math.Abs(float64(x[i])-float64(y[i])))
	}
	return m
}

// TestCDF97TapsMatchPyWavelets checks the filters built from the CDF 9/7
// definition against PyWavelets' printed table. The table is itself rounded
// from an older computation: it differs from the exact filters by up to 6e-13
// per tap, far below float32 resolution and below the tolerance used against
// it later.
func TestCDF97TapsMatchPyWavelets(t *testing.T) {
	lo, hi := cdf97Taps()
	for j := range 10 {
		if d := math.Abs(lo[j] - pywtDecLo[j]); d > 1e-12 {
			t.Errorf("dec_lo[%d] = %.17g, PyWavelets %.17g (diff %.2g)", j, lo[j], pywtDecLo[j], d)
		}
		if d := math.Abs(hi[j] - pywtDecHi[j]); d > 1e-12 {
			t.Errorf("dec_hi[%d] = %.17g, PyWavelets %.17g (diff %.2g)", j, hi[j], pywtDecHi[j], d)
		}
	}
	sl, sh := 0.0, 0.0
	for j := range 10 {
		sl += lo[j]
		sh += hi[j]
	}
	if math.Abs(sl-math.Sqrt2) > 1e-15 || math.Abs(sh) > 1e-15 {
		t.Errorf("Σ dec_lo = %v (want √2), Σ dec_hi = %v (want 0)", sl, sh)
	}
}
