package fftw

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"

	"eddy/fft"
)

// benchCase is one benchmark configuration: batch grids of a shape.
type benchCase struct {
	name  string
	batch int
	shape []int
}

var cases = []benchCase{
	{"2D_64", 1, []int{64, 64}},
	{"2D_256", 1, []int{256, 256}},
	{"2D_512", 1, []int{512, 512}},
	{"2D_64_batch256", 256, []int{64, 64}},
	{"3D_64", 1, []int{64, 64, 64}},
}

func sizes(shape []int) (size, hsize int) {
	size, hsize = 1, 1
	for i, n := range shape {
		size *= n
		if i == len(shape)-1 {
			hsize *= n/2 + 1
		} else {
			hsize *= n
		}
	}
	return size, hsize
}

func randomReal(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// BenchmarkEddy measures fft.Real forward + inverse with 1 and 2 workers.
func BenchmarkEddy(b *testing.B) {
	for _, c := range cases {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", c.name, w), func(b *testing.B) {
				p := fft.NewReal(c.shape...)
				p.SetWorkers(w)
				x := randomReal(c.batch * p.Len())
				s := make([]complex128, c.batch*p.SpectrumLen())
				loop(b, func() {
					p.Forward(s, x)
					p.Inverse(x, s)
				})
			})
		}
	}
}

// gonumReal is an N-D real transform built from gonum's 1-D transforms: real
// FFTs along the last axis, complex FFTs gathered along each other axis.
type gonumReal struct {
	shape, half []int
	rfft        *fourier.FFT
	cffts       []*fourier.CmplxFFT
	col, colOut []complex128
	row         []float64
}

func newGonumReal(shape []int) *gonumReal {
	g := &gonumReal{shape: shape, half: append([]int(nil), shape...)}
	d := len(shape)
	g.half[d-1] = shape[d-1]/2 + 1
	g.rfft = fourier.NewFFT(shape[d-1])
	maxN := 0
	for _, n := range shape[:d-1] {
		g.cffts = append(g.cffts, fourier.NewCmplxFFT(n))
		maxN = max(maxN, n)
	}
	g.col = make([]complex128, maxN)
	g.colOut = make([]complex128, maxN)
	g.row = make([]float64, shape[d-1])
	return g
}

// axis transforms every line along axis a of one half spectrum in place.
func (g *gonumReal) axis(s []complex128, a int, inverse bool) {
	n := g.half[a]
	inner := 1
	for _, m := range g.half[a+1:] {
		inner *= m
	}
	outer := len(s) / (n * inner)
	col, out := g.col[:n], g.colOut[:n]
	for o := range outer {
		for c := range inner {
			base := o*n*inner + c
			for j := range n {
				col[j] = s[base+j*inner]
			}
			if inverse {
				g.cffts[a].Sequence(out, col)
			} else {
				g.cffts[a].Coefficients(out, col)
			}
			for j := range n {
				s[base+j*inner] = out[j]
			}
		}
	}
}

func (g *gonumReal) forward(s []complex128, x []float64) {
	d := len(g.shape)
	n, h := g.shape[d-1], g.half[d-1]
	for r := range len(x) / n {
		g.rfft.Coefficients(s[r*h:(r+1)*h], x[r*n:(r+1)*n])
	}
	for a := d - 2; a >= 0; a-- {
		g.axis(s, a, false)
	}
}

// inverse is unnormalised, like gonum's Sequence, and overwrites s.
func (g *gonumReal) inverse(x []float64, s []complex128) {
	d := len(g.shape)
	for a := 0; a < d-1; a++ {
		g.axis(s, a, true)
	}
	n, h := g.shape[d-1], g.half[d-1]
	for r := range len(x) / n {
		g.rfft.Sequence(x[r*n:(r+1)*n], s[r*h:(r+1)*h])
	}
}

// BenchmarkGonum measures gonum dsp/fourier forward + inverse, one goroutine.
func BenchmarkGonum(b *testing.B) {
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			g := newGonumReal(c.shape)
			size, hsize := sizes(c.shape)
			x := randomReal(c.batch * size)
			s := make([]complex128, c.batch*hsize)
			loop(b, func() {
				for k := range c.batch {
					g.forward(s[k*hsize:(k+1)*hsize], x[k*size:(k+1)*size])
					g.inverse(x[k*size:(k+1)*size], s[k*hsize:(k+1)*hsize])
				}
			})
		})
	}
}

// TestGonumReference checks that the gonum-based reference computes the same
// transform as eddy/fft (to 1e-12 relative), so that the benchmarks compare
// equal work.
func TestGonumReference(t *testing.T) {
	for _, shape := range [][]int{{16, 24}, {8, 6, 10}} {
		size, hsize := sizes(shape)
		x := randomReal(size)
		want := make([]complex128, hsize)
		fft.NewReal(shape...).Forward(want, x)
		got := make([]complex128, hsize)
		newGonumReal(shape).forward(got, x)
		var num, den float64
		for i := range got {
			d := got[i] - want[i]
			num += real(d)*real(d) + imag(d)*imag(d)
			den += real(want[i])*real(want[i]) + imag(want[i])*imag(want[i])
		}
		if num > 1e-24*den {
			t.Errorf("%v: gonum reference differs from eddy/fft: rel. %.3g", shape, num/den)
		}
	}
}
