package gphm

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// crossCov returns the len(xs)×a.n matrix k(xs_i − x_j) of the axis kernel
// between the points xs and the grid. Cost len(xs)·n·Q kernel evaluations.
func (a *axis) crossCov(xs []float64) *mat.Dense {
	c := mat.NewDense(len(xs), a.n, nil)
	s := a.spec
	w := make([]float64, s.Q())
	for q := range w {
		w[q] = math.Exp(s.LogW[q])
	}
	for i, x := range xs {
		row := c.RawRowView(i)
		for j := range a.n {
			z := x - a.coord(j)
			v := 0.0
			for q := range w {
				g, _, _ := component(a.kind, s.LogLS[q], s.Mu[q], z)
				v += w[q] * g[0]
			}
			row[j] = v
		}
	}
	return c
}

// predict returns the posterior mean on the tensor mesh xs × ys (ys ignored in
// 1-D), u(x*, y*) = k1(x*, X1) K1⁻¹ U K2⁻¹ k2(X2, y*) (spec §2.2) plus the
// trend, as a
// len(xs)×len(ys) matrix (len(xs)×1 in 1-D). The weights K1⁻¹ U K2⁻¹ come from
// triangular solves: off the grid the mean amplifies any error of the weights
// along eigenvectors of K near the jitter, which an explicit inverse (relative
// error up to 1e-16·cond K ≈ 1e-6 and more) does not resolve.
func (m *model) predict(U *mat.Dense, xs, ys []float64) *mat.Dense {
	a1 := m.ax[0]
	A := mat.DenseCopyOf(U)
	a1.solveLeft(A)
	c1 := a1.crossCov(xs)
	if len(m.ax) == 1 {
		return m.meanAt(c1, A, nil, xs, nil)
	}
	a2 := m.ax[1]
	a2.solveRight(A)
	return m.meanAt(c1, A, a2.crossCov(ys), xs, ys)
}

// meanAt returns the posterior mean on the mesh xs × ys from the weights
// A = K1⁻¹ U K2⁻¹ (K1⁻¹ U in 1-D) and the cross-covariances c1, c2 of the
// mesh's points with the grid (axis.crossCov; c2 nil in 1-D): c1 A c2ᵀ plus
// the trend. The two products go in the cheaper order, so that a mesh with
// few points on one axis (the check residual's boundary points) costs no
// n×n×n product.
func (m *model) meanAt(c1, A, c2 *mat.Dense, xs, ys []float64) *mat.Dense {
	r1, n1 := c1.Dims()
	out := new(mat.Dense)
	if c2 == nil {
		out.Mul(c1, A)
		m.addTrend(out, xs, nil)
		return out
	}
	r2, n2 := c2.Dims()
	var t mat.Dense
	if r1*n2*(n1+r2) <= r2*n1*(n2+r1) {
		t.Mul(c1, A)
		out.Mul(&t, c2.T())
	} else {
		t.Mul(A, c2.T())
		out.Mul(c1, &t)
	}
	m.addTrend(out, xs, ys)
	return out
}

// addTrend adds the trend of m on the mesh xs × ys to out (nothing without
// a trend).
func (m *model) addTrend(out *mat.Dense, xs, ys []float64) {
	if m.tr == nil || m.beta == nil {
		return
	}
	r, c := out.Dims()
	vals, ops := make([]*mat.Dense, len(m.beta)), make([]*mat.Dense, len(m.beta))
	for k := range vals {
		vals[k], ops[k] = mat.NewDense(r, c, nil), mat.NewDense(r, c, nil)
	}
	m.tr.eval(m, xs, ys, vals, ops)
	t := mat.NewDense(r, c, nil)
	combine(t, m.beta, vals)
	out.Add(out, t)
}
