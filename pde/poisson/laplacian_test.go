package poisson

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func randVec(rnd *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rnd.NormFloat64()
	}
	return v
}

func dotVec(x, y []float64) float64 {
	var s float64
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

// denseLaplacian assembles A = h²(−Δ_h) cell by cell from the definition:
// for each face, +1 on the diagonal and −1 towards the neighbouring cell, or,
// on a wall, the ghost value −u_c, i.e. +1 more on the diagonal.
func denseLaplacian(g *Grid) *mat.SymDense {
	n, d, nc := g.N(), g.Dim(), g.Len()
	a := mat.NewSymDense(nc, nil)
	stride := []int{1, n, n * n}
	for c := range nc {
		var idx [3]int
		rest := c
		for ax := range d {
			idx[ax] = rest % n
			rest /= n
		}
		for ax := range d {
			for _, step := range []int{-1, 1} {
				a.SetSym(c, c, a.At(c, c)+1)
				m := idx[ax] + step
				if m < 0 || m >= n {
					a.SetSym(c, c, a.At(c, c)+1) // ghost −u_c
					continue
				}
				a.SetSym(c, c+step*stride[ax], -1)
			}
		}
	}
	return a
}

func TestApplyMatchesDense(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ dim, n int }{{2, 2}, {2, 3}, {2, 5}, {3, 2}, {3, 3}, {3, 4}} {
		g, _ := NewGrid(tc.dim, tc.n)
		l := NewLaplacian(g)
		a := denseLaplacian(g)
		x := randVec(rnd, g.Len())
		got := make([]float64, g.Len())
		l.Apply(got, x)
		var want mat.VecDense
		want.MulVec(a, mat.NewVecDense(len(x), x))
		// Integer stencil weights: both sides sum the same ≤ 7 products, in a
		// different order, so they agree to a few ulps of the largest term.
		for i := range got {
			if math.Abs(got[i]-want.AtVec(i)) > 1e-13*(1+math.Abs(want.AtVec(i))) {
				t.Fatalf("dim=%d n=%d: (Ax)[%d] = %v, dense gives %v", tc.dim, tc.n, i, got[i], want.AtVec(i))
			}
		}
		diag := make([]float64, g.Len())
		l.Diagonal(diag)
		for i := range diag {
			if diag[i] != a.At(i, i) {
				t.Fatalf("dim=%d n=%d: Diagonal[%d] = %v, dense gives %v", tc.dim, tc.n, i, diag[i], a.At(i, i))
			}
		}
	}
}

// The spectrum of A is known in closed form: the 1-D factor with reflected
// ghosts has eigenvectors sin((i+½)kπ/n) and eigenvalues 4 sin²(kπ/(2n)),
// k = 1..n, and A is their Kronecker sum. Matching all eigenvalues proves A is
// symmetric positive definite with λ_min = 4d sin²(π/(2n)) and λ_max = 4d.
func TestSpectrum(t *testing.T) {
	for _, tc := range []struct{ dim, n int }{{2, 6}, {3, 4}} {
		g, _ := NewGrid(tc.dim, tc.n)
		var eig mat.EigenSym
		if !eig.Factorize(denseLaplacian(g), false) {
			t.Fatal("eigendecomposition failed")
		}
		got := eig.Values(nil)
		slices.Sort(got)
		one := make([]float64, tc.n)
		for k := 1; k <= tc.n; k++ {
			s := math.Sin(float64(k) * math.Pi / float64(2*tc.n))
			one[k-1] = 4 * s * s
		}
		var want []float64
		for c := range g.Len() {
			var lam float64
			rest := c
			for range tc.dim {
				lam += one[rest%tc.n]
				rest /= tc.n
			}
			want = append(want, lam)
		}
		slices.Sort(want)
		for i := range got {
			// Eigenvalues of a symmetric matrix of norm ≤ 4d are computed to
			// about 1e-15·‖A‖; 1e-12 leaves a wide margin.
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Errorf("dim=%d n=%d: λ[%d] = %.15g, want %.15g", tc.dim, tc.n, i, got[i], want[i])
			}
		}
		if !(got[0] > 0) {
			t.Errorf("dim=%d n=%d: λ_min = %g, want > 0", tc.dim, tc.n, got[0])
		}
	}
}

func TestSymmetricPositive(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ dim, n int }{{2, 17}, {3, 9}, {2, 200}, {3, 40}} {
		g, _ := NewGrid(tc.dim, tc.n)
		l := NewLaplacian(g)
		nc := g.Len()
		ax, ay := make([]float64, nc), make([]float64, nc)
		for range 5 {
			x, y := randVec(rnd, nc), randVec(rnd, nc)
			l.Apply(ax, x)
			l.Apply(ay, y)
			// ⟨Ax,y⟩ and ⟨x,Ay⟩ are the same sum of products up to rounding;
			// relative to the scale ‖Ax‖‖y‖ they agree to ~√N·ε.
			lhs, rhs := dotVec(ax, y), dotVec(x, ay)
			scale := math.Sqrt(dotVec(ax, ax) * dotVec(y, y))
			if math.Abs(lhs-rhs) > 1e-12*scale {
				t.Errorf("dim=%d n=%d: ⟨Ax,y⟩ = %v, ⟨x,Ay⟩ = %v", tc.dim, tc.n, lhs, rhs)
			}
			// xᵀAx ≥ λ_min ‖x‖² with λ_min = 4d sin²(π/(2n)).
			s := math.Sin(math.Pi / float64(2*tc.n))
			lmin := 4 * float64(tc.dim) * s * s
			if q := dotVec(x, ax); q < lmin*dotVec(x, x)*(1-1e-12) {
				t.Errorf("dim=%d n=%d: xᵀAx = %v < λ_min‖x‖² = %v", tc.dim, tc.n, q, lmin*dotVec(x, x))
			}
		}
	}
}

// The two-goroutine sweep computes every cell with the same expression as the
// serial one, so the results must be identical bit for bit.
func TestApplyParallelEqualsSerial(t *testing.T) {
	old := parallelMinCells
	defer func() { parallelMinCells = old }()
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ dim, n int }{{2, 2}, {2, 33}, {3, 2}, {3, 17}} {
		g, _ := NewGrid(tc.dim, tc.n)
		l := NewLaplacian(g)
		x := randVec(rnd, g.Len())
		serial, par := make([]float64, g.Len()), make([]float64, g.Len())
		parallelMinCells = 1 << 62
		l.Apply(serial, x)
		parallelMinCells = 0
		l.Apply(par, x)
		if !slices.Equal(serial, par) {
			t.Errorf("dim=%d n=%d: parallel Apply differs from serial", tc.dim, tc.n)
		}
	}
}

func TestApplyAllocatesNothing(t *testing.T) {
	for _, tc := range []struct{ dim, n int }{{2, 64}, {3, 24}} {
		g, _ := NewGrid(tc.dim, tc.n)
		l := NewLaplacian(g)
		x, y := make([]float64, g.Len()), make([]float64, g.Len())
		if a := testing.AllocsPerRun(10, func() { l.Apply(y, x) }); a != 0 {
			t.Errorf("dim=%d n=%d: Apply allocates %v times", tc.dim, tc.n, a)
		}
	}
}

func TestApplyPanicsOnLength(t *testing.T) {
	g, _ := NewGrid(2, 4)
	l := NewLaplacian(g)
	defer func() {
		if recover() == nil {
			t.Error("Apply with a short vector did not panic")
		}
	}()
	l.Apply(make([]float64, 16), make([]float64, 15))
}

func TestRHS(t *testing.T) {
	g, _ := NewGrid(2, 4)
	l := NewLaplacian(g)
	f := []float64{16, 32, -48, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	b := make([]float64, 16)
	l.RHS(b, f)
	for i := range b {
		if b[i] != f[i]/16 { // h² = 1/16 exactly
			t.Fatalf("RHS[%d] = %v, want %v", i, b[i], f[i]/16)
		}
	}
}
