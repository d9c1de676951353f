package gphm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// boundaryOp applies P = B (T1 ⊗ T2), the boundary values of the grid
// U = T1 v T2ᵀ — rows 0 and n1−1, then columns 0 and n2−1, corners twice —
// and its transpose, for the boundary term of the Hessian (kronCG's
// addBoundary) and the harmonic preconditioner's Woodbury correction. The
// boundary vector s is laid out as the two rows (n2 each), then the two
// columns (n1 each).
//
// Each side is a few products with two rows or columns, read as blas64 views
// of the end rows of T_j (a stride of n − 1 rows), so that v is read twice
// and out updated once by a rank-4 product; by matrix–vector products per
// row and column, and four rank-1 passes over out, the boundary term took
// about a quarter of a Hessian product's time at 400².
type boundaryOp struct {
	n1, n2 int
	// work: E1 v (2×n2), v E2ᵀ (n1×2), W1 (2×n2), W2ᵀ (2×n1), L (n1×4),
	// R (4×n2)
	ev, ve, w1, w2, l, r []float64
}

func newBoundaryOp(n1, n2 int) *boundaryOp {
	return &boundaryOp{n1: n1, n2: n2,
		ev: make([]float64, 2*n2), ve: make([]float64, 2*n1),
		w1: make([]float64, 2*n2), w2: make([]float64, 2*n1),
		l: make([]float64, 4*n1), r: make([]float64, 4*n2)}
}

// endRows is the 2×n view of rows 0 and n−1 of the n×n matrix t.
func endRows(t *mat.Dense) blas64.General {
	g := t.RawMatrix()
	return blas64.General{Rows: 2, Cols: g.Cols, Stride: (g.Rows - 1) * g.Stride, Data: g.Data[:(g.Rows-1)*g.Stride+g.Cols]}
}

// gen is the r×c row-major blas64 view of d.
func gen(r, c int, d []float64) blas64.General {
	return blas64.General{Rows: r, Cols: c, Stride: c, Data: d[:r*c]}
}

// apply sets s = P v with the factors t1, t2, for v zero outside its corner
// [c1, n1) × [c2, n2) (c1 = c2 = 0: any v): the products then read only the
// corner of v and the columns of T_j it meets.
func (b *boundaryOp) apply(t1, t2, v *mat.Dense, s []float64, c1, c2 int) {
	n1, n2 := b.n1, b.n2
	f1, f2 := n1-c1, n2-c2
	vc := corner(v, c1, c2)
	e1, e2 := endRows(t1), endRows(t2)
	// Rows: U[i, :] = (T1[i, :] v) T2ᵀ.
	ev := gen(2, f2, b.ev)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, corner2(e1, 0, c1), vc, 0, ev)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, ev, corner(t2, 0, c2), 0, gen(2, n2, s))
	// Columns, transposed: U[:, j]ᵀ = (v T2[j, :]ᵀ)ᵀ T1ᵀ.
	ve := gen(f1, 2, b.ve)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, vc, corner2(e2, 0, c2), 0, ve)
	blas64.Gemm(blas.Trans, blas.Trans, 1, ve, corner(t1, 0, c1), 0, gen(2, n1, s[2*n2:]))
}

// addT adds c Pᵀ s to out on its corner [c1, n1) × [c2, n2) (c1 = c2 = 0:
// all of it), leaving the rest: c Σ_rows T1[i, :]ᵀ ⊗ (s_i T2) + c Σ_cols
// (s_j T1)ᵀ ⊗ T2[j, :], the two sums as one f1×4 by 4×f2 product.
func (b *boundaryOp) addT(t1, t2 *mat.Dense, s []float64, c float64, out *mat.Dense, c1, c2 int) {
	n1, n2 := b.n1, b.n2
	f1, f2 := n1-c1, n2-c2
	w1, w2 := gen(2, f2, b.w1), gen(2, f1, b.w2)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(2, n2, s), corner(t2, 0, c2), 0, w1)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, gen(2, n1, s[2*n2:]), corner(t1, 0, c1), 0, w2)
	e1, e2 := endRows(t1), endRows(t2)
	for a := range f1 {
		l := b.l[4*a : 4*a+4]
		l[0], l[1] = e1.Data[c1+a], e1.Data[e1.Stride+c1+a]
		l[2], l[3] = w2.Data[a], w2.Data[f1+a]
	}
	copy(b.r, w1.Data)
	copy(b.r[2*f2:3*f2], e2.Data[c2:n2])
	copy(b.r[3*f2:4*f2], e2.Data[e2.Stride+c2:e2.Stride+n2])
	blas64.Gemm(blas.NoTrans, blas.NoTrans, c, gen(f1, 4, b.l), gen(4, f2, b.r), 1, corner(out, c1, c2))
}

// corner is the view of x from row r0 and column c0 on.
func corner(x *mat.Dense, r0, c0 int) blas64.General {
	return corner2(x.RawMatrix(), r0, c0)
}

// corner2 is corner for a blas64 view.
func corner2(g blas64.General, r0, c0 int) blas64.General {
	return blas64.General{Rows: g.Rows - r0, Cols: g.Cols - c0, Stride: g.Stride, Data: g.Data[r0*g.Stride+c0:]}
}
