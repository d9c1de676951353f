package fft

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkReal measures a forward plus an inverse real transform of one grid.
func BenchmarkReal(b *testing.B) {
	for _, shape := range [][]int{{64, 64}, {256, 256}, {512, 512}, {64, 64, 64}} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%v/workers=%d", shape, w), func(b *testing.B) {
				p := NewReal(shape...)
				p.SetWorkers(w)
				x := randReal(rand.New(rand.NewPCG(1, 1)), p.Len())
				S := make([]complex128, p.SpectrumLen())
				for b.Loop() {
					p.Forward(S, x)
					p.Inverse(x, S)
				}
			})
		}
	}
}

// BenchmarkComplex1D measures one forward complex transform.
func BenchmarkComplex1D(b *testing.B) {
	for _, n := range []int{64, 128, 256, 512, 1000, 1009} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			p := NewComplex(n)
			x := randComplex(rand.New(rand.NewPCG(1, 1)), n)
			y := make([]complex128, n)
			for b.Loop() {
				p.Forward(y, x)
			}
		})
	}
}
