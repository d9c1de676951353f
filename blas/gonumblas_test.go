package blas

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/lapack"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

// TestFloat64Dgemm checks the split product of Float64 against the
// definition on shapes large enough to be split by rows (m ≥ n) and by
// columns (m < n), with every transpose combination, padded leading
// dimensions and odd sizes so that the parts differ in size. k ≤ 200 and
// entries in [−1, 1] bound rounding by about k·ε ≈ 4e-14; tolerance 1e-11.
func TestFloat64Dgemm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	var impl Float64
	for _, sz := range [][3]int{{161, 97, 200}, {37, 211, 150}, {5, 3, 2}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, lda, b, ldb, c, ldc := operands(r, m, n, k, ta, tb, [3]int{3, 1, 2})
				want := append([]float64(nil), c...)
				naive(ta, tb, m, n, k, 1.3, a, lda, b, ldb, 0.4, want, ldc)
				got := append([]float64(nil), c...)
				impl.Dgemm(trans(ta), trans(tb), m, n, k, 1.3, a, lda, b, ldb, 0.4, got, ldc)
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-11 {
						t.Fatalf("m=%d n=%d k=%d tA=%v tB=%v: element %d: got %v want %v", m, n, k, ta, tb, i, got[i], want[i])
					}
				}
			}
		}
	}
	var _ blas.Float64 = impl
}

// TestFloat64Triangular compares the triangular solve and product with
// gonum's on every side, triangle, transpose and diagonal combination, at
// sizes that take the engine path and are split across cores. The triangles
// have a dominant diagonal (entries of A off it in [−1, 1]/k), so the solves
// are well conditioned and the two answers agree to rounding: tolerance
// 1e-10.
func TestFloat64Triangular(t *testing.T) {
	var impl Float64
	var ref gonum.Implementation
	for _, c := range []struct {
		name     string
		got, ref triangularOp
	}{{"Dtrsm", impl.Dtrsm, ref.Dtrsm}, {"Dtrmm", impl.Dtrmm, ref.Dtrmm}} {
		t.Run(c.name, func(t *testing.T) { testTriangular(t, c.got, c.ref) })
	}
}

// triangularOp is the signature of Dtrsm and Dtrmm.
type triangularOp func(blas.Side, blas.Uplo, blas.Transpose, blas.Diag, int, int, float64, []float64, int, []float64, int)

// dominantTriangle returns a k×k matrix (leading dimension lda) with entries
// in [−1, 1]/k off the diagonal and in [1.5, 2.5) on it: either triangle is
// well conditioned.
func dominantTriangle(r *rand.Rand, k, lda int) []float64 {
	a := randSlice(r, k*lda)
	for i := range k {
		for j := range k {
			a[i*lda+j] /= float64(k)
		}
		a[i*lda+i] = 1.5 + r.Float64()
	}
	return a
}

func testTriangular(t *testing.T, got, ref triangularOp) {
	r := rand.New(rand.NewPCG(7, 9))
	for _, sz := range [][2]int{{150, 170}, {40, 9}} {
		m, n := sz[0], sz[1]
		for _, side := range []blas.Side{blas.Left, blas.Right} {
			for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
				for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					for _, d := range []blas.Diag{blas.NonUnit, blas.Unit} {
						k := m
						if side == blas.Right {
							k = n
						}
						lda, ldb := k+1, n+2
						a := dominantTriangle(r, k, lda)
						b := randSlice(r, m*ldb)
						want := append([]float64(nil), b...)
						ref(side, ul, tA, d, m, n, 0.8, a, lda, want, ldb)
						got(side, ul, tA, d, m, n, 0.8, a, lda, b, ldb)
						for i := range b {
							if math.Abs(b[i]-want[i]) > 1e-10 {
								t.Fatalf("m=%d n=%d %c %c %c %c: element %d: got %v want %v", m, n, side, ul, tA, d, i, b[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestFloat64Dsyrk compares the symmetric rank-k update with gonum's on
// both triangles and transposes, β zero and not, at sizes below, at and
// across the row block (and split across cores), to 1e-12 (entries in
// [−1, 1], sums of at most 300 products); the other triangle must be left
// as it was.
func TestFloat64Dsyrk(t *testing.T) {
	var impl Float64
	var ref gonum.Implementation
	r := rand.New(rand.NewPCG(5, 17))
	for _, sz := range [][2]int{{300, 200}, {128, 40}, {37, 300}, {260, 3}} {
		n, k := sz[0], sz[1]
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
			for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, beta := range []float64{0, 0.7} {
					rows, cols := n, k
					if tr == blas.Trans {
						rows, cols = k, n
					}
					lda, ldc := cols+3, n+1
					a := randSlice(r, rows*lda)
					c := randSlice(r, n*ldc)
					want := append([]float64(nil), c...)
					ref.Dsyrk(ul, tr, n, k, -0.6, a, lda, beta, want, ldc)
					impl.Dsyrk(ul, tr, n, k, -0.6, a, lda, beta, c, ldc)
					for i := range c {
						if math.Abs(c[i]-want[i]) > 1e-12 {
							t.Fatalf("n=%d k=%d %c %c β=%g: element (%d, %d): got %v want %v", n, k, ul, tr, beta, i/ldc, i%ldc, c[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestLapackDsyev checks the eigensolver on a random symmetric 120×120
// matrix, reading either triangle: ‖A V − V Λ‖ and ‖VᵀV − I‖ at rounding
// level (1e-11 for entries in [−1, 1]), eigenvalues ascending and equal to
// gonum's to 1e-11.
func TestLapackDsyev(t *testing.T) {
	const n, lda = 120, 123
	r := rand.New(rand.NewPCG(11, 13))
	full := make([]float64, n*lda)
	for i := range n {
		for j := i; j < n; j++ {
			v := 2*r.Float64() - 1
			full[i*lda+j], full[j*lda+i] = v, v
		}
	}
	var ref lapackgonum.Implementation
	wantW := make([]float64, n)
	work := []float64{0}
	cp := append([]float64(nil), full...)
	ref.Dsyev(lapack.EVNone, blas.Upper, n, cp, lda, wantW, work, -1)
	work = make([]float64, int(work[0]))
	ref.Dsyev(lapack.EVNone, blas.Upper, n, cp, lda, wantW, work, len(work))
	for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
		a := append([]float64(nil), full...)
		// Spoil the other triangle: it must not be read.
		for i := range n {
			for j := range i {
				if ul == blas.Upper {
					a[i*lda+j] = math.NaN()
				} else {
					a[j*lda+i] = math.NaN()
				}
			}
		}
		w := make([]float64, n)
		var impl Lapack
		lw := []float64{0}
		impl.Dsyev(lapack.EVCompute, ul, n, a, lda, w, lw, -1)
		if !impl.Dsyev(lapack.EVCompute, ul, n, a, lda, w, make([]float64, int(lw[0])), int(lw[0])) {
			t.Fatal("Dsyev did not converge")
		}
		for i := range n {
			if math.Abs(w[i]-wantW[i]) > 1e-11 {
				t.Fatalf("%c: eigenvalue %d: %v, gonum %v", ul, i, w[i], wantW[i])
			}
			for j := range n {
				av, vv := 0.0, 0.0
				for k := range n {
					av += full[i*lda+k] * a[k*lda+j]
					vv += a[k*lda+i] * a[k*lda+j]
				}
				if math.Abs(av-a[i*lda+j]*w[j]) > 1e-11 {
					t.Fatalf("%c: (AV − VΛ)[%d,%d] = %v", ul, i, j, av-a[i*lda+j]*w[j])
				}
				if i == j {
					vv--
				}
				if math.Abs(vv) > 1e-11 {
					t.Fatalf("%c: (VᵀV − I)[%d,%d] = %v", ul, i, j, vv)
				}
			}
		}
	}
}

// TestDtrsv compares the triangular solve with gonum's on every triangle,
// transpose and diagonal combination, with a padded leading dimension, at a
// size that takes the engine when it is loaded. The triangle has a dominant
// diagonal, so the solve is well conditioned; 150 terms of size ≤ 1/150
// bound rounding far below the tolerance 1e-12.
func TestDtrsv(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 13))
	var ref gonum.Implementation
	n, lda := 150, 157
	tri := randSlice(r, (n-1)*lda+n)
	for i := range n {
		for j := range n {
			tri[i*lda+j] /= float64(n)
		}
		tri[i*lda+i] = 2 + math.Abs(tri[i*lda+i])
	}
	for _, upper := range []bool{true, false} {
		for _, trans := range []bool{false, true} {
			for _, unit := range []bool{false, true} {
				b := randSlice(r, n)
				want := append([]float64(nil), b...)
				ul, tr, d := triFlags(upper, trans, unit)
				ref.Dtrsv(ul, tr, d, n, tri, lda, want, 1)
				got := append([]float64(nil), b...)
				Dtrsv(upper, trans, unit, n, tri, lda, got)
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
						t.Fatalf("upper %v trans %v unit %v: element %d: got %v want %v (engine %v)", upper, trans, unit, i, got[i], want[i], FastDtrsv())
					}
				}
			}
		}
	}
}
