package gphm

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// The check grid: the midpoints between neighbouring nodes on every axis,
// (n1 − 1) points in 1-D and (n1 − 1)×(n2 − 1) in 2-D, where the posterior
// mean is furthest from the collocation nodes. With R = L û + N(û) − f the
// PDE residual of the returned mean û there (L the linear derivative part:
// u_xx, Δu or β u_x + u_t; N the Allen–Cahn term), two numbers are observable
// without the exact solution:
//
//	ρ₂ = ‖R‖₂ / max(‖f‖₂, ‖L û‖₂)     (CheckResidualL2), and
//	ρ  = ‖E‖₂ / ‖û‖₂ + ‖û − g‖_∂ / ‖û‖_rms   (CheckResidual),
//
// where E solves the principal part of the error equation with zero
// boundary values on the check grid — Δ_h E = R with the cell-centred
// Dirichlet Laplacian (sine transform, DST-II) for Poisson and Allen–Cahn,
// β E_x + E_t = R integrated along the characteristics from where they enter
// the domain for advection (transport) — and the second term is the
// root-mean-square misfit of the mean against the Dirichlet data at the
// boundary check points (the ends in 1-D, the midpoints of the boundary
// edges in 2-D) relative to the root-mean-square of û. ρ is the residual in a
// negative Sobolev norm: for u_xx = f it is the relative error the residual
// accounts for, whatever the frequency of the solution, whereas ρ₂ of a
// sin(100x) solution is ω² = 1e4 times smaller than the error a smooth
// residual causes. ρ drives the stop rule, the choice of the nugget and the
// restart after a stall.

// checker evaluates ρ and ρ₂ for a model: the source on the check grid, the
// Dirichlet data at the boundary check points and the sine bases.
type checker struct {
	xs, ys []float64  // check coordinates per axis (ys nil in 1-D)
	f      *mat.Dense // source on the check grid
	// Boundary check points: the ends of axis 0 against ys (or the single
	// column in 1-D) and, in 2-D, xs against the ends of axis 1.
	gx, gy *mat.Dense
	s1, s2 *mat.Dense // orthonormal DST-II bases
	l1, l2 []float64  // eigenvalues of the cell-centred Dirichlet Laplacian
	advect bool
	// Advection: β and the steps of the midpoints along x and t.
	beta, hx, ht float64
}

// midpoints returns the n − 1 midpoints of axis a.
func midpoints(a *axis) []float64 {
	x := make([]float64, a.n-1)
	for i := range x {
		x[i] = a.x0 + (float64(i)+0.5)*a.h
	}
	return x
}

// newChecker evaluates the source of prob on the check grid of m.
func newChecker(m *model, prob *problem) *checker {
	c := &checker{xs: midpoints(m.ax[0])}
	if len(m.ax) == 2 {
		c.ys = midpoints(m.ax[1])
	}
	n2 := 1
	if c.ys != nil {
		n2 = len(c.ys)
	}
	c.f = mat.NewDense(len(c.xs), n2, nil)
	at := make([]float64, len(m.ax))
	for i, x := range c.xs {
		at[0] = x
		for j := range n2 {
			if c.ys != nil {
				at[1] = c.ys[j]
			}
			c.f.Set(i, j, prob.sourceAt(at))
		}
	}
	a0 := m.ax[0]
	ends0 := []float64{a0.x0, a0.coord(a0.n - 1)}
	if len(m.ax) == 1 {
		c.gx = mat.NewDense(2, 1, nil)
		for i, x := range ends0 {
			c.gx.Set(i, 0, prob.boundaryAt([]float64{x}))
		}
	} else {
		a1 := m.ax[1]
		ends1 := []float64{a1.x0, a1.coord(a1.n - 1)}
		c.gx = mat.NewDense(2, len(c.ys), nil)
		for i, x := range ends0 {
			for j, y := range c.ys {
				c.gx.Set(i, j, prob.boundaryAt([]float64{x, y}))
			}
		}
		c.gy = mat.NewDense(len(c.xs), 2, nil)
		for i, x := range c.xs {
			for j, y := range ends1 {
				c.gy.Set(i, j, prob.boundaryAt([]float64{x, y}))
			}
		}
	}
	c.advect = m.pde == Advection
	c.s1, c.l1 = dstBasis(len(c.xs), m.ax[0].h)
	if c.ys != nil {
		if c.advect {
			c.beta, c.hx, c.ht = m.c1, m.ax[0].h, m.ax[1].h
		} else {
			c.s2, c.l2 = dstBasis(len(c.ys), m.ax[1].h)
		}
	}
	return c
}

// dstBasis returns the orthonormal DST-II basis S[i,k] ∝ sin(π (k+1)(i+½)/N)
// of N cell-centred points with spacing h and the eigenvalues
// −(4/h²) sin²(π (k+1)/(2N)) of the second difference with zero Dirichlet
// values half a step outside the end points.
func dstBasis(N int, h float64) (*mat.Dense, []float64) {
	S := mat.NewDense(N, N, nil)
	lam := make([]float64, N)
	for k := range N {
		norm := math.Sqrt(2 / float64(N))
		if k == N-1 {
			norm = math.Sqrt(1 / float64(N))
		}
		for i := range N {
			S.Set(i, k, norm*math.Sin(math.Pi*float64(k+1)*(float64(i)+0.5)/float64(N)))
		}
		sn := math.Sin(math.Pi * float64(k+1) / (2 * float64(N)))
		lam[k] = -4 / (h * h) * sn * sn
	}
	return S, lam
}

// halfCross returns the (n−1)×n matrix k^{(order)}(ξ_i − x_j) between the
// midpoints ξ_i and the nodes of axis a, built from the 2n − 1 distinct lags
// (i − j + ½)h (Toeplitz).
func (a *axis) halfCross(order int) *mat.Dense {
	n := a.n
	s := a.spec
	lag := make([]float64, 2*n-1) // lag[m + n − 1] = k^{(order)}((m + ½)h)
	for m := -(n - 1); m < n; m++ {
		z := (float64(m) + 0.5) * a.h
		v := 0.0
		for q := range s.LogW {
			g, _, _ := component(a.kind, s.LogLS[q], s.Mu[q], z)
			v += math.Exp(s.LogW[q]) * g[order]
		}
		lag[m+n-1] = v
	}
	c := mat.NewDense(n-1, n, nil)
	for i := range n - 1 {
		row := c.RawRowView(i)
		for j := range n {
			row[j] = lag[i-j+n-1]
		}
	}
	return c
}

// residual returns ρ for the GP grid values U and the trend of m, with the
// current factors of m.
func (c *checker) residual(m *model, U *mat.Dense) float64 {
	rho, _ := c.residuals(m, U)
	return rho
}

// residuals returns ρ and ρ₂ (see checker). Cost: O(n1 n2 (n1 + n2)) for the
// products and the sine transforms, O((n1 + n2) Q) kernel evaluations. A
// result that is not finite is returned as +Inf.
func (c *checker) residuals(m *model, U *mat.Dense) (rho, rho2 float64) {
	a1 := m.ax[0]
	A := mat.DenseCopyOf(U)
	a1.solveLeft(A)
	o := m.pde.order()
	c10, c1d := a1.halfCross(0), a1.halfCross(o)
	var u, lu *mat.Dense
	var c20 *mat.Dense
	if len(m.ax) == 1 {
		u, lu = new(mat.Dense), new(mat.Dense)
		u.Mul(c10, A)
		lu.Mul(c1d, A)
		lu.Scale(m.c1, lu)
	} else {
		a2 := m.ax[1]
		a2.solveRight(A)
		var c2d *mat.Dense
		c20, c2d = a2.halfCross(0), a2.halfCross(o)
		var t mat.Dense
		t.Mul(c10, A)
		u = new(mat.Dense)
		u.Mul(&t, c20.T())
		lu = new(mat.Dense)
		lu.Mul(&t, c2d.T())
		t.Mul(c1d, A)
		var v mat.Dense
		v.Mul(&t, c20.T())
		lu.Add(lu, scaled(&v, m.c1, &v))
	}
	if m.tr != nil && m.beta != nil {
		rows, cols := u.Dims()
		vals, ops := make([]*mat.Dense, len(m.beta)), make([]*mat.Dense, len(m.beta))
		for k := range vals {
			vals[k], ops[k] = mat.NewDense(rows, cols, nil), mat.NewDense(rows, cols, nil)
		}
		m.tr.eval(m, c.xs, c.ys, vals, ops)
		tv, to := mat.NewDense(rows, cols, nil), mat.NewDense(rows, cols, nil)
		combine(tv, m.beta, vals)
		combine(to, m.beta, ops)
		u.Add(u, tv)
		lu.Add(lu, to)
	}
	var res mat.Dense
	res.Sub(lu, c.f)
	if !m.pde.Linear() {
		rr, ur := res.RawMatrix(), u.RawMatrix()
		for i := range rr.Rows {
			for j := range rr.Cols {
				v := ur.Data[i*ur.Stride+j]
				rr.Data[i*rr.Stride+j] += m.react(v)
			}
		}
	}
	den := math.Sqrt(math.Max(frob(c.f, c.f), frob(lu, lu)))
	rho2 = math.Sqrt(frob(&res, &res))
	if den > 0 {
		rho2 /= den
	}
	// E: the principal part of the error equation, zero boundary values.
	E := c.invert(&res)
	uu := frob(u, u)
	rho = math.Sqrt(frob(E, E) / uu)
	// Boundary misfit of the mean at the boundary check points (meanAt),
	// with the weights A and the midpoints' cross-covariances (halfCross)
	// formed above; only the ends' need kernel evaluations. (model.predict
	// evaluated the kernel between every midpoint and node again: 9 % of
	// preset p2d1's time.)
	a0 := m.ax[0]
	ends0 := []float64{a0.x0, a0.coord(a0.n - 1)}
	var bsum float64
	var bn int
	add := func(p, g *mat.Dense) {
		var d mat.Dense
		d.Sub(p, g)
		bsum += frob(&d, &d)
		r, cc := d.Dims()
		bn += r * cc
	}
	e0 := a0.crossCov(ends0)
	if len(m.ax) == 1 {
		add(m.meanAt(e0, A, nil, ends0, nil), c.gx)
	} else {
		a1 := m.ax[1]
		ends1 := []float64{a1.x0, a1.coord(a1.n - 1)}
		add(m.meanAt(e0, A, c20, ends0, c.ys), c.gx)
		add(m.meanAt(c10, A, a1.crossCov(ends1), c.xs, ends1), c.gy)
	}
	r, cc := u.Dims()
	rho += math.Sqrt(bsum/float64(bn)) / math.Sqrt(uu/float64(r*cc))
	if math.IsNaN(rho) || math.IsInf(rho, 0) {
		rho = math.Inf(1)
	}
	if math.IsNaN(rho2) {
		rho2 = math.Inf(1)
	}
	return rho, rho2
}

// invert returns E with Δ_h E = R (sine transforms; 1-D: the x part only)
// or, for advection, β E_x + E_t = R (transport).
func (c *checker) invert(R *mat.Dense) *mat.Dense {
	if c.advect {
		return c.transport(R)
	}
	var t, h mat.Dense
	t.Mul(c.s1.T(), R)
	if c.s2 != nil {
		h.Mul(&t, c.s2)
	} else {
		h.CloneFrom(&t)
	}
	hr := h.RawMatrix()
	for i := range hr.Rows {
		for j := range hr.Cols {
			l := c.l1[i]
			if c.l2 != nil {
				l += c.l2[j]
			}
			hr.Data[i*hr.Stride+j] /= l
		}
	}
	t.Mul(c.s1, &h)
	if c.s2 != nil {
		h.Mul(&t, c.s2.T())
		return &h
	}
	return &t
}

// transport returns E with β E_x + E_t = R on the check grid and E = 0 where
// the characteristics x − βt = const enter the domain (t = t0, and x = x0
// for β > 0 or x = x1 for β < 0): at each check point, the integral of R
// along its characteristic back to the domain's edge, which for an exact
// solution u of the equation is the error the residual R of the mean
// accounts for (the boundary values' misfit is ρ's second term).
//
// The integral is sampled where the characteristic crosses the grid lines it
// crosses most often — the columns of fixed x when |β|/hx ≥ 1/ht, else the
// rows of fixed t — one sample per line, R interpolated along the line by
// cubic Lagrange polynomials, and summed by the trapezoidal rule to the edge
// (half a step beyond the last midpoints, where R is extrapolated).
// Integrating along t alone, as if β were 0, overstated the error 9 times
// at β = 50 (u = sin(x − 50t) + x t on [0, 1]² at 64²: 7.5e-4 against the
// mean's error of 8.6e-5 on the check grid; along the characteristics
// 9.2e-5). Cost: O(n1 n2 K), K ≤ max(n1, n2) the samples per point.
func (c *checker) transport(R *mat.Dense) *mat.Dense {
	// Lines are rows of A, positions along them its columns. Going back by
	// one step along a characteristic moves from line L to L − dir and
	// from position p to p − delta, and s (the t it spans) by ds.
	byX := math.Abs(c.beta)*c.ht >= c.hx
	A := R
	dir, delta, ds := 1, c.beta*c.ht/c.hx, c.ht
	if byX {
		delta, ds = c.hx/(math.Abs(c.beta)*c.ht), c.hx/math.Abs(c.beta)
		if c.beta < 0 {
			dir = -1
		}
	} else {
		A = mat.DenseCopyOf(R.T())
	}
	nl, np := A.Dims()
	ar := A.RawMatrix()
	line := func(l int) []float64 { return ar.Data[l*ar.Stride : l*ar.Stride+np] }
	// sigma[l·np + p]: the steps from (l, p) to the domain's edge.
	sigma := make([]float64, nl*np)
	kmax := 0
	for l := range nl {
		for p := range np {
			s := float64(l) + 0.5
			if dir < 0 {
				s = float64(nl) - 0.5 - float64(l)
			}
			if delta > 0 {
				s = math.Min(s, (float64(p)+0.5)/delta)
			} else if delta < 0 {
				s = math.Min(s, (float64(np)-0.5-float64(p))/-delta)
			}
			sigma[l*np+p] = s
			kmax = max(kmax, int(s))
		}
	}
	E := mat.NewDense(nl, np, nil)
	er := E.RawMatrix()
	// Each line of E sums its own samples, the edge's first and then
	// k = 0, 1, …: the lines are split between two goroutines (inRows)
	// with the same sums.
	inRows(nl, np*kmax, func(lo, hi int) {
		for l := lo; l < hi; l++ {
			out := er.Data[l*er.Stride : l*er.Stride+np]
			for p := range np {
				// The edge point, between two lines: linear across them.
				s := sigma[l*np+p]
				f := s - math.Floor(s)
				at := float64(l) - float64(dir)*s
				l0 := min(max(int(math.Floor(at)), 0), nl-2)
				q := float64(p) - delta*s
				v := cubicAt(line(max(l0, 0)), q)
				if nl > 1 {
					w := at - float64(l0) // in [−½, 1½]: extrapolated at the edge
					v = (1-w)*v + w*cubicAt(line(l0+1), q)
				}
				out[p] = ds * f / 2 * v
			}
			for k := 0; k <= kmax; k++ {
				src := l - dir*k
				if src < 0 || src >= nl {
					continue
				}
				from := line(src)
				for p := range np {
					s := sigma[l*np+p]
					K := int(s)
					if k > K {
						continue
					}
					// Trapezoidal weights of samples 0..K and the edge.
					f := s - float64(K)
					w := 1.0
					switch {
					case K == 0:
						w = f / 2
					case k == 0:
						w = 0.5
					case k == K:
						w = (1 + f) / 2
					}
					out[p] += ds * w * cubicAt(from, float64(p)-delta*float64(k))
				}
			}
		}
	})
	if byX {
		return E
	}
	return mat.DenseCopyOf(E.T())
}

// cubicAt returns v at the fractional index q by the cubic Lagrange
// polynomial through the four nearest entries (linear with fewer than
// four), extrapolated by the end ones for q within half a step beyond the
// ends, and constant further out.
func cubicAt(v []float64, q float64) float64 {
	n := len(v)
	q = math.Min(math.Max(q, -0.5), float64(n)-0.5)
	i := int(math.Floor(q))
	if q == float64(i) && i >= 0 && i < n {
		return v[i]
	}
	if n == 1 {
		return v[0]
	}
	if n < 4 {
		i = min(max(i, 0), n-2)
		return v[i] + (q-float64(i))*(v[i+1]-v[i])
	}
	i0 := min(max(i-1, 0), n-4)
	x := q - float64(i0)
	a, b, c, d := x, x-1, x-2, x-3
	return -b*c*d/6*v[i0] + a*c*d/2*v[i0+1] - a*b*d/2*v[i0+2] + a*b*c/6*v[i0+3]
}
