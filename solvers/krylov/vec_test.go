package krylov

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func BenchmarkVector(b *testing.B) {
	for _, n := range []int{1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20} {
		x := make([]float64, n)
		r := make([]float64, n)
		p := make([]float64, n)
		ap := make([]float64, n)
		for i := range x {
			x[i], r[i], p[i], ap[i] = 1, 2, 3, 4
		}
		for _, par := range []bool{false, true} {
			name := fmt.Sprintf("n=%d/parallel=%v", n, par)
			b.Run("dot/"+name, func(b *testing.B) {
				defer setParallel(par)()
				b.SetBytes(int64(16 * n))
				for b.Loop() {
					dot(x, p)
				}
			})
			b.Run("stepXR/"+name, func(b *testing.B) {
				defer setParallel(par)()
				b.SetBytes(int64(48 * n))
				for b.Loop() {
					stepXR(x, r, p, ap, 1e-9)
				}
			})
		}
	}
}

// setParallel forces the vector kernels to split (on) or not, and returns a
// function restoring the threshold.
func setParallel(on bool) func() {
	old := parallelMinLen
	if on {
		parallelMinLen = 0
	} else {
		parallelMinLen = 1 << 62
	}
	return func() { parallelMinLen = old }
}

// The kernels agree with plain loops for every length mod 4 (unrolled tails),
// and the two-goroutine split gives the same x and r bit for bit and the same
// sums up to reassociation (≤ n·ε relative).
func TestVectorKernels(t *testing.T) {
	defer setParallel(false)()
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 1001} {
		x, r, p, ap, z := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			f := float64(i)
			x[i], r[i], p[i], ap[i], z[i] = math.Sin(f), math.Cos(f), 1+f/7, f*f/1e3, -f
		}
		var wantDot float64
		for i := range n {
			wantDot += x[i] * p[i]
		}
		for _, par := range []bool{false, true} {
			setParallel(par)
			if d := dot(x, p); math.Abs(d-wantDot) > 1e-13*float64(n) {
				t.Errorf("n=%d parallel=%v: dot = %v, want %v", n, par, d, wantDot)
			}
			x2, r2, p2 := slices.Clone(x), slices.Clone(r), slices.Clone(p)
			const alpha, beta = 0.37, 0.61
			rr := stepXR(x2, r2, p, ap, alpha)
			var wantRR float64
			for i := range n {
				if x2[i] != x[i]+alpha*p[i] || r2[i] != r[i]-alpha*ap[i] {
					t.Fatalf("n=%d parallel=%v: stepXR wrong at %d", n, par, i)
				}
				wantRR += r2[i] * r2[i]
			}
			if math.Abs(rr-wantRR) > 1e-13*float64(n)*wantRR {
				t.Errorf("n=%d parallel=%v: rᵀr = %v, want %v", n, par, rr, wantRR)
			}
			stepP(p2, z, beta)
			for i := range n {
				if p2[i] != z[i]+beta*p[i] {
					t.Fatalf("n=%d parallel=%v: stepP wrong at %d", n, par, i)
				}
			}
		}
	}
}
