package mixed

import (
	"math"
	"math/rand/v2"
	"testing"

	eblas "eddy/blas"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// factor returns a random upper triangular n×n factor (leading dimension
// n+3) with a dominant positive diagonal, so that UᵀU is well conditioned.
func factor(r *rand.Rand, n int) ([]float64, int) {
	lda := n + 3
	a := make([]float64, n*lda)
	for i := range n {
		for j := i + 1; j < n; j++ {
			a[i*lda+j] = (2*r.Float64() - 1) / math.Sqrt(float64(n))
		}
		a[i*lda+i] = 1 + r.Float64()
	}
	return a, lda
}

// SolveNormal, with the vector kernels and with the portable loops, agrees
// with gonum's two float64 triangular solves on the same rounded factor (the
// entries above the diagonal rounded to float32 first): the two compute one
// operator in float64 and differ by rounding only, at most about n ε times
// the solution's size for these well-conditioned factors (tolerance 1e-11).
// Sizes cover the 16- and 4-wide steps and their remainders.
func TestUpperSolveNormal(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 9))
	saved, saved512 := haveMixedKernels, have512
	defer func() { haveMixedKernels, have512 = saved, saved512 }()
	for _, v := range []struct{ kernels, wide bool }{{true, true}, {true, false}, {false, false}} {
		if v.kernels && !saved || v.wide && !saved512 {
			continue
		}
		haveMixedKernels, have512 = v.kernels, v.wide
		kernels := v
		for _, n := range []int{1, 2, 3, 4, 5, 8, 12, 15, 16, 17, 33, 44, 130} {
			a, lda := factor(r, n)
			u := NewUpper(n, a, lda)
			for i := range n {
				for j := i + 1; j < n; j++ {
					a[i*lda+j] = float64(float32(a[i*lda+j]))
				}
			}
			b := make([]float64, n+2)
			for i := range b {
				b[i] = r.NormFloat64()
			}
			want := append([]float64(nil), b...)
			var impl gonum.Implementation
			impl.Dtrsv(blas.Upper, blas.Trans, blas.NonUnit, n, a, lda, want, 1)
			impl.Dtrsv(blas.Upper, blas.NoTrans, blas.NonUnit, n, a, lda, want, 1)
			got := append([]float64(nil), b...)
			u.SolveNormal(got)
			scale := 0.0
			for _, v := range want[:n] {
				scale = max(scale, math.Abs(v))
			}
			for i := range n {
				if math.Abs(got[i]-want[i]) > 1e-11*scale {
					t.Fatalf("kernels %v, n = %d: entry %d: got %v want %v", kernels, n, i, got[i], want[i])
				}
			}
			if got[n] != b[n] || got[n+1] != b[n+1] {
				t.Fatalf("kernels %v, n = %d: entries past N written", kernels, n)
			}
		}
	}
}

// BenchmarkSolveNormal times a solve at the size of gp.solve's tail block at
// 400² (2976) beside the two float64 triangular solves of the same factor on
// the engine (blas.Dtrsv: OpenBLAS when loaded) and with gonum's kernels.
func BenchmarkSolveNormal(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 2976
	a, lda := factor(r, n)
	u := NewUpper(n, a, lda)
	x := make([]float64, n)
	for i := range x {
		x[i] = 1
	}
	b.Run("float32", func(b *testing.B) {
		for b.Loop() {
			u.SolveNormal(x)
		}
	})
	b.Run("float64-engine", func(b *testing.B) {
		for b.Loop() {
			eblas.Dtrsv(true, true, false, n, a, lda, x)
			eblas.Dtrsv(true, false, false, n, a, lda, x)
		}
	})
	b.Run("float64-gonum", func(b *testing.B) {
		var impl gonum.Implementation
		for b.Loop() {
			impl.Dtrsv(blas.Upper, blas.Trans, blas.NonUnit, n, a, lda, x, 1)
			impl.Dtrsv(blas.Upper, blas.NoTrans, blas.NonUnit, n, a, lda, x, 1)
		}
	})
}
