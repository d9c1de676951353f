package gphm

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// exactU minimises −L over the grid values of a 1-D problem for fixed kernel
// parameters and noise precisions. In 1-D the objective in u is
//
//	½ uᵀK⁻¹u + ½ λ_b τ1 ‖P u − g‖² + ½ τ2 ‖D u + N(u) − f‖²,   D = Kd K⁻¹,
//
// quadratic for Poisson, so one Newton step from any u is exact; Allen–Cahn
// (N(u) = u³ − u) takes Gauss–Newton steps with the Hessian
// H = K⁻¹ + λ_b τ1 PᵀP + τ2 JᵀJ, J = D + diag(3u² − 1). Each step solves
// H δ = −∇ by Cholesky; repeated steps also act as iterative refinement of the
// badly conditioned solve. Cost per step: n³ (D) + n³ (JᵀJ) + n³/3 (Cholesky).
type exactU struct {
	n    int
	d    *mat.Dense // D = Kd K⁻¹
	j    *mat.Dense // Jacobian of the residual
	h    *mat.SymDense
	chol mat.Cholesky
	gu   *mat.Dense // gradient, n×1
	step *mat.VecDense
}

// newExactU returns the work space for a grid of n1×n2 nodes (n2 = 1 in 1-D).
func newExactU(n1, n2 int) *exactU {
	n := n1 * n2
	e := &exactU{n: n, h: mat.NewSymDense(n, nil), gu: mat.NewDense(n1, n2, nil), step: mat.NewVecDense(n, nil)}
	if n2 == 1 {
		e.d, e.j = mat.NewDense(n, n, nil), mat.NewDense(n, n, nil)
	}
	return e
}

// hessian1D sets e.h to H = τ2 JᵀJ + K⁻¹ + λ_b τ1 PᵀP (upper triangle).
func (e *exactU) hessian1D(m *model, U *mat.Dense, tau1, tau2 float64) {
	n := e.n
	e.j.Copy(e.d)
	if !m.pde.Linear() {
		for i := range n {
			u := U.At(i, 0)
			e.j.Set(i, i, e.j.At(i, i)+3*u*u-1)
		}
	}
	hr := e.h.RawSymmetric()
	blas64.Syrk(blas.Trans, tau2, e.j.RawMatrix(), 0, hr)
	kr := m.ax[0].Kinv.RawMatrix()
	for i := range n {
		row := hr.Data[i*hr.Stride:]
		krow := kr.Data[i*kr.Stride:]
		for jj := i; jj < n; jj++ {
			row[jj] += krow[jj]
		}
	}
	for _, idx := range m.bIdx {
		hr.Data[idx*hr.Stride+idx] += m.lambdaB * tau1
	}
}

// hessian2D sets e.h to the (Gauss–Newton) Hessian in vec(U) (row-major,
// p = i n2 + j) of a 2-D problem, assembled from Kronecker factors without
// forming the residual operator: with A = c1 D1, B = D2, L = A⊗I + I⊗B and
// J = L + diag(3U² − 1) for Allen–Cahn,
//
//	H = K1⁻¹⊗K2⁻¹ + τ2 (AᵀA⊗I + Aᵀ⊗B + A⊗Bᵀ + I⊗BᵀB [+ diag(d)L + Lᵀdiag(d) + diag(d²)]) + λ_b τ1 BᵀB.
//
// Cost O(n1³ + n2³ + (n1 n2)²); the Cholesky factorisation that follows costs
// (n1 n2)³/3 and bounds this path to small grids.
func (e *exactU) hessian2D(m *model, U *mat.Dense, tau1, tau2 float64) {
	n1, n2 := m.n1, m.n2
	a1, a2 := m.ax[0], m.ax[1]
	A := mat.NewDense(n1, n1, nil)
	A.Mul(a1.Kd, a1.Kinv)
	A.Scale(m.c1, A)
	B := mat.NewDense(n2, n2, nil)
	B.Mul(a2.Kd, a2.Kinv)
	var AtA, BtB mat.Dense
	AtA.Mul(A.T(), A)
	BtB.Mul(B.T(), B)
	var d []float64
	if !m.pde.Linear() {
		d = make([]float64, n1*n2)
		for p, u := range U.RawMatrix().Data {
			d[p] = 3*u*u - 1
		}
	}
	// L[(i,j),(k,l)] = A[i,k] δ_jl + δ_ik B[j,l].
	lop := func(i, j, k, l int) float64 {
		v := 0.0
		if j == l {
			v += A.At(i, k)
		}
		if i == k {
			v += B.At(j, l)
		}
		return v
	}
	hr := e.h.RawSymmetric()
	k1, k2 := a1.Kinv.RawMatrix(), a2.Kinv.RawMatrix()
	for i := range n1 {
		for j := range n2 {
			p := i*n2 + j
			row := hr.Data[p*hr.Stride:]
			for k := i; k < n1; k++ {
				l0 := 0
				if k == i {
					l0 = j
				}
				for l := l0; l < n2; l++ {
					q := k*n2 + l
					v := k1.Data[i*k1.Stride+k] * k2.Data[j*k2.Stride+l]
					r := 0.0
					if j == l {
						r += AtA.At(i, k)
					}
					r += A.At(k, i) * B.At(j, l)
					r += A.At(i, k) * B.At(l, j)
					if i == k {
						r += BtB.At(j, l)
					}
					if d != nil {
						r += d[p]*lop(i, j, k, l) + d[q]*lop(k, l, i, j)
						if p == q {
							r += d[p] * d[p]
						}
					}
					row[q] = v + tau2*r
				}
			}
		}
	}
	for _, idx := range m.bIdx {
		hr.Data[idx*hr.Stride+idx] += m.lambdaB * tau1
	}
}

// solve overwrites U (n×1) with the minimiser of −L in U and returns −L there.
// It takes at most maxSteps Newton steps and stops early when a step no longer
// lowers the objective.
func (e *exactU) solve(m *model, U *mat.Dense, lt [2]float64, maxSteps int) (float64, error) {
	n := e.n
	tau1, tau2 := math.Exp(lt[0]), math.Exp(lt[1])
	if len(m.ax) == 1 {
		a := m.ax[0]
		e.d.Mul(a.Kd, a.Kinv)
		if m.c1 != 1 {
			e.d.Scale(m.c1, e.d)
		}
	}
	best := m.objective(U, lt, nil, nil, nil)
	uPrev := mat.NewVecDense(n, nil)
	for step := range maxSteps {
		if step == 0 || !m.pde.Linear() {
			if len(m.ax) == 1 {
				e.hessian1D(m, U, tau1, tau2)
			} else {
				e.hessian2D(m, U, tau1, tau2)
			}
			if ok := e.chol.Factorize(e.h); !ok {
				return 0, fmt.Errorf("normal matrix of the U solve is not positive definite")
			}
		}
		m.objective(U, lt, e.gu, nil, nil)
		if err := e.chol.SolveVecTo(e.step, mat.NewVecDense(n, e.gu.RawMatrix().Data)); err != nil {
			var c mat.Condition
			if !errors.As(err, &c) {
				return 0, fmt.Errorf("U solve: %w", err)
			}
		}
		ud := U.RawMatrix().Data
		copy(uPrev.RawVector().Data, ud)
		small := true
		for i, u := range ud {
			d := e.step.AtVec(i)
			if math.Abs(d) > 1e-12*(1+math.Abs(u)) {
				small = false
			}
			ud[i] = u - d
		}
		val := m.objective(U, lt, nil, nil, nil)
		if !(val < best) {
			copy(U.RawMatrix().Data, uPrev.RawVector().Data)
			break
		}
		best = val
		if small {
			break // converged to rounding
		}
	}
	return best, nil
}
