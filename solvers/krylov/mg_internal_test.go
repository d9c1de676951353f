package krylov

import (
	"math"
	"testing"

	"eddy/pde/poisson"
)

// neighbours calls fn with every unknown coupled to i and the matrix entry
// a_ij (negative).
func (l *mgLevel) neighbours(i int, fn func(j int, v float64)) {
	if s := l.st; s != nil {
		strides := [3]int{1, s.Shape[0], s.Shape[0] * s.Shape[1]}
		for a := range s.Dim {
			if j := i - strides[a]; j >= 0 && s.W[a][j] != 0 {
				fn(j, -s.W[a][j])
			}
			if w := s.W[a][i]; w != 0 {
				fn(i+strides[a], -w)
			}
		}
		return
	}
	for p := l.rowPtr[i]; p < l.rowPtr[i+1]; p++ {
		fn(int(l.col[p]), l.val[p])
	}
}

// applyLevel sets dst = A_l x with the level's own operator.
func applyLevel(l *mgLevel, dst, x []float64) {
	if l.st != nil {
		l.st.Apply(dst, x)
		return
	}
	l.applyCSR(dst, x, 0, l.n)
}

// Every level of the hierarchy is the Galerkin product Pᵀ A P of the one
// above, column by column; every active unknown lies in exactly one
// aggregate, whose members are connected through their own couplings; and
// no coupling joins two unknowns of one colour, so red–black sweeps are
// exact Gauss–Seidel half-sweeps.
func TestMGHierarchy(t *testing.T) {
	for _, tc := range []struct {
		scene  string
		dim, n int
	}{{"smoke", 2, 37}, {"random", 2, 64}, {"smoke", 3, 20}, {"random", 3, 16}} {
		c, err := poisson.Scene(tc.scene, tc.dim, tc.n, 5)
		if err != nil {
			t.Fatal(err)
		}
		s := poisson.NewSystem(c)
		m, err := NewMG(s.A, MGOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for li := 0; li+1 < len(m.levels); li++ {
			f, g := m.levels[li], m.levels[li+1]
			seen := make([]int, f.n)
			for a := range g.n {
				mem := f.mem[f.memPtr[a]:f.memPtr[a+1]]
				if len(mem) == 0 {
					t.Fatalf("%s %d-D level %d: aggregate %d is empty", tc.scene, tc.dim, li, a)
				}
				in := map[int]bool{}
				for _, i := range mem {
					seen[i]++
					in[int(i)] = true
					if f.agg[i] != int32(a) {
						t.Fatalf("level %d: member %d of aggregate %d has agg %d", li, i, a, f.agg[i])
					}
				}
				// Connected: a search from the first member through couplings
				// inside the aggregate reaches every member.
				reach := map[int]bool{int(mem[0]): true}
				stack := []int{int(mem[0])}
				for len(stack) > 0 {
					i := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					f.neighbours(i, func(j int, _ float64) {
						if in[j] && !reach[j] {
							reach[j] = true
							stack = append(stack, j)
						}
					})
				}
				if len(reach) != len(mem) {
					t.Errorf("%s %d-D level %d: aggregate %d: %d of %d members connected", tc.scene, tc.dim, li, a, len(reach), len(mem))
				}
			}
			for i := range f.n {
				want := 1
				if !f.active(i) {
					want = 0
				}
				if seen[i] != want {
					t.Fatalf("%s %d-D level %d: unknown %d in %d aggregates, want %d", tc.scene, tc.dim, li, i, seen[i], want)
				}
			}
			// Galerkin: column J of A_c equals Pᵀ A P e_J.
			e, pe, ape := make([]float64, g.n), make([]float64, f.n), make([]float64, f.n)
			col := make([]float64, g.n)
			for J := range g.n {
				e[J] = 1
				clear(pe)
				for i, a := range f.agg {
					if a >= 0 {
						pe[i] = e[a]
					}
				}
				applyLevel(f, ape, pe)
				applyLevel(g, col, e)
				e[J] = 0
				for I := range g.n {
					var want float64
					for _, i := range f.mem[f.memPtr[I]:f.memPtr[I+1]] {
						want += ape[i]
					}
					if math.Abs(col[I]-want) > 1e-12*math.Max(1, math.Abs(want)) {
						t.Fatalf("%s %d-D level %d: A_c[%d,%d] = %g, Pᵀ A P gives %g", tc.scene, tc.dim, li+1, I, J, col[I], want)
					}
				}
			}
			for i := range g.n {
				for p := g.rowPtr[i]; p < g.rowPtr[i+1]; p++ {
					if j := int(g.col[p]); (i < g.nRed) == (j < g.nRed) {
						t.Fatalf("%s %d-D level %d: unknowns %d and %d of one colour are coupled", tc.scene, tc.dim, li+1, i, j)
					}
				}
			}
		}
	}
}

// The fused passes of the finest level (first sweeps, residual with
// restriction, prolongation with the black sweep) give the cycle of the
// separate passes, to rounding, whether split over two goroutines or not.
func TestMGFusedPasses(t *testing.T) {
	for _, tc := range []struct {
		scene  string
		dim, n int
	}{{"random", 2, 301}, {"smoke", 3, 41}, {"random", 3, 34}} {
		c, err := poisson.Scene(tc.scene, tc.dim, tc.n, 2)
		if err != nil {
			t.Fatal(err)
		}
		s := poisson.NewSystem(c)
		b := s.RandomRHS(4)
		for _, o := range []MGOptions{{}, {Nu: 2, VCycle: true}} {
			m, err := NewMG(s.A, o)
			if err != nil {
				t.Fatal(err)
			}
			z1, z2 := make([]float64, s.Len()), make([]float64, s.Len())
			m.Precondition(z1, b)
			m.unfused = true
			m.Precondition(z2, b)
			var d, n2 float64
			for i := range z1 {
				d = max(d, math.Abs(z1[i]-z2[i]))
				n2 = max(n2, math.Abs(z2[i]))
			}
			if d > 1e-12*n2 {
				t.Errorf("%s %d-D %+v: fused and separate passes differ by %g (max |z| %g)", tc.scene, tc.dim, o, d, n2)
			}
		}
	}
}
