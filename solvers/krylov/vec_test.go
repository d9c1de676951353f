package krylov

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"eddy/pde/poisson"
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
				t := newPair(n)
				defer t.close()
				b.SetBytes(int64(16 * n))
				for b.Loop() {
					t.dot(x, p)
				}
			})
			b.Run("stepXR/"+name, func(b *testing.B) {
				defer setParallel(par)()
				t := newPair(n)
				defer t.close()
				b.SetBytes(int64(48 * n))
				for b.Loop() {
					t.stepXR(x, r, p, ap, 1e-9)
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
func TestVectorKernels(tt *testing.T) {
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
			t := newPair(n) // nil, serial, without parallel
			if d := t.dot(x, p); math.Abs(d-wantDot) > 1e-13*float64(n) {
				tt.Errorf("n=%d parallel=%v: dot = %v, want %v", n, par, d, wantDot)
			}
			x2, r2, p2 := slices.Clone(x), slices.Clone(r), slices.Clone(p)
			const alpha, beta = 0.37, 0.61
			rr := t.stepXR(x2, r2, p, ap, alpha)
			var wantRR float64
			for i := range n {
				if x2[i] != x[i]+alpha*p[i] || r2[i] != r[i]-alpha*ap[i] {
					tt.Fatalf("n=%d parallel=%v: stepXR wrong at %d", n, par, i)
				}
				wantRR += r2[i] * r2[i]
			}
			if math.Abs(rr-wantRR) > 1e-13*float64(n)*wantRR {
				tt.Errorf("n=%d parallel=%v: rᵀr = %v, want %v", n, par, rr, wantRR)
			}
			t.stepP(p2, z, beta)
			t.close()
			for i := range n {
				if p2[i] != z[i]+beta*p[i] {
					tt.Fatalf("n=%d parallel=%v: stepP wrong at %d", n, par, i)
				}
			}
		}
	}
}

// With the kernels split over two goroutines, a solve still allocates the
// same number of times whether it runs 10 or 100 iterations.
func TestSplitNoAllocationPerIteration(t *testing.T) {
	defer setParallel(true)()
	g, err := poisson.NewGrid(2, 48)
	if err != nil {
		t.Fatal(err)
	}
	a := poisson.NewLaplacian(g)
	b := make([]float64, a.Len())
	for i := range b {
		b[i] = math.Sin(float64(i))
	}
	x := make([]float64, a.Len())
	allocs := func(it int) float64 {
		return testing.AllocsPerRun(5, func() {
			clear(x)
			res, _ := PCG(context.Background(), a, nil, b, x, Options{Tol: 1e-14, MaxIter: it}, nil)
			if res.Iterations != it {
				t.Fatalf("ran %d iterations, want %d", res.Iterations, it)
			}
		})
	}
	if a10, a100 := allocs(10), allocs(100); a10 != a100 {
		t.Errorf("%v allocations for 10 iterations, %v for 100", a10, a100)
	}
}
