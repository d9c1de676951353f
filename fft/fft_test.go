package fft

import (
	"fmt"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	dspfft "github.com/mjibson/go-dsp/fft"
)

// Sizes covering radix 4 and 2 alone, 3, 5, the generic odd radices (7 … 31),
// mixed products, and primes above 31 (Bluestein).
var testSizes = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 25, 30, 31, 32, 37, 45, 49,
	64, 97, 100, 101, 128, 210, 243, 256, 360, 512, 1000, 1009, 1024, 2 * 43}

// naiveDFT computes the d-dimensional DFT of one grid by direct summation over
// each axis in turn, with exact integer reduction of the phase j·k mod n. Its
// rounding error grows like n·eps per axis, which bounds the tolerances below.
func naiveDFT(x []complex128, shape []int, inverse bool) []complex128 {
	out := append([]complex128(nil), x...)
	sign := -1.0
	if inverse {
		sign = 1
	}
	inner := 1
	for a := len(shape) - 1; a >= 0; a-- {
		n := shape[a]
		outer := len(x) / (n * inner)
		tmp := make([]complex128, n)
		for o := range outer {
			for c := range inner {
				for k := range n {
					var s complex128
					for j := range n {
						ph := sign * 2 * math.Pi * float64((j*k)%n) / float64(n)
						s += out[(o*n+j)*inner+c] * cmplx.Rect(1, ph)
					}
					tmp[k] = s
				}
				for k := range n {
					out[(o*n+k)*inner+c] = tmp[k]
				}
			}
		}
		inner *= n
	}
	if inverse {
		for i := range out {
			out[i] /= complex(float64(len(x)), 0)
		}
	}
	return out
}

func randComplex(rng *rand.Rand, n int) []complex128 {
	x := make([]complex128, n)
	for i := range x {
		x[i] = complex(rng.NormFloat64(), rng.NormFloat64())
	}
	return x
}

func randReal(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// relErr returns ‖a − b‖₂/‖b‖₂.
func relErr(a, b []complex128) float64 {
	var num, den float64
	for i := range a {
		d := a[i] - b[i]
		num += real(d)*real(d) + imag(d)*imag(d)
		den += real(b[i])*real(b[i]) + imag(b[i])*imag(b[i])
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// The FFT's error is O(eps·log N) relative in the 2-norm and the naive DFT's
// O(eps·n); 1e-12 leaves a factor > 10 of margin at n = 2048.
const tolDFT = 1e-12

// kernels runs f once with the vector kernels (where the CPU has them) and
// once with the portable Go kernels.
func kernels(t *testing.T, f func(t *testing.T)) {
	saved := haveAVX
	defer func() { haveAVX = saved }()
	if saved {
		t.Run("vector", f)
	}
	haveAVX = false
	t.Run("portable", f)
}

func TestComplex1DAgainstNaiveDFT(t *testing.T) { kernels(t, testComplex1DAgainstNaiveDFT) }

func testComplex1DAgainstNaiveDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range testSizes {
		const batch = 2
		x := randComplex(rng, batch*n)
		p := NewComplex(n)
		got := make([]complex128, len(x))
		p.Forward(got, x)
		inv := make([]complex128, len(x))
		p.Inverse(inv, x)
		for b := range batch {
			want := naiveDFT(x[b*n:(b+1)*n], []int{n}, false)
			if e := relErr(got[b*n:(b+1)*n], want); e > tolDFT {
				t.Errorf("n=%d batch %d: forward rel. error %.3g > %g", n, b, e, tolDFT)
			}
			wantInv := naiveDFT(x[b*n:(b+1)*n], []int{n}, true)
			if e := relErr(inv[b*n:(b+1)*n], wantInv); e > tolDFT {
				t.Errorf("n=%d batch %d: inverse rel. error %.3g > %g", n, b, e, tolDFT)
			}
		}
	}
}

func TestComplex1DAgainstGoDSP(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range append(testSizes, 4096, 4099, 6000, 1<<15) {
		x := randComplex(rng, n)
		got := make([]complex128, n)
		NewComplex(n).Forward(got, x)
		want := dspfft.FFT(x)
		// go-dsp uses radix 2 for powers of two and Bluestein's algorithm
		// for every other length, whose error reaches ~1e-12 at n = 6000
		// (ours is checked against the naive DFT above).
		tol := 1e-12
		if n&(n-1) != 0 {
			tol = 1e-10
		}
		if e := relErr(got, want); e > tol {
			t.Errorf("n=%d: rel. difference from go-dsp %.3g > %g", n, e, tol)
		}
	}
}

func TestRoundTripAndParseval(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := [][]int{{1000}, {1009}, {4096}, {64, 64}, {30, 42}, {17, 12, 10}, {16, 16, 16}, {1 << 14, 4}, {6000, 6}}
	for _, shape := range shapes {
		p := NewComplex(shape...)
		x := randComplex(rng, 2*p.Len())
		X := make([]complex128, len(x))
		p.Forward(X, x)
		y := make([]complex128, len(x))
		p.Inverse(y, X)
		if e := relErr(y, x); e > 1e-12 {
			t.Errorf("complex %v: round trip rel. error %.3g > 1e-12", shape, e)
		}
		// Parseval: Σ|x|² = (1/N) Σ|X|².
		var ex, eX float64
		for i := range x {
			ex += real(x[i])*real(x[i]) + imag(x[i])*imag(x[i])
			eX += real(X[i])*real(X[i]) + imag(X[i])*imag(X[i])
		}
		eX /= float64(p.Len())
		if d := math.Abs(ex-eX) / ex; d > 1e-13 {
			t.Errorf("complex %v: Parseval rel. defect %.3g > 1e-13", shape, d)
		}

		r := NewReal(shape...)
		xr := randReal(rng, 3*r.Len())
		S := make([]complex128, 3*r.SpectrumLen())
		r.Forward(S, xr)
		yr := make([]float64, len(xr))
		r.Inverse(yr, S)
		var num, den float64
		for i := range xr {
			num += (yr[i] - xr[i]) * (yr[i] - xr[i])
			den += xr[i] * xr[i]
		}
		if e := math.Sqrt(num / den); e > 1e-12 {
			t.Errorf("real %v: round trip rel. error %.3g > 1e-12", shape, e)
		}
	}
}

func TestMultiDimAgainstNaiveDFT(t *testing.T) { kernels(t, testMultiDimAgainstNaiveDFT) }

func testMultiDimAgainstNaiveDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := [][]int{{8, 12}, {5, 7}, {16, 9}, {37, 6}, {3, 5, 4}, {6, 10, 8}, {4, 37, 5}, {2, 3, 4, 5}, {1, 8}, {8, 1},
		{2, 6}, {4, 8}, {32, 20}, {128, 10}, {8, 4, 6}}
	for _, shape := range shapes {
		p := NewComplex(shape...)
		size := p.Len()
		const batch = 3
		x := randComplex(rng, batch*size)
		for _, workers := range []int{1, 3} {
			p.SetWorkers(workers)
			got := make([]complex128, len(x))
			p.Forward(got, x)
			inv := append([]complex128(nil), x...)
			p.Inverse(inv, inv) // in place
			for b := range batch {
				xb := x[b*size : (b+1)*size]
				if e := relErr(got[b*size:(b+1)*size], naiveDFT(xb, shape, false)); e > tolDFT {
					t.Errorf("complex %v workers %d: forward rel. error %.3g", shape, workers, e)
				}
				if e := relErr(inv[b*size:(b+1)*size], naiveDFT(xb, shape, true)); e > tolDFT {
					t.Errorf("complex %v workers %d: inverse rel. error %.3g", shape, workers, e)
				}
			}
		}
	}
}

// halfOf extracts the half spectrum (last axis 0 … n/2) from a full spectrum.
func halfOf(full []complex128, shape []int) []complex128 {
	n := shape[len(shape)-1]
	h := n/2 + 1
	rows := len(full) / n
	out := make([]complex128, rows*h)
	for r := range rows {
		copy(out[r*h:(r+1)*h], full[r*n:r*n+h])
	}
	return out
}

func TestRealAgainstNaiveDFT(t *testing.T) { kernels(t, testRealAgainstNaiveDFT) }

func testRealAgainstNaiveDFT(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	shapes := [][]int{{1}, {2}, {3}, {4}, {6}, {7}, {10}, {16}, {18}, {37}, {74}, {128}, {1000}, {1009},
		{8, 12}, {5, 7}, {9, 6}, {12, 37}, {6, 10, 8}, {3, 5, 7}, {4, 6, 9},
		{2, 6}, {16, 20}, {128, 18}, {32, 8, 6}}
	for _, shape := range shapes {
		r := NewReal(shape...)
		size := r.Len()
		const batch = 2
		x := randReal(rng, batch*size)
		for _, workers := range []int{1, 2} {
			r.SetWorkers(workers)
			S := make([]complex128, batch*r.SpectrumLen())
			r.Forward(S, x)
			for b := range batch {
				xc := make([]complex128, size)
				for i := range xc {
					xc[i] = complex(x[b*size+i], 0)
				}
				want := halfOf(naiveDFT(xc, shape, false), shape)
				got := S[b*r.SpectrumLen() : (b+1)*r.SpectrumLen()]
				if e := relErr(got, want); e > tolDFT {
					t.Errorf("real %v workers %d: forward rel. error %.3g", shape, workers, e)
				}
			}
			// The inverse of a Hermitian half spectrum gives the real grid back;
			// checked above by round trips, here against the naive inverse of
			// the full spectrum.
			y := make([]float64, len(x))
			r.Inverse(y, S)
			for b := range batch {
				xc := make([]complex128, size)
				for i := range xc {
					xc[i] = complex(x[b*size+i], 0)
				}
				full := naiveDFT(xc, shape, false)
				back := naiveDFT(full, shape, true)
				var num, den float64
				for i := range size {
					d := y[b*size+i] - real(back[i])
					num += d * d
					den += real(back[i]) * real(back[i])
				}
				if e := math.Sqrt(num / den); e > tolDFT {
					t.Errorf("real %v workers %d: inverse rel. error %.3g", shape, workers, e)
				}
			}
		}
	}
}

// TestRealInputSymmetry checks that the complex transform of real data is
// Hermitian, X[−k] = conj(X[k]), and agrees with the real plan's half spectrum.
func TestRealInputSymmetry(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, shape := range [][]int{{64}, {45}, {12, 10}, {9, 7}, {6, 8, 10}} {
		p := NewComplex(shape...)
		x := randReal(rng, p.Len())
		xc := make([]complex128, len(x))
		for i, v := range x {
			xc[i] = complex(v, 0)
		}
		X := make([]complex128, len(x))
		p.Forward(X, xc)
		var scale float64
		for _, z := range X {
			scale = math.Max(scale, cmplx.Abs(z))
		}
		// Index of −k for every k.
		for i := range X {
			rem, neg, stride := i, 0, 1
			for a := len(shape) - 1; a >= 0; a-- {
				k := rem % shape[a]
				rem /= shape[a]
				neg += ((shape[a] - k) % shape[a]) * stride
				stride *= shape[a]
			}
			if d := cmplx.Abs(X[neg] - cmplx.Conj(X[i])); d > 1e-13*scale {
				t.Fatalf("%v: X[−k] ≠ conj X[k] at %d: |diff| = %.3g", shape, i, d)
			}
		}
		r := NewReal(shape...)
		S := make([]complex128, r.SpectrumLen())
		r.Forward(S, x)
		if e := relErr(S, halfOf(X, shape)); e > 1e-13 {
			t.Errorf("%v: real plan differs from complex transform of real data: %.3g", shape, e)
		}
	}
}

func TestGoDSP2D(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, shape := range [][2]int{{32, 48}, {27, 25}, {64, 64}} {
		rows := make([][]float64, shape[0])
		flat := make([]float64, 0, shape[0]*shape[1])
		for i := range rows {
			rows[i] = randReal(rng, shape[1])
			flat = append(flat, rows[i]...)
		}
		want := dspfft.FFT2Real(rows)
		r := NewReal(shape[0], shape[1])
		S := make([]complex128, r.SpectrumLen())
		r.Forward(S, flat)
		h := shape[1]/2 + 1
		var w []complex128
		for i := range want {
			w = append(w, want[i][:h]...)
		}
		if e := relErr(S, w); e > 1e-12 {
			t.Errorf("%v: rel. difference from go-dsp FFT2Real %.3g", shape, e)
		}
	}
}

func TestWorkersBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	// Large enough that every pass is split (see minChunk).
	for _, shape := range [][]int{{128, 128}, {180, 120}, {32, 48, 40}} {
		r := NewReal(shape...)
		x := randReal(rng, 5*r.Len())
		var ref []complex128
		var refInv []float64
		for _, w := range []int{1, 2, 4} {
			r.SetWorkers(w)
			S := make([]complex128, 5*r.SpectrumLen())
			r.Forward(S, x)
			y := make([]float64, len(x))
			r.Inverse(y, S)
			if ref == nil {
				ref, refInv = S, y
				continue
			}
			for i := range S {
				if S[i] != ref[i] {
					t.Fatalf("%v workers %d: spectrum differs at %d", shape, w, i)
				}
			}
			for i := range y {
				if y[i] != refInv[i] {
					t.Fatalf("%v workers %d: inverse differs at %d", shape, w, i)
				}
			}
		}
	}
}

func TestNoAllocations(t *testing.T) {
	r := NewReal(128, 128)
	r.SetWorkers(2)
	x := randReal(rand.New(rand.NewPCG(1, 1)), 4*r.Len())
	S := make([]complex128, 4*r.SpectrumLen())
	r.Forward(S, x)
	r.Inverse(x, S)
	if a := testing.AllocsPerRun(20, func() { r.Forward(S, x); r.Inverse(x, S) }); a != 0 {
		t.Errorf("Real forward+inverse allocates %v times per call", a)
	}
	c := NewComplex(40, 1009)
	c.SetWorkers(2)
	z := randComplex(rand.New(rand.NewPCG(1, 2)), c.Len())
	c.Forward(z, z)
	if a := testing.AllocsPerRun(5, func() { c.Forward(z, z); c.Inverse(z, z) }); a != 0 {
		t.Errorf("Complex forward+inverse allocates %v times per call", a)
	}
}

func TestShapePanics(t *testing.T) {
	for _, f := range []func(){
		func() { NewReal(8).Forward(make([]complex128, 4), make([]float64, 8)) },
		func() { NewComplex(8).Forward(make([]complex128, 8), make([]complex128, 12)) },
		func() { NewComplex(0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic on a shape mismatch")
				}
			}()
			f()
		}()
	}
}

func ExampleReal() {
	// The half spectrum of cos(2πx·3) on 16 points has a single coefficient
	// N/2 = 8 at wavenumber 3.
	const n = 16
	x := make([]float64, n)
	for j := range x {
		x[j] = math.Cos(2 * math.Pi * 3 * float64(j) / n)
	}
	p := NewReal(n)
	X := make([]complex128, p.SpectrumLen())
	p.Forward(X, x)
	for k, z := range X {
		if cmplx.Abs(z) > 1e-12 {
			fmt.Printf("k=%d: %.3f\n", k, real(z))
		}
	}
	// Output: k=3: 8.000
}

// TestTruncation checks SetTruncation against the full transforms with the
// discarded columns zeroed (the same arithmetic on the kept lines, so equal
// to rounding: 1e-15 relative).
func TestTruncation(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct {
		shape []int
		k     int
	}{{[]int{64, 64}, 22}, {[]int{30, 48}, 17}, {[]int{12, 10, 16}, 6}, {[]int{40}, 14}, {[]int{9, 7}, 2}} {
		full := NewReal(c.shape...)
		tr := NewReal(c.shape...)
		tr.SetTruncation(c.k)
		tr.SetWorkers(2)
		h := c.shape[len(c.shape)-1]/2 + 1
		x := randReal(rng, 3*full.Len())
		want := make([]complex128, 3*full.SpectrumLen())
		full.Forward(want, x)
		for r := 0; r < len(want); r += h {
			clear(want[r+c.k : r+h])
		}
		got := make([]complex128, len(want))
		tr.Forward(got, x)
		if e := relErr(got, want); e > 1e-15 {
			t.Errorf("%v k=%d: truncated forward differs by %.3g", c.shape, c.k, e)
		}
		// Inverse: garbage in the discarded columns must be ignored.
		noisy := append([]complex128(nil), want...)
		for r := 0; r < len(noisy); r += h {
			for k := c.k; k < h; k++ {
				noisy[r+k] = complex(rng.NormFloat64(), rng.NormFloat64())
			}
		}
		y := make([]float64, len(x))
		tr.Inverse(y, noisy)
		yw := make([]float64, len(x))
		full.Inverse(yw, want)
		var num, den float64
		for i := range y {
			num += (y[i] - yw[i]) * (y[i] - yw[i])
			den += yw[i] * yw[i]
		}
		if e := math.Sqrt(num / den); e > 1e-15 {
			t.Errorf("%v k=%d: truncated inverse differs by %.3g", c.shape, c.k, e)
		}
	}
}
