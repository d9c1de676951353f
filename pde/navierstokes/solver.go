package navierstokes

import (
	"fmt"
	"math"

	"eddy/fft"
)

// Coefficients of the five-stage, fourth-order low-storage Runge–Kutta method
// of Carpenter & Kennedy (1994), as in §1.3 of the ST-FNO spec: stage s
// evaluates at time t + α_s Δt, h ← F + β_s h, u ← u + γ_s Δt h.
var (
	rk4Alpha = [6]float64{0, 0.1496590219993, 0.3704009573644, 0.6222557631345, 0.9582821306748, 1}
	rk4Beta  = [5]float64{0, -0.4178904745, -1.192151694643, -1.697784692471, -1.514183444257}
	rk4Gamma = [5]float64{0.1496590219993, 0.3792103129999, 0.8229550293869, 0.6994504559488, 0.1530572479681}
)

// Solver advances one vorticity field in time by the scheme of its Config
// (see the package documentation). Its state is the dealiased half spectrum ω̂
// (n rows m_y, n/2+1 columns m_x ≥ 0, unnormalised DFT). A step costs 4·S real
// 2-D FFTs of n² points for S evaluations of F (S = 1, 2, 5 for imex_euler_cn,
// rk2_cn, rk4_cn), most of its time, plus O(n²) pointwise work, and allocates
// nothing. A Solver is not safe for concurrent use.
type Solver struct {
	n, h int // grid side, half-spectrum width n/2+1
	hs   int // n·h
	L    float64
	dt   float64
	sch  Scheme

	plan *fft.Real

	// Per mode (length hs): ξ_x, ξ_y, 1/|ξ|² (0 at m = 0, and outside the
	// retained set, which also masks), the CN factors of each stage:
	// A_s = (1 + c_s G)/(1 − c_s G), B_s = d_s/(1 − c_s G).
	kx, ky []float64
	invK2  []float64
	keep   []bool
	cxy    []float64 // −ξ_xξ_y on retained modes, else 0
	cdd    []float64 // ξ_y² − ξ_x² on retained modes, else 0
	cnA    [][]float64
	cnB    [][]float64
	fhat   []complex128

	w    []complex128 // state ω̂
	w0   []complex128 // RK2: ω̂ⁿ
	f0   []complex128 // RK2: F(ω̂ⁿ); RK4: h
	spec []complex128 // 2·hs: û, v̂, then (v²−u²)^, (uv)^
	grid []float64    // 2·n²: u, v, then v²−u², uv

	t       float64
	steps   int64
	maxSpd  float64 // max(|u|+|v|) seen since ResetCFL
	colsKep int     // retained columns (m_x) are 0 … colsKep−1

	// Pointwise loops split by rows over team; their arguments are the
	// fields below, the functions are method values stored once.
	team                      *fft.Workers
	spd                       []float64 // per-worker max(|u|+|v|)
	argW, argDst              []complex128
	argStage                  int
	prepFn, prodFn, finFn     func(w, lo, hi int)
	eulerFn, heun1Fn, heun2Fn func(w, lo, hi int)
	rk4Fn                     func(w, lo, hi int)
}

// solverBytes returns the memory a Solver allocates for side n (see NewSolver).
func solverBytes(n int) int64 {
	nn := int64(n)
	hs := nn * (nn/2 + 1)
	// complex: w, w0, f0, fhat, spec(2) = 6·hs; plan spectrum buffer 2·hs.
	// float: kx, ky, invK2, cxy, cdd, cnA+cnB (≤ 10) = 15·hs; grid 2n².
	// Plan scratch: 3 blocks of ≤ 8192 values per worker (4 workers).
	return 16*(9*hs+4*3*8192) + 8*(15*hs+2*nn*nn) + hs
}

// NewSolver returns a solver for the grid, physics and time stepping of c
// (fields n, length, viscosity, drag, forcing, wavenumber, scheme, dt; the
// initial condition and times are ignored) with zero vorticity at t = 0. It
// returns the validation error of c, if any.
func NewSolver(c Config) (*Solver, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("navierstokes: %w", err)
	}
	n := c.N
	h := n/2 + 1
	s := &Solver{n: n, h: h, hs: n * h, L: c.Length, dt: c.Dt, sch: c.Scheme}
	s.plan = fft.NewReal(n, n)
	hs := s.hs
	s.kx = make([]float64, hs)
	s.ky = make([]float64, hs)
	s.invK2 = make([]float64, hs)
	s.keep = make([]bool, hs)
	s.cxy = make([]float64, hs)
	s.cdd = make([]float64, hs)
	g := make([]float64, hs) // G = −ν|ξ|² − μ
	c0 := 2 * math.Pi / c.Length
	for r := range n {
		my := fft.Mode(r, n)
		for k := range h {
			i := r*h + k
			xx, yy := c0*float64(k), c0*float64(my)
			s.kx[i], s.ky[i] = xx, yy
			k2 := xx*xx + yy*yy
			g[i] = -c.Viscosity*k2 - c.Drag
			s.keep[i] = fft.Retained(my, n) && fft.Retained(k, n)
			if s.keep[i] && k2 > 0 {
				s.invK2[i] = 1 / k2
			}
			if s.keep[i] {
				s.cxy[i] = -xx * yy
				s.cdd[i] = yy*yy - xx*xx
			}
		}
	}
	for k := range h {
		if fft.Retained(k, n) {
			s.colsKep = k + 1
		}
	}
	// The state and every F are dealiased: skip the discarded columns.
	s.plan.SetTruncation(s.colsKep)
	// CN factors per stage: c_s multiplies G on both sides, d_s the explicit term.
	var cs, ds []float64
	switch c.Scheme {
	case SchemeEulerCN, SchemeRK2CN:
		cs, ds = []float64{c.Dt / 2}, []float64{c.Dt}
	case SchemeRK4CN:
		for st := range 5 {
			cs = append(cs, c.Dt/2*(rk4Alpha[st+1]-rk4Alpha[st]))
			ds = append(ds, rk4Gamma[st]*c.Dt)
		}
	}
	for st := range cs {
		a := make([]float64, hs)
		b := make([]float64, hs)
		for i, gi := range g {
			den := 1 - cs[st]*gi
			a[i] = (1 + cs[st]*gi) / den
			b[i] = ds[st] / den
		}
		s.cnA = append(s.cnA, a)
		s.cnB = append(s.cnB, b)
	}
	s.fhat = make([]complex128, hs)
	s.w = make([]complex128, hs)
	s.w0 = make([]complex128, hs)
	s.f0 = make([]complex128, hs)
	s.spec = make([]complex128, 2*hs)
	s.grid = make([]float64, 2*n*n)
	if f := forcingField(c); f != nil {
		s.plan.Forward(s.fhat, f)
		s.project(s.fhat)
	}
	s.prepFn, s.prodFn, s.finFn = s.prepRows, s.prodRows, s.finishRows
	s.eulerFn, s.heun1Fn, s.heun2Fn, s.rk4Fn = s.eulerRows, s.heun1Rows, s.heun2Rows, s.rk4Rows
	s.SetWorkers(1)
	return s, nil
}

// forcingField returns f on the grid, or nil for no forcing.
func forcingField(c Config) []float64 {
	n := c.N
	var fn func(x, y float64) float64
	switch c.Forcing {
	case ForcingFNO:
		fn = func(x, y float64) float64 {
			a := 2 * math.Pi * (x + y) / c.Length
			return 0.1 * (math.Sin(a) + math.Cos(a))
		}
	case ForcingKolmogorov:
		kappa := 2 * math.Pi * float64(c.Wavenumber) / c.Length
		fn = func(x, y float64) float64 { return -kappa * math.Cos(kappa*y) }
	default:
		return nil
	}
	f := make([]float64, n*n)
	for i := range n {
		for j := range n {
			f[i*n+j] = fn(float64(j)*c.Length/float64(n), float64(i)*c.Length/float64(n))
		}
	}
	return f
}

// SetWorkers sets the number of goroutines (≥ 1) that share the transforms
// and the pointwise work of each step.
// The transforms split only passes large enough to pay for the hand-off, and
// the pointwise loops are split only from n ≈ 180 on, for the same reason.
func (s *Solver) SetWorkers(w int) {
	s.plan.SetWorkers(w)
	if s.hs < 1<<14 {
		s.team = fft.NewWorkers(1)
	} else {
		s.team = fft.NewWorkers(w)
	}
	for len(s.spd) < w {
		s.spd = append(s.spd, 0)
	}
}

// N returns the grid side.
func (s *Solver) N() int { return s.n }

// Time returns the simulated time, steps·Δt.
func (s *Solver) Time() float64 { return s.t }

// Steps returns the number of steps taken since the last SetVorticity.
func (s *Solver) Steps() int64 { return s.steps }

// project zeroes the modes of a half spectrum that the 2/3 rule discards.
func (s *Solver) project(x []complex128) {
	for i, k := range s.keep {
		if !k {
			x[i] = 0
		}
	}
}

// SetVorticity sets the state to the projection of the grid field omega
// (n×n, row-major, see the package documentation) onto the retained,
// mean-free modes, and resets the time to 0.
func (s *Solver) SetVorticity(omega []float64) {
	if len(omega) != s.n*s.n {
		panic(fmt.Sprintf("navierstokes: len(omega) = %d, want %d", len(omega), s.n*s.n))
	}
	s.plan.Forward(s.w, omega)
	s.project(s.w)
	s.w[0] = 0
	s.t, s.steps = 0, 0
	s.maxSpd = 0
}

// Vorticity writes the grid values of the current state into dst (n×n).
func (s *Solver) Vorticity(dst []float64) {
	if len(dst) != s.n*s.n {
		panic(fmt.Sprintf("navierstokes: len(dst) = %d, want %d", len(dst), s.n*s.n))
	}
	s.plan.Inverse(dst, s.w)
}

// Spectrum returns the state ω̂ (unnormalised half spectrum, n×(n/2+1)); the
// slice is the solver's own and changes with Step.
func (s *Solver) Spectrum() []complex128 { return s.w }

// Nonlinear sets dst to the dealiased advection term P(u·∇ω)^ of the half
// spectrum w (both n×(n/2+1)); w must be mean-free and dealiased. It costs
// two inverse and two forward real 2-D FFTs, and records max(|u|+|v|) for
// CFL.
func (s *Solver) Nonlinear(dst, w []complex128) {
	if len(dst) != s.hs || len(w) != s.hs {
		panic(fmt.Sprintf("navierstokes: Nonlinear: len(dst) = %d, len(w) = %d, want %d", len(dst), len(w), s.hs))
	}
	s.argDst = dst
	s.evaluate(w, s.finFn)
	s.argDst = nil
}

// evaluate computes the advection term of w and hands it to finish, run
// over the half-spectrum rows: the products of the form of Basdevant (1983)
// for divergence-free u in 2-D,
//
//	u·∇ω = ∂x∂y(v² − u²) + (∂x² − ∂y²)(uv),
//
// which needs two inverse and two forward transforms instead of the five of
// u ω_x + v ω_y, are left transformed in spec; finish forms
// N̂ = −ξ_xξ_y (v²−u²)^ + (ξ_y² − ξ_x²)(uv)^ row by row (nl) and uses it. Both
// products are exact on the retained modes (2/3 rule), so N̂ is the same
// Galerkin term as the advective form's up to rounding.
func (s *Solver) evaluate(w []complex128, finish func(w, lo, hi int)) {
	s.argW = w
	s.team.Run(s.n, s.prepFn)
	s.plan.Inverse(s.grid, s.spec)
	clear(s.spd)
	s.team.Run(s.n, s.prodFn)
	for _, v := range s.spd {
		s.maxSpd = max(s.maxSpd, v)
	}
	s.plan.Forward(s.spec, s.grid)
	s.team.Run(s.n, finish)
	s.argW = nil
}

// nl returns the views of the transformed products and their coefficients
// on half-spectrum elements [a, b).
func (s *Solver) nl(a, b int) (p1, p2 []complex128, c1, c2 []float64) {
	return s.spec[a:b], s.spec[s.hs+a : s.hs+b], s.cxy[a:b], s.cdd[a:b]
}

// prepRows forms, for half-spectrum rows [lo, hi), ψ̂ = ω̂/|ξ|²,
// û = iξ_y ψ̂ and v̂ = −iξ_x ψ̂.
func (s *Solver) prepRows(_, lo, hi int) {
	hs := s.hs
	a, b := lo*s.h, hi*s.h
	w := s.argW[a:b]
	uh := s.spec[a:b]
	vh := s.spec[hs+a : hs+b]
	kx, ky, ik := s.kx[a:b], s.ky[a:b], s.invK2[a:b]
	for i, z := range w {
		// i ω̂ = (−Im ω̂, Re ω̂), times real factors.
		zr, zi := -imag(z), real(z)
		p, q := ky[i]*ik[i], -kx[i]*ik[i]
		uh[i] = complex(p*zr, p*zi)
		vh[i] = complex(q*zr, q*zi)
	}
}

// prodRows replaces u, v on grid rows [lo, hi) by v² − u² and uv, and
// records the largest |u|+|v|.
func (s *Solver) prodRows(worker, lo, hi int) {
	nn := s.n * s.n
	a, b := lo*s.n, hi*s.n
	u := s.grid[a:b]
	v := s.grid[nn+a : nn+b]
	spd := s.spd[worker]
	for i, x := range u {
		y := v[i]
		u[i] = y*y - x*x
		v[i] = x * y
		if sp := math.Abs(x) + math.Abs(y); sp > spd {
			spd = sp
		}
	}
	s.spd[worker] = spd
}

// finishRows writes N̂ on half-spectrum rows [lo, hi) to argDst.
func (s *Solver) finishRows(_, lo, hi int) {
	a, b := lo*s.h, hi*s.h
	d := s.argDst[a:b]
	p1, p2, c1, c2 := s.nl(a, b)
	for i, z := range p1 {
		d[i] = axpby(c1[i], z, c2[i], p2[i])
	}
}

// Step advances the state by one time step Δt. Each update is fused with the
// last pass of its evaluation of F = f̂ − N̂.
func (s *Solver) Step() {
	switch s.sch {
	case SchemeEulerCN:
		s.evaluate(s.w, s.eulerFn)
	case SchemeRK2CN:
		// Predictor ω* = A ωⁿ + B F(ωⁿ); corrector ωⁿ⁺¹ = A ωⁿ + B (F(ωⁿ) + F(ω*))/2.
		s.evaluate(s.w, s.heun1Fn)
		s.evaluate(s.w, s.heun2Fn)
	case SchemeRK4CN:
		for st := range 5 {
			s.argStage = st
			s.evaluate(s.w, s.rk4Fn)
		}
	}
	s.steps++
	s.t = float64(s.steps) * s.dt
}

// axpby returns a·x + b·y for real a, b.
func axpby(a float64, x complex128, b float64, y complex128) complex128 {
	return complex(a*real(x)+b*real(y), a*imag(x)+b*imag(y))
}

// eulerRows: ω̂ ← A ω̂ + B F on half-spectrum rows [lo, hi).
func (s *Solver) eulerRows(_, lo, hi int) {
	a, b := lo*s.h, hi*s.h
	w, f := s.w[a:b], s.fhat[a:b]
	ca, cb := s.cnA[0][a:b], s.cnB[0][a:b]
	p1, p2, c1, c2 := s.nl(a, b)
	for i, z := range w {
		F := f[i] - axpby(c1[i], p1[i], c2[i], p2[i])
		w[i] = axpby(ca[i], z, cb[i], F)
	}
}

// heun1Rows keeps ωⁿ and F(ωⁿ) and forms the predictor.
func (s *Solver) heun1Rows(_, lo, hi int) {
	a, b := lo*s.h, hi*s.h
	w, w0, f0, f := s.w[a:b], s.w0[a:b], s.f0[a:b], s.fhat[a:b]
	ca, cb := s.cnA[0][a:b], s.cnB[0][a:b]
	p1, p2, c1, c2 := s.nl(a, b)
	for i, z := range w {
		F := f[i] - axpby(c1[i], p1[i], c2[i], p2[i])
		f0[i] = F
		w0[i] = z
		w[i] = axpby(ca[i], z, cb[i], F)
	}
}

// heun2Rows forms the corrector.
func (s *Solver) heun2Rows(_, lo, hi int) {
	a, b := lo*s.h, hi*s.h
	w, w0, f0, f := s.w[a:b], s.w0[a:b], s.f0[a:b], s.fhat[a:b]
	ca, cb := s.cnA[0][a:b], s.cnB[0][a:b]
	p1, p2, c1, c2 := s.nl(a, b)
	for i, z := range w0 {
		F := f[i] - axpby(c1[i], p1[i], c2[i], p2[i])
		w[i] = axpby(ca[i], z, 0.5*cb[i], f0[i]+F)
	}
}

// rk4Rows is stage argStage of the low-storage RK4–CN step:
// h ← F + β_s h, ω̂ ← A_s ω̂ + B_s h.
func (s *Solver) rk4Rows(_, lo, hi int) {
	st := s.argStage
	a, b := lo*s.h, hi*s.h
	w, hb, f := s.w[a:b], s.f0[a:b], s.fhat[a:b]
	ca, cb := s.cnA[st][a:b], s.cnB[st][a:b]
	p1, p2, c1, c2 := s.nl(a, b)
	beta := rk4Beta[st]
	if st == 0 {
		for i, z := range w {
			hh := f[i] - axpby(c1[i], p1[i], c2[i], p2[i])
			hb[i] = hh
			w[i] = axpby(ca[i], z, cb[i], hh)
		}
		return
	}
	for i, z := range w {
		F := f[i] - axpby(c1[i], p1[i], c2[i], p2[i])
		hh := axpby(1, F, beta, hb[i])
		hb[i] = hh
		w[i] = axpby(ca[i], z, cb[i], hh)
	}
}

// CFL returns Δt·max(|u|+|v|)/Δx over every evaluation of the nonlinear term
// since the last SetVorticity or ResetCFL, with Δx = L/n.
func (s *Solver) CFL() float64 { return s.dt * s.maxSpd * float64(s.n) / s.L }

// ResetCFL forgets the velocity maximum recorded so far.
func (s *Solver) ResetCFL() { s.maxSpd = 0 }

// weight returns the multiplicity of half-spectrum column k in the full
// spectrum: 1 for m_x = 0 and the Nyquist column of even n, 2 otherwise.
func (s *Solver) weight(k int) float64 {
	if k == 0 || (s.n%2 == 0 && k == s.n/2) {
		return 1
	}
	return 2
}

// Energy returns the mean kinetic energy ½⟨|u|²⟩ = ½ Σ_m |ω̂_m|²/(|ξ_m|² n⁴)
// (mean over the domain, full spectrum).
func (s *Solver) Energy() float64 {
	var e float64
	for r := range s.n {
		for k := range s.h {
			i := r*s.h + k
			z := s.w[i]
			e += s.weight(k) * (real(z)*real(z) + imag(z)*imag(z)) * s.invK2[i]
		}
	}
	n2 := float64(s.n) * float64(s.n)
	return 0.5 * e / (n2 * n2)
}

// Enstrophy returns the mean enstrophy ½⟨ω²⟩ = ½ Σ_m |ω̂_m|²/n⁴.
func (s *Solver) Enstrophy() float64 {
	var e float64
	for r := range s.n {
		for k := range s.h {
			z := s.w[r*s.h+k]
			e += s.weight(k) * (real(z)*real(z) + imag(z)*imag(z))
		}
	}
	n2 := float64(s.n) * float64(s.n)
	return 0.5 * e / (n2 * n2)
}

// EnergySpectrum sets dst (length n/2+1) to the shell-summed energy spectrum
// E(k) = Σ_{k−½ ≤ |m| < k+½} ½|ω̂_m|²/(|ξ_m|² n⁴), k = 0 … n/2, where |m| is
// the length of the integer wavevector (waves per side L), so that Σ_k E(k) is
// Energy (every retained mode has |m| < n/2·√(8/9) < n/2+½).
func (s *Solver) EnergySpectrum(dst []float64) {
	if len(dst) != s.n/2+1 {
		panic(fmt.Sprintf("navierstokes: len(dst) = %d, want %d", len(dst), s.n/2+1))
	}
	clear(dst)
	n2 := float64(s.n) * float64(s.n)
	for r := range s.n {
		my := fft.Mode(r, s.n)
		for k := range s.h {
			i := r*s.h + k
			z := s.w[i]
			e := s.weight(k) * (real(z)*real(z) + imag(z)*imag(z)) * s.invK2[i]
			if e == 0 {
				continue
			}
			sh := int(math.Round(math.Hypot(float64(k), float64(my))))
			if sh < len(dst) {
				dst[sh] += 0.5 * e / (n2 * n2)
			}
		}
	}
}
