package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// naive computes C = α·op(A)·op(B) + β·C by the definition.
func naive(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var x, y float64
				if transA {
					x = a[l*lda+i]
				} else {
					x = a[i*lda+l]
				}
				if transB {
					y = b[j*ldb+l]
				} else {
					y = b[l*ldb+j]
				}
				s += x * y
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

// operands returns random A, B and C for C = op(A)·op(B) with m×k op(A), k×n
// op(B) and m×n C, stored with leading dimensions padded by pad.
func operands(r *rand.Rand, m, n, k int, ta, tb bool, pad [3]int) (a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	lda, ldb, ldc = ac+pad[0], bc+pad[1], n+pad[2]
	return randSlice(r, ar*lda), lda, randSlice(r, br*ldb), ldb, randSlice(r, m*ldc), ldc
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 2*r.Float64() - 1
	}
	return s
}

// TestDgemm compares every transpose combination, odd sizes and padded
// leading dimensions with the definition. Entries are in [−1, 1], so each
// entry of C is a sum of k products bounded by 1 and the rounding error is
// below k·ε ≈ 1e-14 for k ≤ 40; the tolerance 1e-12 leaves room for any
// summation order.
func TestDgemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, sz := range [][3]int{{1, 1, 1}, {7, 5, 3}, {13, 17, 29}, {33, 8, 40}, {4, 64, 9}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, lda, b, ldb, c, ldc := operands(r, m, n, k, ta, tb, [3]int{2, 1, 3})
				want := append([]float64(nil), c...)
				naive(ta, tb, m, n, k, 0.7, a, lda, b, ldb, -0.3, want, ldc)
				got := append([]float64(nil), c...)
				Dgemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, -0.3, got, ldc)
				gon := append([]float64(nil), c...)
				GonumDgemm(ta, tb, m, n, k, 0.7, a, lda, b, ldb, -0.3, gon, ldc)
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-12 || math.Abs(gon[i]-want[i]) > 1e-12 {
						t.Fatalf("%v m=%d n=%d k=%d tA=%v tB=%v: element %d: got %v gonum %v want %v", Engine(), m, n, k, ta, tb, i, got[i], gon[i], want[i])
					}
				}
				// Sgemm on the same data, rounded to float32: errors are
				// bounded by about k·2⁻²⁴ ≈ 2.4e-6 for k = 40, so 1e-4.
				a32, b32, c32 := to32(a), to32(b), to32(c)
				Sgemm(ta, tb, m, n, k, 0.7, a32, lda, b32, ldb, -0.3, c32, ldc)
				for i := range want {
					if math.Abs(float64(c32[i])-want[i]) > 1e-4 {
						t.Fatalf("Sgemm m=%d n=%d k=%d: element %d: got %v want %v", m, n, k, i, c32[i], want[i])
					}
				}
			}
		}
	}
}

func to32(s []float64) []float32 {
	d := make([]float32, len(s))
	for i, v := range s {
		d[i] = float32(v)
	}
	return d
}

// TestDgemmBetaZeroIgnoresC checks that β = 0 overwrites C even when it
// holds NaN, as BLAS specifies.
func TestDgemmBetaZeroIgnoresC(t *testing.T) {
	a := []float64{1, 2, 3, 4}
	b := []float64{5, 6, 7, 8}
	c := []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	Dgemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	want := []float64{19, 22, 43, 50}
	for i := range c {
		if c[i] != want[i] {
			t.Fatalf("c = %v, want %v", c, want)
		}
	}
}

// TestDgemmConcurrent runs many products at once from several goroutines
// and checks each against its serial result, exactly: the same engine
// applied to the same operands must give the same bits. The engine's calls
// directly, and Float64's split products, which take the crew while it is
// free and split on goroutines (or wait for engine slots) while another
// caller has it.
func TestDgemmConcurrent(t *testing.T) {
	var impl Float64
	for _, c := range []struct {
		name    string
		m, n, k int
		call    func(m, n, k int, a, b, c []float64)
	}{
		{"engine", 48, 96, 64, func(m, n, k int, a, b, c []float64) { Dgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) }},
		{"split", 160, 150, 140, func(m, n, k int, a, b, c []float64) {
			impl.Dgemm(trans(false), trans(false), m, n, k, 1, a, k, b, n, 0, c, n)
		}},
	} {
		r := rand.New(rand.NewPCG(2, 2))
		a, b := randSlice(r, c.m*c.k), randSlice(r, c.k*c.n)
		want := make([]float64, c.m*c.n)
		c.call(c.m, c.n, c.k, a, b, want)
		var wg sync.WaitGroup
		errs := make(chan string, 16)
		for g := range 16 {
			wg.Go(func() {
				out := make([]float64, c.m*c.n)
				for rep := range 20 {
					c.call(c.m, c.n, c.k, a, b, out)
					if !slices.Equal(out, want) {
						errs <- fmt.Sprintf("%s: goroutine %d rep %d: the product differs", c.name, g, rep)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}

func TestDgemmShapePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a too-short A")
		}
	}()
	a := make([]float64, 5)
	b := make([]float64, 6)
	c := make([]float64, 4)
	Dgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
}

var benchShapes = [][3]int{
	{512, 512, 512}, // square reference
	{16, 4096, 144}, // conv 3×3 16→16 forward, one 64² image
	{16, 1024, 432}, // conv 3×3×3 16→16 forward, one 32² slab
	{16384, 24, 64}, // truncated DFT along the last axis, FNO 8×32×64×64
	{48, 3072, 128}, // truncated DFT along the first axis
	{32768, 32, 32}, // 1×1 conv width 32, 8×64²
}

func benchD(bm *testing.B, f func(bool, bool, int, int, int, float64, []float64, int, []float64, int, float64, []float64, int), m, n, k int) {
	r := rand.New(rand.NewPCG(3, 3))
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	c := make([]float64, m*n)
	bm.SetBytes(0)
	bm.ResetTimer()
	for bm.Loop() {
		f(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	}
	bm.ReportMetric(2*float64(m*n*k)*float64(bm.N)/bm.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func benchS(bm *testing.B, f func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int), m, n, k int) {
	r := rand.New(rand.NewPCG(3, 3))
	a, b := to32(randSlice(r, m*k)), to32(randSlice(r, k*n))
	c := make([]float32, m*n)
	bm.ResetTimer()
	for bm.Loop() {
		f(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	}
	bm.ReportMetric(2*float64(m*n*k)*float64(bm.N)/bm.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemm reports GFLOP/s of the default engine (Engine()) and of
// gonum's pure-Go BLAS on the shapes that nn's layers produce, float64 and
// float32.
func BenchmarkGemm(b *testing.B) {
	b.Logf("engine: %s", Engine())
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		name := fmt.Sprintf("%dx%dx%d", m, n, k)
		b.Run("engine/f64/"+name, func(b *testing.B) { benchD(b, Dgemm, m, n, k) })
		b.Run("gonum/f64/"+name, func(b *testing.B) { benchD(b, GonumDgemm, m, n, k) })
		b.Run("engine/f32/"+name, func(b *testing.B) { benchS(b, Sgemm, m, n, k) })
		b.Run("gonum/f32/"+name, func(b *testing.B) { benchS(b, GonumSgemm, m, n, k) })
	}
}
