package gphm

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// boundaryOp against P formed entry by entry: P[(edge, t), (a, b)] is
// T1[i, a] T2[t, b] on row edge i and T1[t, a] T2[j, b] on column edge j;
// apply is P v and addT adds c Pᵀ s, to rounding (1e-13 of the entries'
// scale: sums of at most n1 n2 products of unit-normal numbers); on a
// corner, apply reads v there only (zero elsewhere) and addT writes out
// there only.
func TestBoundaryOp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rnd := func(r, c int) *mat.Dense { return normalDense(rng, r, c) }
	for _, sz := range [][2]int{{2, 2}, {5, 3}, {9, 14}} {
		n1, n2 := sz[0], sz[1]
		t1, t2, v := rnd(n1, n1), rnd(n2, n2), rnd(n1, n2)
		nb := 2 * (n1 + n2)
		P := mat.NewDense(nb, n1*n2, nil)
		for k, i := range [2]int{0, n1 - 1} {
			for c := range n2 {
				for a := range n1 {
					for b := range n2 {
						P.Set(k*n2+c, a*n2+b, t1.At(i, a)*t2.At(c, b))
					}
				}
			}
		}
		for k, j := range [2]int{0, n2 - 1} {
			for r := range n1 {
				for a := range n1 {
					for b := range n2 {
						P.Set(2*n2+k*n1+r, a*n2+b, t1.At(r, a)*t2.At(j, b))
					}
				}
			}
		}
		op := newBoundaryOp(n1, n2)
		s := make([]float64, nb)
		// The corners: all of the grid, then smaller ones, down to one node.
		for _, c := range [][2]int{{0, 0}, {1, 0}, {n1 / 2, n2 / 3}, {n1 - 1, n2 - 1}} {
			c1, c2 := c[0], c[1]
			vc := mat.DenseCopyOf(v)
			for a := range n1 {
				for b := range n2 {
					if a < c1 || b < c2 {
						vc.Set(a, b, 0)
					}
				}
			}
			op.apply(t1, t2, vc, s, c1, c2)
			var want mat.VecDense
			want.MulVec(P, mat.NewVecDense(n1*n2, vc.RawMatrix().Data))
			for i := range nb {
				if d := math.Abs(s[i] - want.AtVec(i)); d > 1e-13*float64(n1*n2) {
					t.Errorf("%d×%d from (%d, %d): (P v)[%d] = %.15g, want %.15g", n1, n2, c1, c2, i, s[i], want.AtVec(i))
				}
			}
			out := rnd(n1, n2)
			base := mat.DenseCopyOf(out)
			op.addT(t1, t2, s, -0.7, out, c1, c2)
			var pt mat.VecDense
			pt.MulVec(P.T(), mat.NewVecDense(nb, s))
			for a := range n1 {
				for b := range n2 {
					w := base.At(a, b) - 0.7*pt.AtVec(a*n2+b)
					if a < c1 || b < c2 {
						w = base.At(a, b) // outside the corner: left as it was
					}
					if d := math.Abs(out.At(a, b) - w); d > 1e-13*float64(n1*n2)*(1+math.Abs(w)) {
						t.Errorf("%d×%d from (%d, %d): (out − 0.7 Pᵀ s)[%d, %d] = %.15g, want %.15g", n1, n2, c1, c2, a, b, out.At(a, b), w)
					}
				}
			}
		}
	}
}
