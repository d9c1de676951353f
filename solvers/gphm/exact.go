package gphm

import (
	"errors"
	"fmt"
	"math"

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
// is assembled from n×n factors (O(M² n) for M = n1 n2 nodes), scaled to unit
// diagonal and factorised by Cholesky (M³/3). In these coordinates the
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
	f1, f2 [6]*mat.Dense // [PᵀP, PᵀT, TᵀP, TᵀT, bnd, unused]
	h      *mat.SymDense
	scale  []float64
	chol   mat.Cholesky
	// Work space.
	u, r, w, gz, step *mat.Dense
	hasH              bool
}

func newExactU(n1, n2 int) *exactU {
	m := n1 * n2
	e := &exactU{n1: n1, n2: n2, m: m}
	nd := func() *mat.Dense { return mat.NewDense(n1, n2, nil) }
	e.u, e.r, e.w, e.gz, e.step = nd(), nd(), nd(), nd(), nd()
	return e
}

// prepare whitens the axes of m and builds the per-axis factors. It must be
// called after every kernel update.
func (e *exactU) prepare(m *model) { e.prepareFactors(m, true) }

// prepareFactors is prepare; without the Kronecker factors of the dense
// Hessian if dense is false.
func (e *exactU) prepareFactors(m *model, dense bool) {
	e.hasH = false
	a1 := m.ax[0]
	a1.whiten(true)
	e.t1 = a1.T
	e.p1 = mat.NewDense(e.n1, e.n1, nil)
	e.p1.Mul(a1.T, a1.Om)
	if m.c1 != 1 {
		e.p1.Scale(m.c1, e.p1)
	}
	if len(m.ax) == 2 {
		a2 := m.ax[1]
		a2.whiten(true)
		e.t2 = a2.T
		e.p2 = mat.NewDense(e.n2, e.n2, nil)
		e.p2.Mul(a2.T, a2.Om)
	} else {
		e.t2 = mat.NewDense(1, 1, []float64{1})
		e.p2 = mat.NewDense(1, 1, []float64{0})
	}
	factors := func(t, p *mat.Dense, ends bool) [6]*mat.Dense {
		n, _ := t.Dims()
		var f [6]*mat.Dense
		for k := range 5 {
			f[k] = mat.NewDense(n, n, nil)
		}
		f[0].Mul(p.T(), p)
		f[1].Mul(p.T(), t)
		f[2].Mul(t.T(), p)
		f[3].Mul(t.T(), t)
		if ends {
			for _, i := range []int{0, n - 1} {
				row := t.RawRowView(i)
				for a, x := range row {
					for b, y := range row {
						f[4].Set(a, b, f[4].At(a, b)+x*y)
					}
				}
			}
		}
		return f
	}
	if dense {
		e.f1 = factors(e.t1, e.p1, true)
		e.f2 = factors(e.t2, e.p2, len(m.ax) == 2)
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

// value returns Φ(Z) and, if g is not nil, writes ∇Φ(Z) into it. It leaves
// U = T1 Z T2ᵀ in e.u and the residual in e.r.
func (e *exactU) value(m *model, Z *mat.Dense, lt [2]float64, g *mat.Dense) float64 {
	tau1, tau2 := math.Exp(lt[0]), math.Exp(lt[1])
	e.toU(Z)
	// R = P1 Z T2ᵀ + T1 Z P2ᵀ + N(U) − F.
	e.w.Mul(e.p1, Z)
	e.r.Mul(e.w, e.t2.T())
	e.w.Mul(e.t1, Z)
	e.step.Mul(e.w, e.p2.T())
	e.r.Add(e.r, e.step)
	e.r.Sub(e.r, m.F)
	ur, rr := e.u.RawMatrix(), e.r.RawMatrix()
	if !m.pde.Linear() {
		for i := range e.n1 {
			for j := range e.n2 {
				u := ur.Data[i*ur.Stride+j]
				rr.Data[i*rr.Stride+j] += u*u*u - u
			}
		}
	}
	val := 0.5*frob(Z, Z) + 0.5*tau2*frob(e.r, e.r)
	// Boundary misfit, scattered onto the grid for the gradient.
	lb := m.lambdaB * tau1
	e.step.Zero()
	sr := e.step.RawMatrix()
	for k, idx := range m.bIdx {
		i, j := idx/e.n2, idx%e.n2
		d := ur.Data[i*ur.Stride+j] - m.g[k]
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
				u := ur.Data[i*ur.Stride+j]
				sr.Data[i*sr.Stride+j] += tau2 * (3*u*u - 1) * rr.Data[i*rr.Stride+j]
			}
		}
	}
	e.w.Mul(e.t1.T(), e.step)
	g.Mul(e.w, e.t2)
	e.w.Mul(e.p1.T(), e.r)
	e.step.Mul(e.w, e.t2)
	g.Add(g, scaled(e.step, tau2, e.step))
	e.w.Mul(e.t1.T(), e.r)
	e.step.Mul(e.w, e.p2)
	g.Add(g, scaled(e.step, tau2, e.step))
	g.Add(g, Z)
	return val
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
	for p := range e.m {
		e.scale[p] = 1 / math.Sqrt(hr.Data[p*hr.Stride+p])
	}
	for p := range e.m {
		row := hr.Data[p*hr.Stride:]
		for q := p; q < e.m; q++ {
			row[q] *= e.scale[p] * e.scale[q]
		}
	}
	if ok := e.chol.Factorize(e.h); !ok {
		return errors.New("normal matrix of the U solve is not positive definite")
	}
	e.hasH = true
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
	ur := e.u.RawMatrix()
	if n2 == 1 {
		// 1-D: τ2 (Pᵀ X + Xᵀ P + Xᵀ X) with X = diag(d) T, by matrix products.
		x := mat.NewDense(n1, n1, nil)
		for i := range n1 {
			u := ur.Data[i*ur.Stride]
			d := 3*u*u - 1
			xr, tr := x.RawRowView(i), e.t1.RawRowView(i)
			for a, v := range tr {
				xr[a] = d * v
			}
		}
		var px, xx mat.Dense
		px.Mul(e.p1.T(), x)
		xx.Mul(x.T(), x)
		for a := range n1 {
			row := hr.Data[a*hr.Stride:]
			for c := a; c < n1; c++ {
				row[c] += tau2 * (px.At(a, c) + px.At(c, a) + xx.At(a, c))
			}
		}
		return
	}
	W := mat.NewDense(n2, n2, nil)
	S := mat.NewDense(n2, n2, nil)
	dt := mat.NewDense(n2, n2, nil)
	d2t := mat.NewDense(n2, n2, nil)
	V := mat.NewDense(n2, n2, nil)
	Q := mat.NewDense(n2, n2, nil)
	for i := range n1 {
		// dt = diag(d_i) T2, d2t = diag(d_i²) T2.
		for j := range n2 {
			u := ur.Data[i*ur.Stride+j]
			d := 3*u*u - 1
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

// solve overwrites Z with the minimiser of Φ, starting from Z, and returns Φ
// there. It takes at most maxSteps (Gauss–)Newton steps and stops early when a
// step no longer lowers Φ or is at the rounding level.
func (e *exactU) solve(m *model, Z *mat.Dense, lt [2]float64, maxSteps int) (float64, error) {
	best := e.value(m, Z, lt, e.gz)
	prev := mat.NewDense(e.n1, e.n2, nil)
	rhs := mat.NewVecDense(e.m, nil)
	dz := mat.NewVecDense(e.m, nil)
	for step := range maxSteps {
		if !e.hasH || !m.pde.Linear() {
			if err := e.hessian(m, lt); err != nil {
				return 0, err
			}
		}
		g := e.gz.RawMatrix()
		for p := range e.m {
			rhs.SetVec(p, g.Data[(p/e.n2)*g.Stride+p%e.n2]*e.scale[p])
		}
		if err := e.chol.SolveVecTo(dz, rhs); err != nil {
			var c mat.Condition
			if !errors.As(err, &c) {
				return 0, fmt.Errorf("U solve: %w", err)
			}
		}
		prev.Copy(Z)
		zr := Z.RawMatrix()
		small := true
		for p := range e.m {
			d := dz.AtVec(p) * e.scale[p]
			z := &zr.Data[(p/e.n2)*zr.Stride+p%e.n2]
			if math.Abs(d) > 1e-13*(1+math.Abs(*z)) {
				small = false
			}
			*z -= d
		}
		val := e.value(m, Z, lt, e.gz)
		if !(val < best) {
			Z.Copy(prev)
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

func (e *exactU) setup(m *model, _ [2]float64) { e.prepare(m) }
func (e *exactU) grid() *mat.Dense             { return e.u }

// maxSteps: Newton refines the linear solve twice; Gauss–Newton for
// Allen–Cahn, warm-started from the last grid values, rarely needs ten steps.
func (e *exactU) maxSteps(linear bool) int {
	if linear {
		return 3
	}
	return 30
}
