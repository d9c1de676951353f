package gphm

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// exactU minimises −L over the grid values for fixed kernel parameters and
// noise precisions, by Newton (Poisson, advection) or Gauss–Newton (Allen–Cahn)
// steps with a dense factorisation. It works in whitened coordinates
// U = T1 Z T2ᵀ (axis.whiten; in 1-D U = T1 Z), where the objective reads
//
//	Φ(Z) = ½‖Z‖² + ½ λ_b τ1 ‖B(T1 Z T2ᵀ) − g‖² + ½ τ2 ‖P1 Z T2ᵀ + T1 Z P2ᵀ + N(U) − F‖²,
//
// with P1 = c1 T1 Ω1 and P2 = T2 Ω2, so that neither K⁻¹ nor the operator
// D = Kd K⁻¹ is ever formed. The Hessian (Gauss–Newton for Allen–Cahn)
//
//	H = I + τ2 JᵀJ + λ_b τ1 BᵀB,    J = P1⊗T2 + T1⊗P2 + diag(3U² − 1)(T1⊗T2),
//
// is assembled from n×n factors (O(M² n) for M = n1 n2 nodes; in 1-D as one
// product, hessian1), scaled to unit diagonal and factorised by Cholesky
// (M³/3). In these coordinates the
// directions the prior alone determines (where K is near its jitter) are
// decoupled from the residual, and the scaled Hessian has a condition number
// near cond(Tᵀ T) instead of the ≈ 1e20 of the same system written in U with
// K⁻¹ and D formed explicitly; that system left errors in U along those
// directions which are invisible on the grid but dominate the mean between the
// nodes. Each Newton step computes the gradient from the operators, so repeated
// steps also refine the solution iteratively.
type exactU struct {
	n1, n2, m int
	t1, p1    *mat.Dense // n1×n1
	t2, p2    *mat.Dense // n2×n2 (1×1 identity and zero in 1-D)
	// Factors of the Kronecker assembly: XᵀY products per axis and the boundary
	// outer products Σ_{i ∈ ends} T[i,:]ᵀ T[i,:].
	// In 1-D only bnd is set.
	f1, f2 [6]*mat.Dense // [PᵀP, PᵀT, TᵀP, TᵀT, bnd, unused]
	// y1 and yy are, in 1-D, the work matrices Y = P1 + diag(3U² − 1) T1
	// and YᵀY of hessian1.
	y1, yy *mat.Dense
	// h holds H scaled to unit diagonal (upper triangle), then, once
	// factorised, its upper Cholesky factor fac in place.
	h     *mat.SymDense
	scale []float64
	fac   blas64.Triangular
	// Work space.
	u, r, w, gz, step, q *mat.Dense
	hasH                 bool
	// Trend (trend.go): coefficients β, ∇_β Φ, and the Hessian blocks of
	// cross; all nil without a trend.
	beta, gb []float64
	cols, qs []*mat.Dense
	hbb      *mat.SymDense
	// fixed holds β where it is (uSolver.trendFixed).
	fixed bool
	// bt holds, in 1-D, the rows of the mean map T̃ = T − εT⁻ᵀ at the two
	// ends, which the boundary term compares with the data.
	bt [][]float64
}

func newExactU(n1, n2 int) *exactU {
	m := n1 * n2
	e := &exactU{n1: n1, n2: n2, m: m}
	nd := func() *mat.Dense { return mat.NewDense(n1, n2, nil) }
	e.u, e.r, e.w, e.gz, e.step, e.q = nd(), nd(), nd(), nd(), nd(), nd()
	return e
}

// prepare whitens the axes of m and builds the per-axis factors. It must be
// called after every kernel update.
func (e *exactU) prepare(m *model) { e.prepareFactors(m, true) }

// prepareFactors is prepare; without the Kronecker factors of the dense
// Hessian if dense is false.
//
// The axes are whitened with their eigendecomposition (Ω diagonal) in 1-D
// too, where the Hessian is formed densely and any whitening T = Rᵀ Q (Q
// orthogonal) gives the same Φ up to the rotation Z ↦ Qᵀ Z: with T = Rᵀ every
// column of P mixes the directions the residual fixes with those only the
// prior does, the identity of H is lost to rounding against τ2 PᵀP (diagonal
// 1e12 to 1e16 on preset ac2), and the Cholesky factorisation fails.
func (e *exactU) prepareFactors(m *model, dense bool) {
	e.hasH = false
	twoD := len(m.ax) == 2
	a1 := m.ax[0]
	a1.whiten(true)
	e.t1 = a1.T
	e.p1 = a1.tOmega()
	if m.c1 != 1 {
		e.p1.Scale(m.c1, e.p1)
	}
	if twoD {
		a2 := m.ax[1]
		a2.whiten(true)
		e.t2 = a2.T
		e.p2 = a2.tOmega()
	} else {
		e.t2 = mat.NewDense(1, 1, []float64{1})
		e.p2 = mat.NewDense(1, 1, []float64{0})
	}
	// factors returns PᵀP, PᵀT, TᵀP = (PᵀT)ᵀ, TᵀT and the outer products of
	// the end rows of T.
	factors := func(t, p *mat.Dense) [6]*mat.Dense {
		n, _ := t.Dims()
		var f [6]*mat.Dense
		for k := range 5 {
			f[k] = mat.NewDense(n, n, nil)
		}
		f[0].Mul(p.T(), p)
		f[1].Mul(p.T(), t)
		f[2].Copy(f[1].T())
		f[3].Mul(t.T(), t)
		for _, i := range []int{0, n - 1} {
			addOuter(f[4], t.RawRowView(i))
		}
		return f
	}
	e.bt = nil
	if !twoD {
		// Rows of the mean map T̃ = T − ε T⁻ᵀ at the two ends (model.boundaryValue):
		// the posterior mean at node i is T̃[i,:] Z.
		for _, i := range []int{0, e.n1 - 1} {
			x := mat.NewDense(e.n1, 1, nil)
			x.Set(i, 0, 1)
			a1.toWhite(x) // T⁻¹ e_i, the i-th row of T⁻ᵀ
			row := make([]float64, e.n1)
			for a := range row {
				row[a] = e.t1.At(i, a) - a1.jit*x.At(a, 0)
			}
			e.bt = append(e.bt, row)
		}
	}
	if !dense {
		return
	}
	if twoD {
		e.f1 = factors(e.t1, e.p1)
		e.f2 = factors(e.t2, e.p2)
		return
	}
	// 1-D: only the boundary rows' outer products (hessian1 forms τ2 YᵀY).
	bnd := mat.NewDense(e.n1, e.n1, nil)
	for _, row := range e.bt {
		addOuter(bnd, row)
	}
	e.f1 = [6]*mat.Dense{4: bnd}
}

// addOuter adds the outer product x xᵀ to the square matrix dst.
func addOuter(dst *mat.Dense, x []float64) {
	for a, xa := range x {
		row := dst.RawRowView(a)
		for b, xb := range x {
			row[b] += xa * xb
		}
	}
}

// fromU sets Z = T1⁻¹ U T2⁻ᵀ, the whitened coordinates of the grid values U
// for the current factors (used to warm-start after a kernel update).
func (e *exactU) fromU(m *model, U, Z *mat.Dense) {
	Z.Copy(U)
	m.ax[0].toWhite(Z)
	if len(m.ax) == 2 {
		var t mat.Dense
		t.CloneFrom(Z.T())
		m.ax[1].toWhite(&t)
		Z.Copy(t.T())
	}
}

// toU sets e.u = T1 Z T2ᵀ.
func (e *exactU) toU(Z *mat.Dense) {
	e.w.Mul(e.t1, Z)
	e.u.Mul(e.w, e.t2.T())
}

// value returns Φ(Z, β) for the GP's whitened coordinates Z and the trend
// coefficients e.beta and, if g is not nil, writes ∇_Z Φ into g and ∇_β Φ
// into e.gb. It leaves the GP's grid values T1 Z T2ᵀ in e.u, the residual in
// e.r and the trend of e.beta in m (setBeta).
func (e *exactU) value(m *model, Z *mat.Dense, lt [2]float64, g *mat.Dense) float64 {
	tau1, tau2 := math.Exp(lt[0]), math.Exp(lt[1])
	if m.tr != nil {
		m.setBeta(e.beta)
	}
	e.toU(Z)
	// R = P1 Z T2ᵀ + T1 Z P2ᵀ + L(trend) + N(u) − F.
	e.w.Mul(e.p1, Z)
	e.r.Mul(e.w, e.t2.T())
	e.w.Mul(e.t1, Z)
	e.step.Mul(e.w, e.p2.T())
	e.r.Add(e.r, e.step)
	e.r.Sub(e.r, m.F)
	if m.offL != nil {
		e.r.Add(e.r, m.offL)
	}
	rr := e.r.RawMatrix()
	if !m.pde.Linear() {
		for i := range e.n1 {
			for j := range e.n2 {
				u := m.total(e.u, i, j)
				rr.Data[i*rr.Stride+j] += m.react(u)
			}
		}
	}
	val := 0.5*frob(Z, Z) + 0.5*tau2*frob(e.r, e.r)
	// Boundary misfit, scattered onto the grid for the gradient (2-D); in
	// 1-D the mean at the ends is compared (e.bt, model.boundaryValue).
	lb := m.lambdaB * tau1
	e.step.Zero()
	sr := e.step.RawMatrix()
	var bd [2]float64
	for k, idx := range m.bIdx {
		i, j := idx/e.n2, idx%e.n2
		if e.bt != nil {
			v := m.total(e.u, i, j) - e.u.At(i, j)
			for a, x := range e.bt[k] {
				v += x * Z.At(a, 0)
			}
			d := v - m.g[k]
			val += 0.5 * lb * d * d
			bd[k] = lb * d
			continue
		}
		d := m.total(e.u, i, j) - m.g[k]
		val += 0.5 * lb * d * d
		sr.Data[i*sr.Stride+j] += lb * d
	}
	if g == nil {
		return val
	}
	// ∇Φ = Z + τ2 Jᵀ R + Tᵀ(boundary) with Jᵀ R = P1ᵀ R T2 + T1ᵀ R P2 + T1ᵀ(d∘R)T2.
	if !m.pde.Linear() {
		for i := range e.n1 {
			for j := range e.n2 {
				u := m.total(e.u, i, j)
				sr.Data[i*sr.Stride+j] += tau2 * m.reactSlope(u) * rr.Data[i*rr.Stride+j]
			}
		}
	}
	if m.tr != nil {
		// ∂Φ/∂β_k = ⟨φ_k, S⟩ + τ2 ⟨L φ_k, R⟩, S the scattered terms above.
		for k := range e.gb {
			e.gb[k] = frob(m.tr.Phi[k], e.step) + tau2*frob(m.tr.LPhi[k], e.r)
			if e.bt != nil {
				for b, idx := range m.bIdx {
					e.gb[k] += bd[b] * m.tr.Phi[k].At(idx, 0)
				}
			}
		}
	}
	e.pull(e.r, e.step, tau2, g)
	g.Add(g, Z)
	for b, row := range e.bt {
		gr := g.RawMatrix()
		for a, x := range row {
			gr.Data[a*gr.Stride] += bd[b] * x
		}
	}
	return val
}

// pull sets out = T1ᵀ S T2 + τ2 (P1ᵀ Q T2 + T1ᵀ Q P2): the adjoint of the
// map from Z to (residual, grid values) applied to a residual field Q and a
// field S on the grid. It uses e.w and e.q as work space.
func (e *exactU) pull(Q, S *mat.Dense, tau2 float64, out *mat.Dense) {
	e.w.Mul(e.t1.T(), S)
	out.Mul(e.w, e.t2)
	e.w.Mul(e.p1.T(), Q)
	e.q.Mul(e.w, e.t2)
	out.Add(out, scaled(e.q, tau2, e.q))
	e.w.Mul(e.t1.T(), Q)
	e.q.Mul(e.w, e.p2)
	out.Add(out, scaled(e.q, tau2, e.q))
}

// cross computes the blocks of the (Gauss–)Newton Hessian that involve the
// trend at the current grid values: the columns C_k = ∂(∇_Z Φ)/∂β_k into
// e.cols and H_ββ into e.hbb,
//
//	Q_k = L φ_k + d∘φ_k,  C_k = pull(Q_k, λ_b τ1 BᵀB φ_k + τ2 d∘Q_k),
//	H_ββ[k,l] = τ2 ⟨Q_k, Q_l⟩ + λ_b τ1 Σ_b φ_k(b) φ_l(b),
//
// with d = 3u² − 1 for Allen–Cahn and 0 otherwise. Cost: p pulls (four n×n×n
// products each in 2-D).
func (e *exactU) cross(m *model, lt [2]float64) {
	tau1, tau2 := math.Exp(lt[0]), math.Exp(lt[1])
	lb := m.lambdaB * tau1
	p := len(m.tr.exps)
	if e.cols == nil {
		for range p {
			e.cols = append(e.cols, mat.NewDense(e.n1, e.n2, nil))
			e.qs = append(e.qs, mat.NewDense(e.n1, e.n2, nil))
		}
		e.hbb = mat.NewSymDense(p, nil)
	}
	S := mat.NewDense(e.n1, e.n2, nil)
	for k := range p {
		Q := e.qs[k]
		Q.Copy(m.tr.LPhi[k])
		S.Zero()
		if !m.pde.Linear() {
			qr, pr := Q.RawMatrix(), m.tr.Phi[k].RawMatrix()
			sr := S.RawMatrix()
			for i := range e.n1 {
				for j := range e.n2 {
					u := m.total(e.u, i, j)
					d := m.reactSlope(u)
					q := &qr.Data[i*qr.Stride+j]
					*q += d * pr.Data[i*pr.Stride+j]
					sr.Data[i*sr.Stride+j] = tau2 * d * *q
				}
			}
		}
		pr, sr := m.tr.Phi[k].RawMatrix(), S.RawMatrix()
		if e.bt == nil {
			for _, idx := range m.bIdx {
				i, j := idx/e.n2, idx%e.n2
				sr.Data[i*sr.Stride+j] += lb * pr.Data[i*pr.Stride+j]
			}
		}
		e.pull(Q, S, tau2, e.cols[k])
		for b, row := range e.bt {
			c := lb * pr.Data[m.bIdx[b]*pr.Stride]
			cr := e.cols[k].RawMatrix()
			for a, x := range row {
				cr.Data[a*cr.Stride] += c * x
			}
		}
	}
	for k := range p {
		for l := k; l < p; l++ {
			v := tau2 * frob(e.qs[k], e.qs[l])
			pk, pl := m.tr.Phi[k].RawMatrix(), m.tr.Phi[l].RawMatrix()
			for _, idx := range m.bIdx {
				i, j := idx/e.n2, idx%e.n2
				v += lb * pk.Data[i*pk.Stride+j] * pl.Data[i*pl.Stride+j]
			}
			e.hbb.SetSym(k, l, v)
		}
	}
}

// initTrend sizes the trend coefficients for m (zero at the first call).
func (e *exactU) initTrend(m *model) {
	if m.tr == nil || e.beta != nil {
		return
	}
	e.beta = make([]float64, len(m.tr.exps))
	e.gb = make([]float64, len(m.tr.exps))
}

// hessian assembles H (see exactU) for the current U (used by Allen–Cahn),
// scales it to unit diagonal and factorises it.
func (e *exactU) hessian(m *model, lt [2]float64) error {
	tau1, tau2 := math.Exp(lt[0]), math.Exp(lt[1])
	lb := m.lambdaB * tau1
	n1, n2 := e.n1, e.n2
	f1, f2 := e.f1, e.f2
	if e.h == nil {
		e.h, e.scale = mat.NewSymDense(e.m, nil), make([]float64, e.m)
	}
	if len(m.ax) == 1 {
		e.hessian1(m, tau2, lb)
		return e.factorise()
	}
	hr := e.h.RawSymmetric()
	// Linear part: τ2 (P1ᵀP1⊗T2ᵀT2 + P1ᵀT1⊗T2ᵀP2 + T1ᵀP1⊗P2ᵀT2 + T1ᵀT1⊗P2ᵀP2)
	// + λ_b τ1 (Bnd1⊗T2ᵀT2 + T1ᵀT1⊗Bnd2) + I, with (X⊗Y)[(a,b),(c,d)] = X[a,c] Y[b,d].
	var x [6]float64
	for a := range n1 {
		for c := a; c < n1; c++ {
			for k := range 5 {
				x[k] = f1[k].At(a, c)
			}
			// T2ᵀP2 is f2[2], P2ᵀT2 is f2[1].
			for b := range n2 {
				p := a*n2 + b
				row := hr.Data[p*hr.Stride:]
				d0 := 0
				if c == a {
					d0 = b
				}
				for d := d0; d < n2; d++ {
					v := tau2*(x[0]*f2[3].At(b, d)+x[1]*f2[2].At(b, d)+x[2]*f2[1].At(b, d)+x[3]*f2[0].At(b, d)) +
						lb*(x[4]*f2[3].At(b, d)+x[3]*f2[4].At(b, d))
					row[c*n2+d] = v
				}
			}
		}
	}
	// Only the upper triangle (p ≤ q) was written above for c > a; for c == a
	// the d ≥ b restriction keeps q ≥ p. Add the identity.
	for p := range e.m {
		hr.Data[p*hr.Stride+p]++
	}
	if !m.pde.Linear() {
		e.addNonlinear(m, tau2)
	}
	return e.factorise()
}

// hessian1 writes the upper triangle of H in 1-D,
//
//	H = I + τ2 YᵀY + λ_b τ1 Σ_ends t̃ t̃ᵀ,   Y = P1 + diag(3U² − 1) T1,
//
// (Y = P1 for a linear operator): one product of 2n³ flops, where
// the Kronecker assembly of the 2-D case would take 4n³ (and 4n³ more per
// evaluation for its factors).
func (e *exactU) hessian1(m *model, tau2, lb float64) {
	n := e.n1
	if e.y1 == nil {
		e.y1 = mat.NewDense(n, n, nil)
	}
	e.y1.Copy(e.p1)
	if !m.pde.Linear() {
		for i := range n {
			u := m.total(e.u, i, 0)
			d := m.reactSlope(u)
			yr, tr := e.y1.RawRowView(i), e.t1.RawRowView(i)
			for a, v := range tr {
				yr[a] += d * v
			}
		}
	}
	// YᵀY as a general product: the engine's matrix product is many times
	// faster than gonum's symmetric rank-k update at these sizes.
	if e.yy == nil {
		e.yy = mat.NewDense(n, n, nil)
	}
	e.yy.Mul(e.y1.T(), e.y1)
	hr := e.h.RawSymmetric()
	bnd, yy := e.f1[4].RawMatrix(), e.yy.RawMatrix()
	for a := range n {
		row, br, yr := hr.Data[a*hr.Stride:], bnd.Data[a*bnd.Stride:], yy.Data[a*yy.Stride:]
		for c := a; c < n; c++ {
			row[c] = tau2*yr[c] + lb*br[c]
		}
		row[a]++
	}
}

// factorise scales H (upper triangle) to unit diagonal and factorises it.
func (e *exactU) factorise() error {
	hr := e.h.RawSymmetric()
	for p := range e.m {
		e.scale[p] = 1 / math.Sqrt(hr.Data[p*hr.Stride+p])
	}
	for p := range e.m {
		row := hr.Data[p*hr.Stride:]
		for q := p; q < e.m; q++ {
			row[q] *= e.scale[p] * e.scale[q]
		}
	}
	fac, ok := cholUpper(e.h)
	if !ok {
		return errors.New("normal matrix of the U solve is not positive definite")
	}
	e.fac, e.hasH = fac, true
	return nil
}

// addNonlinear adds the Allen–Cahn terms of τ2 JᵀJ with d = 3U² − 1:
//
//	τ2 [ 𝓐ᵀ D T + Tᵀ D 𝓐 + Tᵀ D² T ],   𝓐 = P1⊗T2 + T1⊗P2,  T = T1⊗T2,  D = diag(d),
//
// row by row of the grid: for grid row i, with t = T1[i,:], p = P1[i,:] and the
// n2×n2 matrices W_i = T2ᵀ diag(d_i) T2, V_i = P2ᵀ diag(d_i) T2 and
// Q_i = T2ᵀ diag(d_i²) T2, the block (a, c) gains
// p_a t_c W_i + t_a p_c W_iᵀ + t_a t_c (V_i + V_iᵀ + Q_i). Cost O(n1 M² + n1 n2³).
func (e *exactU) addNonlinear(m *model, tau2 float64) {
	n1, n2 := e.n1, e.n2
	hr := e.h.RawSymmetric()
	W := mat.NewDense(n2, n2, nil)
	S := mat.NewDense(n2, n2, nil)
	dt := mat.NewDense(n2, n2, nil)
	d2t := mat.NewDense(n2, n2, nil)
	V := mat.NewDense(n2, n2, nil)
	Q := mat.NewDense(n2, n2, nil)
	for i := range n1 {
		// dt = diag(d_i) T2, d2t = diag(d_i²) T2.
		for j := range n2 {
			u := m.total(e.u, i, j)
			d := m.reactSlope(u)
			for b := range n2 {
				dt.Set(j, b, d*e.t2.At(j, b))
				d2t.Set(j, b, d*d*e.t2.At(j, b))
			}
		}
		W.Mul(e.t2.T(), dt)
		V.Mul(e.p2.T(), dt)
		Q.Mul(e.t2.T(), d2t)
		// S = V + Vᵀ + Q.
		for b := range n2 {
			for d := range n2 {
				S.Set(b, d, V.At(b, d)+V.At(d, b)+Q.At(b, d))
			}
		}
		t := e.t1.RawRowView(i)
		p := e.p1.RawRowView(i)
		for a := range n1 {
			for c := a; c < n1; c++ {
				pt, tp, tt := p[a]*t[c], t[a]*p[c], t[a]*t[c]
				if pt == 0 && tp == 0 && tt == 0 {
					continue
				}
				for b := range n2 {
					row := hr.Data[(a*n2+b)*hr.Stride:]
					d0 := 0
					if c == a {
						d0 = b
					}
					for d := d0; d < n2; d++ {
						row[c*n2+d] += tau2 * (pt*W.At(b, d) + tp*W.At(d, b) + tt*S.At(b, d))
					}
				}
			}
		}
	}
}

// solve overwrites Z (and e.beta) with the minimiser of Φ, starting from
// them, and returns Φ there. It takes at most maxSteps (Gauss–)Newton steps
// and stops early when a step no longer lowers Φ or is at the rounding level.
// With a trend the Newton system [H C; Cᵀ H_ββ] is solved exactly by the
// Schur complement of the factorised H: X = H⁻¹C, S = H_ββ − CᵀX (p×p).
func (e *exactU) solve(m *model, Z *mat.Dense, lt [2]float64, maxSteps int) (float64, error) {
	e.initTrend(m)
	best := e.value(m, Z, lt, e.gz)
	prev := mat.NewDense(e.n1, e.n2, nil)
	prevB := append([]float64(nil), e.beta...)
	dz := mat.NewVecDense(e.m, nil)
	p := len(e.beta)
	if e.fixed {
		p = 0
	}
	var X []*mat.VecDense
	for range p {
		X = append(X, mat.NewVecDense(e.m, nil))
	}
	// hinv sets dst = H⁻¹ src for a grid-shaped src, through the scaled factor.
	hinv := func(dst *mat.VecDense, src *mat.Dense) {
		g := src.RawMatrix()
		d := dst.RawVector().Data
		for q := range e.m {
			d[q] = g.Data[(q/e.n2)*g.Stride+q%e.n2] * e.scale[q]
		}
		// Unblocked: the dense Hessian is at most a few thousand
		// unknowns here, where the solve is a small part of a Newton step,
		// and the 1-D runs' paths (which trend, nugget and kernel succeed)
		// move with its rounding: blocked, p4 with StM ended at 1e-6
		// instead of 2.5e-7.
		cholSolveBlocks(e.fac, d, e.m)
		for q := range e.m {
			d[q] *= e.scale[q]
		}
	}
	for step := range maxSteps {
		if !e.hasH || !m.pde.Linear() {
			if err := e.hessian(m, lt); err != nil {
				return 0, err
			}
		}
		hinv(dz, e.gz)
		var db []float64
		if p > 0 {
			e.cross(m, lt)
			S := mat.NewSymDense(p, nil)
			rb := make([]float64, p)
			for k := range p {
				hinv(X[k], e.cols[k])
			}
			for k := range p {
				ck := mat.NewVecDense(e.m, e.cols[k].RawMatrix().Data)
				rb[k] = e.gb[k] - mat.Dot(ck, dz)
				for l := k; l < p; l++ {
					S.SetSym(k, l, e.hbb.At(k, l)-mat.Dot(ck, X[l]))
				}
			}
			db = schurSolve(S, rb)
			for k := range p {
				dz.AddScaledVec(dz, -db[k], X[k])
			}
		}
		prev.Copy(Z)
		copy(prevB, e.beta)
		zr := Z.RawMatrix()
		small := true
		for q := range e.m {
			d := dz.AtVec(q)
			z := &zr.Data[(q/e.n2)*zr.Stride+q%e.n2]
			if math.Abs(d) > 1e-13*(1+math.Abs(*z)) {
				small = false
			}
			*z -= d
		}
		for k := range db {
			e.beta[k] -= db[k]
		}
		val := e.value(m, Z, lt, e.gz)
		if !(val < best) {
			Z.Copy(prev)
			copy(e.beta, prevB)
			e.value(m, Z, lt, e.gz)
			break
		}
		gain := best - val
		best = val
		if (small && step > 0) || gain <= 1e-12*math.Abs(val) {
			break
		}
	}
	return best, nil
}

// schurSolve returns S⁻¹ r for the small symmetric Schur complement of the
// trend, by Cholesky with a ridge of 1e-13·max diag added when S is not
// numerically positive definite (a trend direction the data do not
// determine then stays where it is).
func schurSolve(S *mat.SymDense, r []float64) []float64 {
	p := len(r)
	out := mat.NewVecDense(p, nil)
	var ch mat.Cholesky
	if !ch.Factorize(S) {
		mx := 0.0
		for k := range p {
			mx = math.Max(mx, S.At(k, k))
		}
		R := mat.NewSymDense(p, nil)
		R.CopySym(S)
		for k := range p {
			R.SetSym(k, k, R.At(k, k)+1e-13*mx+1e-300)
		}
		if !ch.Factorize(R) {
			return make([]float64, p)
		}
	}
	if err := ch.SolveVecTo(out, mat.NewVecDense(p, append([]float64(nil), r...))); err != nil {
		var c mat.Condition
		if !errors.As(err, &c) {
			return make([]float64, p)
		}
	}
	return out.RawVector().Data
}

func (e *exactU) setup(m *model, _ [2]float64) { e.prepare(m) }
func (e *exactU) trendFixed(f bool)            { e.fixed = f }
func (e *exactU) trend() []float64             { return e.beta }
func (e *exactU) setTrend(b []float64)         { copy(e.beta, b) }
func (e *exactU) grid() *mat.Dense             { return e.u }

// maxSteps: Newton refines the linear solve twice; Gauss–Newton for
// Allen–Cahn, warm-started from the last grid values, rarely needs ten steps.
func (e *exactU) maxSteps(linear bool) int {
	if linear {
		return 3
	}
	return 30
}
