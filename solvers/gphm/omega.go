package gphm

import (
	"gonum.org/v1/gonum/mat"
)

// blockOmega is c·Ω of a first-order axis in its skew Schur coordinates
// (axis.whiten, skewSchur): 2×2 blocks [0 μ; −μ 0] on the columns i, p[i]
// and 1×1 zeros, stored as o[i] = c·Ω(i, p[i]) (0 and p[i] = i for a 1×1
// block). An application costs O(n²).
//
// With it the Jacobian of advection, J v = P1 v T2ᵀ + T1 v P2ᵀ with
// P1 = c1 T1 Ω1 and P2 = T2 Ω2, is J v = T1 Ã(v) T2ᵀ, Ã(v) = c1 Ω1 v + v Ω2ᵀ,
// and JᵀJ v = Ãᵀ(G1 Ã(v) G2) with the Gram matrices G_j = T_jᵀT_j: two
// n×n×n products against eight through the factors (kronCG.jtj).
type blockOmega struct {
	o  []float64
	p  []int
	ot []float64 // ot[j] = o[p[j]], the coefficients of Ω's columns (right)
}

func newBlockOmega(om *mat.Dense, pair []int, c float64) *blockOmega {
	n := len(pair)
	b := &blockOmega{o: make([]float64, n), p: make([]int, n), ot: make([]float64, n)}
	for i, q := range pair {
		b.p[i] = i
		if q >= 0 {
			b.o[i], b.p[i] = c*om.At(i, q), q
		}
	}
	for j, q := range b.p {
		b.ot[j] = b.o[q]
	}
	return b
}

// left sets dst = Ω v (trans false) or Ωᵀ v (trans true), Ω acting on the
// rows of v.
func (b *blockOmega) left(dst, v *mat.Dense, trans bool) {
	dr, vr := dst.RawMatrix(), v.RawMatrix()
	for i, q := range b.p {
		c := b.o[i] // (Ω v)_i = Ω(i, q) v_q
		if trans {
			c = b.ot[i] // (Ωᵀ v)_i = Ω(q, i) v_q
		}
		out, vq := dr.Data[i*dr.Stride:i*dr.Stride+dr.Cols], vr.Data[q*vr.Stride:q*vr.Stride+vr.Cols]
		for k, x := range vq {
			out[k] = c * x
		}
	}
}

// right adds v Ωᵀ (trans false) or v Ω (trans true) to dst, Ω acting on the
// columns of v.
func (b *blockOmega) right(dst, v *mat.Dense, trans bool) {
	dr, vr := dst.RawMatrix(), v.RawMatrix()
	c := b.o
	if trans {
		c = b.ot // (v Ω)_rj = v_rq Ω(q, j)
	}
	for r := range vr.Rows {
		out, vi := dr.Data[r*dr.Stride:r*dr.Stride+dr.Cols], vr.Data[r*vr.Stride:r*vr.Stride+vr.Cols]
		for j, q := range b.p {
			out[j] += c[j] * vi[q]
		}
	}
}

// advJacobian is advection's Jacobian J = (T1 ⊗ T2) Ã in blockOmega form
// (see blockOmega); the Gram matrices of T1 and T2 are kronCG's.
type advJacobian struct {
	om1, om2 *blockOmega
}

// newAdvJacobian returns the structured Jacobian of the model's axes, or nil
// when an axis has no skew Schur basis.
func newAdvJacobian(m *model) *advJacobian {
	a1, a2 := m.ax[0], m.ax[1]
	if a1.Pair == nil || a2.Pair == nil {
		return nil
	}
	return &advJacobian{om1: newBlockOmega(a1.Om, a1.Pair, m.c1), om2: newBlockOmega(a2.Om, a2.Pair, 1)}
}

// apply sets out = Ã v (trans false) or Ãᵀ v (trans true).
func (j *advJacobian) apply(out, v *mat.Dense, trans bool) {
	j.om1.left(out, v, trans)
	j.om2.right(out, v, trans)
}

// jtj sets out = JᵀJ v = Ãᵀ(G1 Ã(v) G2) for the Gram matrices g1, g2, with
// s and t as work.
func (j *advJacobian) jtj(v, out, g1, g2, s, t *mat.Dense) {
	j.apply(s, v, false)
	t.Mul(g1, s)
	s.Mul(t, g2)
	j.apply(out, s, true)
}
