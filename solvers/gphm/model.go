package gphm

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// PDE names the differential equation; the grid's first axis is x, the second
// y (t for Advection).
type PDE int

const (
	// Poisson1D is u_xx = f.
	Poisson1D PDE = iota
	// Poisson2D is u_xx + u_yy = f.
	Poisson2D
	// AllenCahn1D is u_xx + u(u² − 1) = f.
	AllenCahn1D
	// AllenCahn2D is u_xx + u_yy + u(u² − 1) = f.
	AllenCahn2D
	// Advection is β u_x + u_t = f (f = 0 in the paper) on the (x, t) grid.
	Advection
)

var pdeNames = [...]string{
	Poisson1D: "poisson1d", Poisson2D: "poisson2d", AllenCahn1D: "allen_cahn1d",
	AllenCahn2D: "allen_cahn2d", Advection: "advection",
}

// String returns the API name of p.
func (p PDE) String() string {
	if p < 0 || int(p) >= len(pdeNames) {
		return fmt.Sprintf("PDE(%d)", int(p))
	}
	return pdeNames[p]
}

// ParsePDE returns the PDE named s.
func ParsePDE(s string) (PDE, error) {
	for p, name := range pdeNames {
		if name == s {
			return PDE(p), nil
		}
	}
	return 0, fmt.Errorf("unknown pde %q (want poisson1d, poisson2d, allen_cahn1d, allen_cahn2d or advection)", s)
}

// Dims returns 1 or 2, the number of grid axes.
func (p PDE) Dims() int {
	if p == Poisson1D || p == AllenCahn1D {
		return 1
	}
	return 2
}

// Linear reports whether the residual is affine in u.
func (p PDE) Linear() bool { return p != AllenCahn1D && p != AllenCahn2D }

// order returns the derivative order the PDE needs in every axis.
func (p PDE) order() int {
	if p == Advection {
		return 1
	}
	return 2
}

// model is the GP-HM collocation problem on a full tensor grid of n1×n2 nodes
// (n2 = 1 in 1-D) with the grid values U stored row-major, U[i,j] = u(x_i, y_j).
//
// The negative log joint (spec §2.3, Fang et al. Eq. (9)), minimised over U, the
// spectra and the log noise precisions:
//
//	−L = ½ Σ_j (M/n_j) log det K_j + ½ ⟨U, K1⁻¹ U K2⁻¹⟩
//	     + λ_b (−½ N_b log τ1 + ½ τ1 ‖B(U) − g‖²) + (−½ M log τ2 + ½ τ2 ‖R‖²),
//
// M = n1 n2, with the PDE residual on every node
//
//	R = c1·D1 U + U D2ᵀ + N(U) − F,    D_j = Kd_j K_j⁻¹,
//
// c1 = β for advection and 1 otherwise, N(U) = U³ − U for Allen–Cahn, and
// B(U) the boundary values (two end points in 1-D; in 2-D the rows U[0,:],
// U[n1−1,:] and columns U[:,0], U[:,n2−1], corners counted twice, N_b = 2(n1+n2)).
type model struct {
	pde    PDE
	kind   Kernel
	ax     []*axis
	n1, n2 int
	F      *mat.Dense // source on every node, n1×n2
	bIdx   []int      // row-major node index of every boundary observation
	g      []float64  // boundary data, len(bIdx)
	c1     float64    // β for advection, 1 otherwise
	// cubic and lin are κ and λ in Allen–Cahn's Δu + κu³ − λu = f: 1 for
	// the problem as given; its data divided by s (dataScale) and its
	// coordinates multiplied by c (coordScales) make them s²/c² and 1/c².
	cubic, lin float64
	lambdaB    float64

	// Polynomial trend (trend.go): u = off + V with V the GP's grid values;
	// off = Σ β_k φ_k and offL = Σ β_k L φ_k on the grid, nil without a trend.
	tr        *trend
	beta      []float64
	off, offL *mat.Dense
	bs        *mat.Dense // boundary gradient (boundaryGrad)

	// Work space, n1×n2 unless noted.
	at1, at2, a, v, w, r, p1, p2 *mat.Dense
	g1, g1d                      *mat.Dense // n1×n1
	g2, g2d                      *mat.Dense // n2×n2 (2-D)
	s0, sd                       [][]float64
}

// react returns Allen–Cahn's term κu³ − λu at u, and reactSlope its
// derivative 3κu² − λ (κ = cubic, λ = lin; with both 1 the same bits as
// u³ − u and 3u² − 1).
func (m *model) react(u float64) float64      { return m.cubic*u*u*u - m.lin*u }
func (m *model) reactSlope(u float64) float64 { return 3*m.cubic*u*u - m.lin }

func newModel(pde PDE, kind Kernel, axes []*axis, F *mat.Dense, bIdx []int, g []float64, beta, lambdaB float64) *model {
	n1, n2 := axes[0].n, 1
	if len(axes) == 2 {
		n2 = axes[1].n
	}
	if r, c := F.Dims(); r != n1 || c != n2 {
		panic(fmt.Sprintf("gphm: source is %d×%d, grid %d×%d", r, c, n1, n2))
	}
	if len(bIdx) != len(g) {
		panic("gphm: boundary index and value lengths differ")
	}
	m := &model{
		pde: pde, kind: kind, ax: axes, n1: n1, n2: n2, F: F, bIdx: bIdx, g: g,
		c1: 1, cubic: 1, lin: 1, lambdaB: lambdaB,
	}
	if pde == Advection {
		m.c1 = beta
	}
	nd := func() *mat.Dense { return mat.NewDense(n1, n2, nil) }
	m.at1, m.at2, m.a, m.v, m.w, m.r, m.p1, m.p2 = nd(), nd(), nd(), nd(), nd(), nd(), nd(), nd()
	m.g1, m.g1d = mat.NewDense(n1, n1, nil), mat.NewDense(n1, n1, nil)
	if n2 > 1 {
		m.g2, m.g2d = mat.NewDense(n2, n2, nil), mat.NewDense(n2, n2, nil)
	}
	for _, a := range axes {
		m.s0 = append(m.s0, make([]float64, a.n))
		m.sd = append(m.sd, make([]float64, a.n))
	}
	return m
}

// nodes returns M = n1 n2.
func (m *model) nodes() int { return m.n1 * m.n2 }

// update rebuilds the kernel factors for the given spectra (one per axis).
func (m *model) update(specs []Spectrum) error {
	for j, a := range m.ax {
		if err := a.update(specs[j]); err != nil {
			return fmt.Errorf("axis %d: %w", j, err)
		}
	}
	return nil
}

// residual computes R (into m.r) and the helpers at1 = K1⁻¹U, at2 = U K2⁻¹ and
// A = K1⁻¹ U K2⁻¹ (into m.a) for the current factors. K⁻¹ is applied by
// triangular solves with the Cholesky factors.
func (m *model) residual(U *mat.Dense) {
	a1 := m.ax[0]
	m.at1.Copy(U)
	a1.solveLeft(m.at1)
	m.r.Mul(a1.Kd, m.at1)
	if m.c1 != 1 {
		m.r.Scale(m.c1, m.r)
	}
	m.a.Copy(m.at1)
	if len(m.ax) == 2 {
		a2 := m.ax[1]
		m.at2.Copy(U)
		a2.solveRight(m.at2)
		m.v.Mul(m.at2, a2.Kd.T())
		m.r.Add(m.r, m.v)
		a2.solveRight(m.a)
	}
	m.r.Sub(m.r, m.F)
	if m.offL != nil {
		m.r.Add(m.r, m.offL)
	}
	if !m.pde.Linear() {
		rr := m.r.RawMatrix()
		for i := range m.n1 {
			for j := range m.n2 {
				u := m.total(U, i, j)
				rr.Data[i*rr.Stride+j] += m.react(u)
			}
		}
	}
}

// boundaryValue returns the solution the model compares with the Dirichlet
// data at boundary node (i, j): in 1-D the posterior mean there,
// U_i − ε (K⁻¹U)_i plus the trend (so that the predicted function, not only
// the latent grid value, meets the boundary data; the two differ by the
// nugget's share, which reached 1e-4 at the ends of sin(50x)e^{−x} + x);
// in 2-D the grid value plus the trend. at1 must hold K1⁻¹U (residual).
func (m *model) boundaryValue(U *mat.Dense, i, j int) float64 {
	u := m.total(U, i, j)
	if len(m.ax) == 1 {
		u -= m.ax[0].jit * m.at1.At(i, 0)
	}
	return u
}

// total returns the solution at node (i, j) for GP grid values U: U[i,j] plus
// the trend.
func (m *model) total(U *mat.Dense, i, j int) float64 {
	ur := U.RawMatrix()
	u := ur.Data[i*ur.Stride+j]
	if m.off != nil {
		or := m.off.RawMatrix()
		u += or.Data[i*or.Stride+j]
	}
	return u
}

// objective returns −L for grid values U, spectra already applied with update,
// and log precisions lt = (log τ1, log τ2). If gU is not nil it receives ∂(−L)/∂U;
// if gSpec is not nil, gSpec[j] (length 3Q, layout [LogW | LogLS | Mu]) receives
// the gradient with respect to the spectrum of axis j, computed from the lag sums
// of (spec §2.5)
//
//	G_K1  = ½ n2 K1⁻¹ − ½ (K1⁻¹U) Aᵀ − c1 τ2 P1 (K1⁻¹U)ᵀ,  G_Kd1 = c1 τ2 R (K1⁻¹U)ᵀ,
//	G_K2  = ½ n1 K2⁻¹ − ½ Aᵀ (U K2⁻¹) − τ2 P2ᵀ (U K2⁻¹),    G_Kd2 = τ2 Rᵀ (U K2⁻¹),
//
// with A = K1⁻¹UK2⁻¹, P1 = K1⁻¹ Kd1ᵀ R = D1ᵀR and P2 = R Kd2 K2⁻¹ = R D2; and if gLt
// is not nil it receives the gradient with respect to lt. Cost: O(n1 n2 (n1 + n2))
// for the mode products and O((n1 + n2) Q) kernel evaluations.
func (m *model) objective(U *mat.Dense, lt [2]float64, gU *mat.Dense, gSpec [][]float64, gLt *[2]float64) float64 {
	if r, c := U.Dims(); r != m.n1 || c != m.n2 {
		panic(fmt.Sprintf("gphm: U is %d×%d, grid %d×%d", r, c, m.n1, m.n2))
	}
	M := float64(m.nodes())
	tau1, tau2 := math.Exp(lt[0]), math.Exp(lt[1])
	m.residual(U)

	val := 0.0
	for _, a := range m.ax {
		val += 0.5 * M / float64(a.n) * a.logdet
	}
	val += 0.5 * frob(U, m.a)
	var bnd float64
	for k, idx := range m.bIdx {
		d := m.boundaryValue(U, idx/m.n2, idx%m.n2) - m.g[k]
		bnd += d * d
	}
	nb := float64(len(m.bIdx))
	val += m.lambdaB * (-0.5*nb*lt[0] + 0.5*tau1*bnd)
	rr := frob(m.r, m.r)
	val += -0.5*M*lt[1] + 0.5*tau2*rr

	if gLt != nil {
		gLt[0] = m.lambdaB * (-0.5*nb + 0.5*tau1*bnd)
		gLt[1] = -0.5*M + 0.5*tau2*rr
	}
	if gU == nil && gSpec == nil {
		return val
	}
	a1 := m.ax[0]
	// P1 = K1⁻¹ Kd1ᵀ R, P2 = R Kd2 K2⁻¹.
	m.p1.Mul(a1.Kd.T(), m.r)
	a1.solveLeft(m.p1)
	if len(m.ax) == 2 {
		a2 := m.ax[1]
		m.p2.Mul(m.r, a2.Kd)
		a2.solveRight(m.p2)
	}
	if gU != nil {
		gU.Copy(m.a)
		gU.Add(gU, scaled(m.v, m.c1*tau2, m.p1))
		if len(m.ax) == 2 {
			gU.Add(gU, scaled(m.v, tau2, m.p2))
		}
		gr, rr := gU.RawMatrix(), m.r.RawMatrix()
		if !m.pde.Linear() {
			for i := range m.n1 {
				for j := range m.n2 {
					u := m.total(U, i, j)
					gr.Data[i*gr.Stride+j] += tau2 * m.reactSlope(u) * rr.Data[i*rr.Stride+j]
				}
			}
		}
		m.boundaryGrad(U, tau1)
		for i := range m.n1 {
			for j := range m.n2 {
				gr.Data[i*gr.Stride+j] += m.bs.At(i, j)
			}
		}
	}
	if gSpec == nil {
		return val
	}
	n2 := float64(m.n2)
	// Axis 1.
	m.g1.Mul(m.at1, scaled(m.v, -0.5, m.a).T())
	m.g1d.Mul(m.p1, m.at1.T())
	m.g1.Add(m.g1, scaledSq(m.g1d, -m.c1*tau2, m.g1d))
	m.g1.Add(m.g1, scaledSq(m.g1d, 0.5*n2, a1.Kinv))
	epsGrad := 0.0
	if len(m.ax) == 1 {
		// The boundary compares the mean U − εK⁻¹U: with s = λ_b τ1 Bᵀ(B mean − g)
		// and a = K⁻¹U, G_K gains ε (K⁻¹s) aᵀ, and ε itself has the
		// derivative −sᵀa (which the relative nugget passes on to the weights).
		m.boundaryScatter(U, tau1, m.v)
		epsGrad = -frob(m.v, m.at1)
		a1.solveLeft(m.v)
		m.g1d.Mul(m.v, m.at1.T())
		m.g1.Add(m.g1, scaledSq(m.g1d, a1.jit, m.g1d))
	}
	m.g1d.Mul(m.r, m.at1.T())
	clear(m.s0[0])
	clear(m.sd[0])
	addLagSums(m.s0[0], m.g1.RawMatrix(), true, 1)
	addLagSums(m.sd[0], m.g1d.RawMatrix(), a1.even(), m.c1*tau2)
	m.lagGrad(0, gSpec[0])
	if !a1.absNugget && epsGrad != 0 {
		for q, lw := range a1.spec.LogW {
			gSpec[0][q] += epsGrad * a1.relJitter * math.Exp(lw)
		}
	}
	if len(m.ax) == 2 {
		a2 := m.ax[1]
		n1 := float64(m.n1)
		// G_K2 = ½ n1 K2⁻¹ − (½A + τ2 P2)ᵀ (U K2⁻¹).
		m.v.Scale(0.5, m.a)
		m.v.Add(m.v, scaled(m.w, tau2, m.p2))
		m.g2.Mul(m.v.T(), m.at2)
		m.g2.Scale(-1, m.g2)
		m.g2.Add(m.g2, scaledSq(m.g2d, 0.5*n1, a2.Kinv))
		m.g2d.Mul(m.r.T(), m.at2)
		clear(m.s0[1])
		clear(m.sd[1])
		addLagSums(m.s0[1], m.g2.RawMatrix(), true, 1)
		addLagSums(m.sd[1], m.g2d.RawMatrix(), a2.even(), tau2)
		m.lagGrad(1, gSpec[1])
	}
	return val
}

// lagGrad writes the spectrum gradient of axis j from the lag sums s0, sd.
func (m *model) lagGrad(j int, grad []float64) {
	a := m.ax[j]
	clear(grad)
	if a.order == 2 {
		lagGradient(m.kind, a.spec, a.h, m.s0[j], nil, m.sd[j], grad)
	} else {
		lagGradient(m.kind, a.spec, a.h, m.s0[j], m.sd[j], nil, grad)
	}
	if !a.absNugget {
		// The nugget relJitter·Σw sits on lag 0: ∂/∂LogW_q = relJitter·w_q.
		for q, lw := range a.spec.LogW {
			grad[q] += m.s0[j][0] * a.relJitter * math.Exp(lw)
		}
	}
}

// boundaryScatter sets s (n1×n2) to λ_b τ1 Bᵀ(B mean − g): the boundary
// misfit scattered onto its nodes (corners twice in 2-D).
func (m *model) boundaryScatter(U *mat.Dense, tau1 float64, s *mat.Dense) {
	s.Zero()
	sr := s.RawMatrix()
	for k, idx := range m.bIdx {
		i, j := idx/m.n2, idx%m.n2
		sr.Data[i*sr.Stride+j] += m.lambdaB * tau1 * (m.boundaryValue(U, i, j) - m.g[k])
	}
}

// boundaryGrad sets m.bs to the gradient of the boundary term with respect to
// U: s in 2-D, (I − εK⁻¹) s in 1-D (s of boundaryScatter).
func (m *model) boundaryGrad(U *mat.Dense, tau1 float64) {
	if m.bs == nil {
		m.bs = mat.NewDense(m.n1, m.n2, nil)
	}
	m.boundaryScatter(U, tau1, m.bs)
	if len(m.ax) == 1 {
		t := mat.DenseCopyOf(m.bs)
		m.ax[0].solveLeft(t)
		m.bs.Sub(m.bs, scaled(t, m.ax[0].jit, t))
	}
}

// scaled sets dst = c·src and returns dst.
func scaled(dst *mat.Dense, c float64, src mat.Matrix) *mat.Dense {
	dst.Scale(c, src)
	return dst
}

// scaledSq is scaled for square work matrices.
func scaledSq(dst *mat.Dense, c float64, src mat.Matrix) *mat.Dense {
	dst.Scale(c, src)
	return dst
}

// frob returns the Frobenius inner product Σ_ij a_ij b_ij of equal-shape matrices.
func frob(a, b *mat.Dense) float64 {
	ar, br := a.RawMatrix(), b.RawMatrix()
	if ar.Rows != br.Rows || ar.Cols != br.Cols {
		panic("gphm: Frobenius product of different shapes")
	}
	s := 0.0
	for i := range ar.Rows {
		x := ar.Data[i*ar.Stride : i*ar.Stride+ar.Cols]
		y := br.Data[i*br.Stride : i*br.Stride+br.Cols]
		for j, v := range x {
			s += v * y[j]
		}
	}
	return s
}

// boundaryIndex returns the row-major node indices of the boundary observations
// of an n1×n2 grid: in 1-D the two end points; in 2-D the rows U[0,:], U[n1−1,:]
// and the columns U[:,0], U[:,n2−1] in that order (corners twice, spec §2.1).
func boundaryIndex(n1, n2, dims int) []int {
	if dims == 1 {
		return []int{0, n1 - 1}
	}
	idx := make([]int, 0, 2*(n1+n2))
	for j := range n2 {
		idx = append(idx, j)
	}
	for j := range n2 {
		idx = append(idx, (n1-1)*n2+j)
	}
	for i := range n1 {
		idx = append(idx, i*n2)
	}
	for i := range n1 {
		idx = append(idx, i*n2+n2-1)
	}
	return idx
}
