package gphm

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// The harmonic preconditioner for advection (newHarmonicAdv). In the skew
// Schur coordinates of the axes (axis.Pair) the operator of J = G A,
// G = T1 ⊗ T2, is A Z = c1 B1 Z + Z B2ᵀ with B_j block diagonal: on a pair
// of 2×2 blocks (α of axis 1, β of axis 2) it is N = c1μ1 E⊗I + μ2 I⊗E,
// E = [0 1; −1 0], which is normal: N = (E⊗I)(s₊P₊ + s₋P₋) with the
// orthogonal projections P± = (I ± E⊗E)/2 and s± = c1μ1 ∓ μ2 (on a 2×2 by
// 1×1 pair it is c1μ1 E, on 1×2 μ2 Eᵀ acting from the right, on 1×1 zero).
// A is invertible but on the pairs where c1μ1 = ±μ2, the transported
// directions f(x − βt) that only the boundary fixes: the first-order
// counterpart of Poisson's discrete harmonic functions.
//
// The interior of the Hessian is I + τ2 AᵀGᵀGA = Aᵀ(τ2 𝒢 + (AAᵀ)⁻¹)A with
// 𝒢 = G1 ⊗ G2, G_j = T_jᵀT_j. In the eigenbasis U1 ⊗ U2 of 𝒢 (G_j = U_j
// diag(g_j) U_jᵀ) the first term is diagonal, τ2 g1_a g2_b; the prior's
// (AAᵀ)⁻¹, block diagonal in the Schur basis, is not, and the
// preconditioner replaces it there by a diagonal δ:
//
//	M = Ãᵀ (U1⊗U2) diag(τ2 g1_a g2_b + δ_ab) (U1⊗U2)ᵀ Ã + β PᵀP,
//
// inverted exactly on its interior (two blockwise solves with Ã and four
// n×n×n products) and by the Woodbury identity on the boundary, as
// newHarmonic does for Poisson. δ_ab is the geometric mean of the two
// diagonal estimates of (AAᵀ)⁻¹ on u1_a ⊗ u2_b: its diagonal,
// Σ_αβ p1_aα p2_bβ (s₊⁻² + s₋⁻²)/2 with p_j,aα = ‖u_j,a on block α‖² (the
// quadratic form of P± on a product vector is half its norm, since
// xᵀEx = 0), and the inverse of AAᵀ's diagonal, the same sum with s±²
// (the one bounds the other from above). Ã is A with s± raised in modulus
// to advFloor/√(τ2 c1 c2), c_j the least ‖T_j e_a‖² over the block.
//
// Why δ: without it (the floor alone standing in for the prior, as for
// Poisson) the directions the prior holds mix with the operator's in
// the 2×2 blocks — a block's two columns of T may differ 500-fold in norm —
// and M underestimated H by up to 7e7 on u = sin 2(x − 3t), β = 3, at 48²
// (F = 1.87, the initial kernel): 2000 CG iterations, the cap. With δ as
// the diagonal alone 292 iterations, as the inverse of AAᵀ's diagonal 148,
// with the geometric mean of the two and a floor of 0.3 102 (the
// Kronecker-sum preconditioner: 2000).
//
// Where the grid is much finer than the kernel's spectrum δ stands in for
// the prior poorly: along runs on [0, 1]² at 56² with F = 5, and on
// [0, 1] × [0, 0.3] at 64² with F = 8, 1300 to 2000 iterations per solve;
// on preset adv's problem at 200² the preconditioned operator's Ritz
// values span 7.7e-4 to 3e4 (the Kronecker sum's 3.6e-5 to 4). pick tries
// the Kronecker sum first and this one as a probe (pcOrderAdvection,
// pcCostAdvection). The jitter directions of the Gram matrices would need a
// second level there, as tailSolve is for Poisson.
type advBlocks struct {
	pair   [2][]int
	sp, sm *mat.Dense // floored s₊ and s₋ (s alone for 1×2, 2×1, 1×1) at each block pair's first entry
	u1, u2 *mat.Dense // eigenvectors of G_j
	u1t    mat.Matrix // their transposes, boxed once
	u2t    mat.Matrix
	mid    *mat.Dense // 1/(τ2 g1_a g2_b + δ_ab)
	tmp    *mat.Dense
}

// advFloor scales the floor of Ã's singular values (see advBlocks): 0.1,
// 0.3, 1 and 3 took 149, 102, 142 and 589 CG iterations on the problem
// there.
const advFloor = 0.3

// blocks calls f for every pair of blocks: its first row a, rows na (1 or
// 2), first column b, columns nb.
func (ab *advBlocks) blocks(f func(a, na, b, nb int)) {
	p1, p2 := ab.pair[0], ab.pair[1]
	for a := 0; a < len(p1); {
		na := 1
		if p1[a] == a+1 {
			na = 2
		}
		for b := 0; b < len(p2); {
			nb := 1
			if p2[b] == b+1 {
				nb = 2
			}
			f(a, na, b, nb)
			b += nb
		}
		a += na
	}
}

// solve overwrites x with Ã⁻¹x (trans false) or Ã⁻ᵀx (trans true), block by
// block: on a 2×2 pair Ã⁻¹X = D(EᵀX) and Ã⁻ᵀX = E D(X) with
// D(X) = (X + EXEᵀ)/(2s₊) + (X − EXEᵀ)/(2s₋).
func (ab *advBlocks) solve(x *mat.Dense, trans bool) {
	xr := x.RawMatrix()
	st, d := xr.Stride, xr.Data
	spr, smr := ab.sp.RawMatrix(), ab.sm.RawMatrix()
	p1, p2 := ab.pair[0], ab.pair[1]
	// The loops of blocks, written out: a closure here would allocate at
	// every CG iteration.
	for a, na := 0, 1; a < len(p1); a += na {
		na = 1
		if p1[a] == a+1 {
			na = 2
		}
		for b, nb := 0, 1; b < len(p2); b += nb {
			nb = 1
			if p2[b] == b+1 {
				nb = 2
			}
			solveBlock(d, a*st+b, st, na, nb, spr.Data[a*spr.Stride+b], smr.Data[a*smr.Stride+b], trans)
		}
	}
}

// solveBlock is solve on the block pair at d[i] (rows na, columns nb, row
// stride st) with its s₊ = s and s₋ = sm.
func solveBlock(d []float64, i, st, na, nb int, s, sm float64, trans bool) {
	switch {
	case na == 2 && nb == 2:
		x00, x01, x10, x11 := d[i], d[i+1], d[i+st], d[i+st+1]
		if !trans {
			x00, x01, x10, x11 = -x10, -x11, x00, x01 // EᵀX
		}
		// EXEᵀ = [x11 −x10; −x01 x00].
		p, m := 0.5/s, 0.5/sm
		y00 := p*(x00+x11) + m*(x00-x11)
		y01 := p*(x01-x10) + m*(x01+x10)
		y10 := p*(x10-x01) + m*(x10+x01)
		y11 := p*(x11+x00) + m*(x11-x00)
		if trans {
			y00, y01, y10, y11 = y10, y11, -y00, -y01 // E Y
		}
		d[i], d[i+1], d[i+st], d[i+st+1] = y00, y01, y10, y11
	case na == 1 && nb == 2: // Ã z = s z Eᵀ
		x0, x1 := d[i], d[i+1]
		if trans {
			d[i], d[i+1] = x1/s, -x0/s
		} else {
			d[i], d[i+1] = -x1/s, x0/s
		}
	case na == 2 && nb == 1: // Ã z = s E z
		x0, x1 := d[i], d[i+st]
		if trans {
			d[i], d[i+st] = x1/s, -x0/s
		} else {
			d[i], d[i+st] = -x1/s, x0/s
		}
	default:
		d[i] /= s
	}
}

// interior sets out = (Ãᵀ(U1⊗U2) diag(1/mid) (U1⊗U2)ᵀÃ)⁻¹ r, using x and w
// as work.
func (ab *advBlocks) interior(r, out, x, w *mat.Dense) {
	x.Copy(r)
	ab.solve(x, true)
	w.Mul(ab.u1t, x)
	ab.tmp.Mul(w, ab.u2)
	ab.tmp.MulElem(ab.tmp, ab.mid)
	w.Mul(ab.u1, ab.tmp)
	out.Mul(w, ab.u2t)
	ab.solve(out, false)
}

// floorTo returns v raised in modulus to f (f itself for v = 0).
func floorTo(v, f float64) float64 {
	if math.Abs(v) >= f {
		return v
	}
	if v < 0 {
		return -f
	}
	return f
}

// newHarmonicAdv builds the harmonic preconditioner of advection (see
// advBlocks) for the factors of e, the axes of m and precisions lt; nil
// when the axes have no skew Schur basis or S is not positive definite. The
// boundary system S = β⁻¹I + P M_int⁻¹ Pᵀ is formed column by column, one
// interior solve per boundary row (M_int has no Kronecker form to assemble
// it by blocks, as harmonicS does): 8(n1 + n2) n×n×n products, what about
// 2(n1 + n2)/3 CG iterations with it cost.
func newHarmonicAdv(m *model, e *exactU, lt [2]float64) *harmonic {
	a1, a2 := m.ax[0], m.ax[1]
	if a1.Pair == nil || a2.Pair == nil {
		return nil
	}
	n1, n2 := e.n1, e.n2
	tau2 := math.Exp(lt[1])
	beta := m.lambdaB * math.Exp(lt[0])
	h := &harmonic{tau2: tau2, n1: n1, n2: n2, nbd: 2 * (n1 + n2), start: [2]int{n1, n2}, floored: [2]int{n1, n2},
		t1: e.t1, t2: e.t2}
	ab := &advBlocks{pair: [2][]int{a1.Pair, a2.Pair}, sp: mat.NewDense(n1, n2, nil), sm: mat.NewDense(n1, n2, nil),
		tmp: mat.NewDense(n1, n2, nil), mid: mat.NewDense(n1, n2, nil)}
	// G_j = U_j diag(g_j) U_jᵀ; its diagonal is ‖T_j e_a‖².
	var g [2][]float64
	var cs [2][]float64
	for j, t := range [2]*mat.Dense{e.t1, e.t2} {
		gj, vals, u, ok := gramEigen(t)
		if !ok {
			return nil
		}
		n, _ := t.Dims()
		cs[j] = make([]float64, n)
		for a := range n {
			cs[j][a] = gj.At(a, a)
		}
		g[j] = vals
		if j == 0 {
			ab.u1 = u
		} else {
			ab.u2 = u
		}
	}
	mu := func(ax *axis, a, na int) float64 {
		if na == 1 {
			return 0
		}
		return ax.Om.At(a, a+1)
	}
	least := func(c []float64, a, na int) float64 {
		if na == 2 {
			return math.Min(c[a], c[a+1])
		}
		return c[a]
	}
	// Ã's s± and the two block sums of δ.
	wi, wd := mat.NewDense(n1, n2, nil), mat.NewDense(n1, n2, nil)
	ab.blocks(func(a, na, b, nb int) {
		f := advFloor / math.Sqrt(tau2*least(cs[0], a, na)*least(cs[1], b, nb))
		m1, m2 := m.c1*mu(a1, a, na), mu(a2, b, nb)
		sp, sm := floorTo(m1-m2, f), floorTo(m1+m2, f)
		if na == 1 || nb == 1 {
			sp = floorTo(m1+m2, f) // one of the two is zero
			sm = sp
		}
		ab.sp.Set(a, b, sp)
		ab.sm.Set(a, b, sm)
		wi.Set(a, b, 0.5*(1/(sp*sp)+1/(sm*sm)))
		wd.Set(a, b, 0.5*(sp*sp+sm*sm))
	})
	// p_j[a, α] = ‖u_j,a on block α‖², in the column of the block's first row.
	blockNorms := func(u *mat.Dense, pair []int) *mat.Dense {
		n, _ := u.Dims()
		p := mat.NewDense(n, n, nil)
		for i := 0; i < n; {
			r := u.RawRowView(i)
			if pair[i] == i+1 {
				r2 := u.RawRowView(i + 1)
				for a := range n {
					p.Set(a, i, r[a]*r[a]+r2[a]*r2[a])
				}
				i += 2
				continue
			}
			for a := range n {
				p.Set(a, i, r[a]*r[a])
			}
			i++
		}
		return p
	}
	p1, p2 := blockNorms(ab.u1, a1.Pair), blockNorms(ab.u2, a2.Pair)
	var t, di, dd mat.Dense
	t.Mul(p1, wi)
	di.Mul(&t, p2.T())
	t.Mul(p1, wd)
	dd.Mul(&t, p2.T())
	for a := range n1 {
		for b := range n2 {
			delta := math.Sqrt(di.At(a, b) / dd.At(a, b))
			ab.mid.Set(a, b, 1/(tau2*g[0][a]*g[1][b]+delta))
		}
	}
	ab.u1t, ab.u2t = ab.u1.T(), ab.u2.T()
	h.adv = ab
	h.allocWork()
	// S = β⁻¹I + P M_int⁻¹ Pᵀ, column by column, symmetrised.
	C := mat.NewDense(h.nbd, h.nbd, nil)
	ek, col := make([]float64, h.nbd), make([]float64, h.nbd)
	X, Y := mat.NewDense(n1, n2, nil), mat.NewDense(n1, n2, nil)
	for k := range h.nbd {
		clear(ek)
		ek[k] = 1
		X.Zero()
		h.bnd.addT(h.t1, h.t2, ek, 1, X, 0, 0)
		h.interior(X, Y)
		h.bnd.apply(h.t1, h.t2, Y, col, 0, 0)
		C.SetCol(k, col)
	}
	S := mat.NewSymDense(h.nbd, nil)
	for i := range h.nbd {
		for j := i; j < h.nbd; j++ {
			S.SetSym(i, j, 0.5*(C.At(i, j)+C.At(j, i)))
		}
		S.SetSym(i, i, S.At(i, i)+1/beta)
	}
	var ok bool
	if h.su, ok = cholUpper(S); !ok {
		return nil
	}
	return h
}
