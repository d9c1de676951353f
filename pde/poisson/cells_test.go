package poisson_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"eddy/pde/poisson"
)

// applyCSR computes y = A x from the assembled arrays.
func applyCSR(rp []int, col []int32, val, x []float64) []float64 {
	y := make([]float64, len(rp)-1)
	for i := range y {
		for p := rp[i]; p < rp[i+1]; p++ {
			y[i] += val[p] * x[col[p]]
		}
	}
	return y
}

func randVec(rnd *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rnd.NormFloat64()
	}
	return v
}

func maxAbsDiff(x, y []float64) float64 {
	var d float64
	for i := range x {
		d = max(d, math.Abs(x[i]-y[i]))
	}
	return d
}

// The matrix-free operator and the assembled CSR matrix agree to rounding
// (the sums are in a different order: 1e-12 on entries of order 10), the CSR
// matrix is symmetric with columns in order, and every row follows the rule
// of the pressure system: diagonal = fluid and air neighbours, −1 per fluid
// neighbour.
func TestSystemOperatorAndCSR(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 2))
	for _, tc := range []struct {
		scene  string
		dim, n int
	}{{"smoke", 2, 20}, {"box", 2, 7}, {"random", 3, 10}, {"smoke", 3, 12}} {
		c, err := poisson.Scene(tc.scene, tc.dim, tc.n, 5)
		if err != nil {
			t.Fatal(err)
		}
		s := poisson.NewSystem(c)
		rp, col, val := s.A.CSR()
		x := randVec(rnd, s.Len())
		y := make([]float64, s.Len())
		s.A.Apply(y, x)
		if d := maxAbsDiff(y, applyCSR(rp, col, val, x)); d > 1e-12 {
			t.Errorf("%s %d-D: matrix-free and CSR differ by %g", tc.scene, tc.dim, d)
		}
		entry := func(i, j int) float64 {
			for p := rp[i]; p < rp[i+1]; p++ {
				if int(col[p]) == j {
					return val[p]
				}
			}
			return 0
		}
		strides := []int{1, tc.n, tc.n * tc.n}
		for i := range s.Len() {
			for p := rp[i]; p < rp[i+1]; p++ {
				if p > rp[i] && col[p] <= col[p-1] {
					t.Fatalf("row %d: columns out of order", i)
				}
				if j := int(col[p]); entry(j, i) != val[p] {
					t.Fatalf("%s: A[%d,%d] = %g, A[%d,%d] = %g", tc.scene, i, j, val[p], j, i, entry(j, i))
				}
			}
			if c.Label[i] != poisson.Fluid {
				if rp[i+1]-rp[i] != 1 || entry(i, i) != 1 {
					t.Fatalf("%s: non-fluid row %d is not the identity", tc.scene, i)
				}
				continue
			}
			var diag float64
			for a := range tc.dim {
				idx := (i / strides[a]) % tc.n
				for side := range 2 {
					beyond := poisson.Solid
					if c.Open[a][side] {
						beyond = poisson.Air
					}
					nb := -1
					if (side == 0 && idx > 0) || (side == 1 && idx < tc.n-1) {
						nb = i + (2*side-1)*strides[a]
						beyond = c.Label[nb]
					}
					if beyond != poisson.Solid {
						diag++
					}
					want := 0.0
					if beyond == poisson.Fluid {
						want = -1
					}
					if nb >= 0 && entry(i, nb) != want {
						t.Fatalf("%s: A[%d,%d] = %g, want %g", tc.scene, i, nb, entry(i, nb), want)
					}
				}
			}
			if entry(i, i) != diag {
				t.Fatalf("%s: diagonal %d = %g, want %g", tc.scene, i, entry(i, i), diag)
			}
		}
	}
}

// The smoke scene has the geometry of the reference measurements: at 2-D 128²
// the plate occupies rows 82 and 83 (centres 82.5 and 83.5 within one cell of
// 0.65·128 = 83.2) over x ∈ [0.2, 0.6]·128, and the disc of radius 23.04 its
// ≈ π·23.04² ≈ 1668 cells.
func TestSmokeGeometry(t *testing.T) {
	c, err := poisson.Scene("smoke", 2, 128, 0)
	if err != nil {
		t.Fatal(err)
	}
	for j := 78; j < 88; j++ {
		solid := c.Label[j*128+64] == poisson.Solid
		if solid != (j == 82 || j == 83) {
			t.Errorf("row %d at x = 64: solid = %v", j, solid)
		}
	}
	for i, want := range map[int]bool{25: false, 26: true, 76: true, 77: false} {
		if got := c.Label[82*128+i] == poisson.Solid; got != want {
			t.Errorf("plate at column %d: solid = %v, want %v", i, got, want)
		}
	}
	plate := 2 * 51 // columns 26…76
	disc := c.Count(poisson.Solid) - plate
	if math.Abs(float64(disc)-math.Pi*23.04*23.04) > 2*math.Pi*23.04 {
		t.Errorf("disc of %d cells, want ≈ %.0f", disc, math.Pi*23.04*23.04)
	}
	if !c.Open[1][1] || c.Open[1][0] || c.Open[0][0] || c.Open[0][1] {
		t.Errorf("open faces %v, want the top only", c.Open)
	}
}

// A closed region (walls all round) is singular: NewSystem grounds one cell,
// Project makes b sum to zero there (the grounded row's value, dropped, is
// minus the sum of the others), and the grounded solution satisfies every
// equation of the singular Neumann system, the grounded row included.
func TestClosedRegionGrounded(t *testing.T) {
	const n = 12
	c, err := poisson.NewCells(2, n)
	if err != nil {
		t.Fatal(err)
	}
	// A solid wall splits the box: the left part is closed, the right open.
	for j := range n {
		c.Label[j*n+5] = poisson.Solid
	}
	c.Open[0][1] = true
	s := poisson.NewSystem(c)
	if len(s.Grounded) != 1 || s.Grounded[0] != 0 {
		t.Fatalf("grounded %v, want [0]", s.Grounded)
	}
	b := s.RandomRHS(9)
	if b[0] != 0 {
		t.Errorf("grounded row b₀ = %g, want 0", b[0])
	}
	// Solve the grounded SPD system densely by Gauss–Seidel to 1e-13.
	x := make([]float64, s.Len())
	r := make([]float64, s.Len())
	for it := 0; it < 20000; it++ {
		s.A.Apply(r, x)
		var rr float64
		for i := range r {
			r[i] = b[i] - r[i]
			rr += r[i] * r[i]
			x[i] += r[i] / s.A.Diag[i] * 0.9
		}
		if rr < 1e-26 {
			break
		}
	}
	// The singular Neumann equations of the left region, all of them.
	var worst float64
	for j := range n {
		for i := range 5 {
			k := j*n + i
			v := 0.0
			for _, nb := range [][2]int{{i - 1, j}, {i + 1, j}, {i, j - 1}, {i, j + 1}} {
				if nb[0] < 0 || nb[0] >= 5 || nb[1] < 0 || nb[1] >= n {
					continue
				}
				v += x[k] - x[nb[1]*n+nb[0]]
			}
			want := b[k]
			if k == 0 { // the grounded row: b was zeroed, the original b₀ = −Σ others
				want = 0
				for jj := range n {
					for ii := range 5 {
						if jj*n+ii != 0 {
							want -= b[jj*n+ii]
						}
					}
				}
			}
			worst = max(worst, math.Abs(v-want))
		}
	}
	if worst > 1e-9 {
		t.Errorf("singular equations violated by %g", worst)
	}
}

// Coarsen is the Galerkin product: Pᵀ A P e computed with ProlongAdd, Apply
// and Restrict equals the coarse Apply, on scenes with obstacles, air and a
// plate that straddles the blocks; inactive coarse cells are identity rows.
func TestCoarsenIsGalerkin(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 4))
	for _, tc := range []struct {
		scene  string
		dim, n int
	}{{"smoke", 2, 37}, {"random", 2, 40}, {"smoke", 3, 13}, {"box", 3, 8}} {
		c, _ := poisson.Scene(tc.scene, tc.dim, tc.n, 11)
		a := poisson.NewSystem(c).A
		for level := 0; level < 3; level++ {
			coarse, agg := a.Coarsen()
			e := randVec(rnd, coarse.Len())
			for i, in := range coarse.Inactive {
				if in {
					e[i] = 0
				}
			}
			pe := make([]float64, a.Len())
			poisson.ProlongAdd(pe, e, agg)
			ape := make([]float64, a.Len())
			a.Apply(ape, pe)
			got := make([]float64, coarse.Len())
			poisson.Restrict(got, ape, agg)
			want := make([]float64, coarse.Len())
			coarse.Apply(want, e)
			if d := maxAbsDiff(got, want); d > 1e-10 {
				t.Errorf("%s %d-D level %d: PᵀAPe and A_c e differ by %g", tc.scene, tc.dim, level, d)
			}
			a = coarse
		}
	}
}

// The manufactured right-hand side is A x* with x* zero off the unknowns, and
// the divergence right-hand side vanishes off the fluid cells and is
// dominated by its smooth part (it has no grid-scale checkerboard).
func TestSceneRHS(t *testing.T) {
	c, _ := poisson.Scene("smoke", 2, 32, 0)
	s := poisson.NewSystem(c)
	b, exact := s.ManufacturedRHS()
	ax := make([]float64, s.Len())
	s.A.Apply(ax, exact)
	if d := maxAbsDiff(ax, b); d != 0 {
		t.Errorf("b − A x* = %g", d)
	}
	d := s.DivergenceRHS(1)
	d2 := s.DivergenceRHS(1)
	var norm float64
	for i, v := range d {
		if c.Label[i] != poisson.Fluid && v != 0 {
			t.Fatalf("divergence %g on a non-fluid cell %d", v, i)
		}
		if v != d2[i] {
			t.Fatal("DivergenceRHS is not deterministic")
		}
		norm += v * v
	}
	if !(norm > 0) || math.IsNaN(norm) {
		t.Errorf("‖b‖² = %g", norm)
	}
}
