package gphm

import (
	"gonum.org/v1/gonum/mat"
)

// Trend degrees: the solution is modelled as u = Σ_k β_k φ_k + v, a
// polynomial trend with coefficients β under a flat prior plus the GP v
// (universal kriging). In 1-D the basis is the Legendre polynomials of degree
// ≤ 3 in the scaled coordinate s = 2(x − x0)/L − 1; in 2-D the products
// P_a(s) P_b(t) of total degree a + b ≤ 2 (six functions).
//
// A polynomial part is what a stationary kernel with a nugget of 1e-6·k(0)
// represents worst: x² on [0, 2] needs eigen-directions of K far below the
// nugget, and the relative nugget stalled near 1e-2 on sin(3x) + x² (see
// axis.nugget). With the trend the polynomial part costs nothing in the prior
// and is fitted exactly by the linear solve; the GP carries the rest.
const (
	trendDegree1D = 3
	trendDegree2D = 2
)

// trend is the polynomial basis on the grid of a model.
type trend struct {
	// exps[k] = (a, b): φ_k(x, y) = P_a(s(x)) P_b(t(y)) (b = 0 in 1-D).
	exps [][2]int
	// Phi[k] holds φ_k on the grid nodes and LPhi[k] the linear part of the
	// PDE operator applied to it (c1 ∂^o_x + ∂^o_y, o the order), n1×n2.
	Phi, LPhi []*mat.Dense
}

// legendre returns P_k(s(x)) and its first two x-derivatives, k = 0..deg, on
// axis a, s = 2(x − x0)/L − 1.
func (a *axis) legendre(x float64, deg int) (p, d1, d2 []float64) {
	L := a.length()
	s := 2*(x-a.x0)/L - 1
	ds := 2 / L
	p, d1, d2 = make([]float64, deg+1), make([]float64, deg+1), make([]float64, deg+1)
	p[0] = 1
	if deg >= 1 {
		p[1], d1[1] = s, 1
	}
	for k := 1; k < deg; k++ {
		fk := float64(k)
		p[k+1] = ((2*fk+1)*s*p[k] - fk*p[k-1]) / (fk + 1)
		d1[k+1] = d1[k-1] + (2*fk+1)*p[k]
		d2[k+1] = d2[k-1] + (2*fk+1)*d1[k]
	}
	for k := range p {
		d1[k] *= ds
		d2[k] *= ds * ds
	}
	return p, d1, d2
}

// axisBasis returns the Legendre values and the order-th derivatives at the
// points xs, deg+1 columns: vals[i][k], ders[i][k].
func (a *axis) axisBasis(xs []float64, deg, order int) (vals, ders [][]float64) {
	for _, x := range xs {
		p, d1, d2 := a.legendre(x, deg)
		vals = append(vals, p)
		if order == 1 {
			ders = append(ders, d1)
		} else {
			ders = append(ders, d2)
		}
	}
	return vals, ders
}

// newTrend builds the trend basis on the grid of m.
func newTrend(m *model) *trend {
	t := &trend{}
	if len(m.ax) == 1 {
		for a := 0; a <= trendDegree1D; a++ {
			t.exps = append(t.exps, [2]int{a, 0})
		}
	} else {
		for d := 0; d <= trendDegree2D; d++ {
			for a := d; a >= 0; a-- {
				t.exps = append(t.exps, [2]int{a, d - a})
			}
		}
	}
	for range t.exps {
		t.Phi = append(t.Phi, mat.NewDense(m.n1, m.n2, nil))
		t.LPhi = append(t.LPhi, mat.NewDense(m.n1, m.n2, nil))
	}
	var ys []float64
	if len(m.ax) == 2 {
		ys = coords(m.ax[1])
	}
	t.eval(m, coords(m.ax[0]), ys, t.Phi, t.LPhi)
	return t
}

// eval writes φ_k and the linear part of the operator applied to φ_k on the
// mesh xs × ys (ys ignored in 1-D) into vals[k] and ops[k] (len(xs)×len(ys),
// or len(xs)×1).
func (t *trend) eval(m *model, xs, ys []float64, vals, ops []*mat.Dense) {
	deg := trendDegree1D
	if len(m.ax) == 2 {
		deg = trendDegree2D
	}
	o := m.pde.order()
	v1, d1 := m.ax[0].axisBasis(xs, deg, o)
	v2, d2 := [][]float64{{1}}, [][]float64{{0}}
	if len(m.ax) == 2 {
		v2, d2 = m.ax[1].axisBasis(ys, deg, o)
	}
	for k, e := range t.exps {
		for i := range v1 {
			for j := range v2 {
				vals[k].Set(i, j, v1[i][e[0]]*v2[j][e[1]])
				op := m.c1 * d1[i][e[0]] * v2[j][e[1]]
				if len(m.ax) == 2 {
					op += v1[i][e[0]] * d2[j][e[1]]
				}
				ops[k].Set(i, j, op)
			}
		}
	}
}

// combine sets dst = Σ_k beta_k src[k] (all of dst's shape).
func combine(dst *mat.Dense, beta []float64, src []*mat.Dense) {
	dst.Zero()
	dr := dst.RawMatrix()
	for k, b := range beta {
		sr := src[k].RawMatrix()
		for i := range dr.Rows {
			d := dr.Data[i*dr.Stride : i*dr.Stride+dr.Cols]
			for j, v := range sr.Data[i*sr.Stride : i*sr.Stride+sr.Cols] {
				d[j] += b * v
			}
		}
	}
}

// setBeta sets the trend coefficients of m and its fields off = Σ β_k φ_k
// and offL = Σ β_k L φ_k on the grid; beta nil removes the trend.
func (m *model) setBeta(beta []float64) {
	if beta == nil || m.tr == nil {
		m.beta, m.off, m.offL = nil, nil, nil
		return
	}
	m.beta = append(m.beta[:0], beta...)
	if m.off == nil {
		m.off, m.offL = mat.NewDense(m.n1, m.n2, nil), mat.NewDense(m.n1, m.n2, nil)
	}
	combine(m.off, beta, m.tr.Phi)
	combine(m.offL, beta, m.tr.LPhi)
}
