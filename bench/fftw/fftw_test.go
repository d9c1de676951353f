//go:build fftw

package fftw

import (
	"math"
	"testing"

	"eddy/fft"
)

// BenchmarkFFTW measures FFTW r2c + c2r (FFTW_MEASURE, one thread).
func BenchmarkFFTW(b *testing.B) {
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p := NewPlan(c.batch, c.shape...)
			defer p.Destroy()
			copy(p.Real, randomReal(len(p.Real)))
			loop(b, func() {
				p.Forward()
				p.Inverse()
			})
		})
	}
}

// TestFFTWAgrees checks that FFTW and eddy/fft compute the same half spectrum
// (1e-12 relative), so that the benchmarks compare equal work.
func TestFFTWAgrees(t *testing.T) {
	for _, shape := range [][]int{{64, 64}, {16, 12, 10}} {
		p := NewPlan(2, shape...)
		x := randomReal(len(p.Real))
		copy(p.Real, x)
		p.Forward()
		q := fft.NewReal(shape...)
		want := make([]complex128, len(p.Spec))
		q.Forward(want, x)
		var num, den float64
		for i, z := range p.Spec {
			d := z - want[i]
			num += real(d)*real(d) + imag(d)*imag(d)
			den += real(z)*real(z) + imag(z)*imag(z)
		}
		if e := math.Sqrt(num / den); e > 1e-12 {
			t.Errorf("%v: FFTW and eddy/fft differ by %.3g", shape, e)
		}
		p.Destroy()
	}
}
