package gphm

import (
	"context"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"

	"eddy/progress"
)

// Training paths reported in Result.Path.
const (
	// PathAdam is the paper's method: Adam jointly on U, the spectra and the
	// log noise precisions.
	PathAdam = "adam"
	// PathExactU eliminates U: for fixed kernel parameters the objective is
	// minimised exactly in U (one Newton step for linear PDEs, Gauss–Newton for
	// Allen–Cahn) and L-BFGS optimises the spectra on the resulting profile.
	PathExactU = "exact-u+lbfgs"
)

// exactLogTau is log τ1 = log τ2 on the exact-U path. With U eliminated the
// joint objective is unbounded below in τ2 (the residual can be driven to zero
// while −½M log τ2 → −∞), so the precisions are fixed there instead of learned.
// The balance of prior and residual is invariant under scaling of the data, so
// one value serves all amplitudes.
const exactLogTau = 16

// MaxExactNodes2D is the largest 2-D grid (n1·n2 nodes) solved on the exact-U
// path; its dense Gauss–Newton matrix has (n1 n2)² entries. Larger 2-D grids
// take the Adam path.
const MaxExactNodes2D = 4096

// ActiveWeight is the weight above which a mixture component counts as active
// (the authors' diagnostic; components are never deleted).
const ActiveWeight = 1e-2

// maxHistory bounds the length of Result.Loss.
const maxHistory = 10000

// SpectrumResult is the learned kernel of one dimension, one entry per component.
type SpectrumResult struct {
	// Weights w_q.
	Weights []float64 `json:"weights"`
	// Frequencies μ_q in cycles per unit length (zero for se and matern).
	Frequencies []float64 `json:"frequencies"`
	// LengthScales ℓ_q of the envelope in its standard form: exp(−z²/(2ℓ²)) for
	// gm and se (ℓ = 1/√(2ρ²)), and the Matérn-5/2 function of √5|z|/ℓ for stm
	// and matern (ℓ = exp(−LogLS)).
	LengthScales []float64 `json:"length_scales"`
	// Active is the number of components with w_q > ActiveWeight.
	Active int `json:"active"`
}

// Result is the outcome of Solve. Grid arrays are row-major with the first axis
// x and the second y (t for advection): U[i*len(Y)+j] = u(X[i], Y[j]); in 1-D Y
// is nil and U[i] = u(X[i]).
type Result struct {
	X, Y []float64
	// U is the posterior mean of the final iterate on the grid nodes,
	// (K1 − εI) K1⁻¹ U K2⁻¹ (K2 − εI) with ε the jitter.
	U []float64
	// UExact is the exact solution on the grid, nil when unknown.
	UExact []float64
	// RelL2 is ‖û − u*‖₂/‖u*‖₂ of the final iterate on 300 uniform points per
	// axis (300² in 2-D), boundary included, as in the paper; RelL2Grid is the
	// same on the grid nodes. Both are NaN when the exact solution is unknown.
	RelL2, RelL2Grid float64
	// Spectra holds the learned kernel of each dimension.
	Spectra []SpectrumResult
	// Tau are the noise precisions (τ1 boundary, τ2 residual).
	Tau [2]float64
	// Loss is −L after each iteration, or after every LossEvery-th iteration
	// when there were more than 10000.
	Loss      []float64
	LossEvery int
	// Path is PathAdam or PathExactU; Iterations the number run.
	Path       string
	Iterations int
	Seconds    float64
}

// Solve runs GP-HM on the problem of cfg and returns the final iterate. It
// checks ctx every iteration and returns ctx.Err() when cancelled; fn receives
// the iteration, the loss and, when the exact solution is known, the current
// relative error on the grid. 1-D problems take the exact-U path, 2-D problems
// the paper's Adam path. Cost per iteration: O(n³) in 1-D, O(n³) per axis plus
// O(n1 n2 (n1 + n2)) mode products in 2-D; never a dense kernel over the grid.
func Solve(ctx context.Context, cfg Config, fn progress.Func) (*Result, error) {
	start := time.Now()
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	rc := r.cfg
	order := r.pde.order()
	axes := []*axis{newAxis(r.kernel, rc.N, rc.XMin, rc.XMax, order)}
	if r.pde.Dims() == 2 {
		axes = append(axes, newAxis(r.kernel, rc.N, rc.YMin, rc.YMax, order))
	}
	n1, n2 := rc.N, 1
	if len(axes) == 2 {
		n2 = rc.N
	}
	F := mat.NewDense(n1, n2, nil)
	var uex *mat.Dense
	if r.prob.exact != nil {
		uex = mat.NewDense(n1, n2, nil)
	}
	at := make([]float64, len(axes))
	for i := range n1 {
		for j := range n2 {
			at[0] = axes[0].coord(i)
			if len(axes) == 2 {
				at[1] = axes[1].coord(j)
			}
			f := r.prob.sourceAt(at)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				field := "source"
				if r.prob.source == nil {
					field = "exact"
				}
				return nil, &ExprError{Field: field, Pos: -1, Err: fmt.Errorf("source is %v at %v", f, at)}
			}
			F.Set(i, j, f)
			if uex != nil {
				v := r.prob.exact.Eval(at)
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, &ExprError{Field: "exact", Pos: -1, Err: fmt.Errorf("value %v at %v", v, at)}
				}
				uex.Set(i, j, v)
			}
		}
	}
	bIdx := boundaryIndex(n1, n2, len(axes))
	g := make([]float64, len(bIdx))
	for k, idx := range bIdx {
		at[0] = axes[0].coord(idx / n2)
		if len(axes) == 2 {
			at[1] = axes[1].coord(idx % n2)
		}
		g[k] = r.prob.boundaryAt(at)
		if math.IsNaN(g[k]) || math.IsInf(g[k], 0) {
			field := "boundary"
			if r.prob.bound == nil {
				field = "exact"
			}
			return nil, &ExprError{Field: field, Pos: -1, Err: fmt.Errorf("boundary value %v at %v", g[k], at)}
		}
	}
	m := newModel(r.pde, r.kernel, axes, F, bIdx, g, rc.Beta, rc.LambdaB)
	specs := make([]Spectrum, len(axes))
	for j := range specs {
		specs[j] = NewSpectrum(r.kernel, rc.Components, rc.FreqScale)
	}
	s := &session{m: m, specs: specs, q: rc.Components, U: mat.NewDense(n1, n2, nil), uex: uex, fn: fn, iters: rc.Iterations}
	res := &Result{}
	if len(axes) == 1 || n1*n2 <= MaxExactNodes2D {
		res.Path = PathExactU
		err = s.runExactU(ctx)
	} else {
		res.Path = PathAdam
		err = s.runAdam(ctx, rc.LR)
	}
	if err != nil {
		return nil, err
	}
	if err := m.update(specs); err != nil {
		return nil, fmt.Errorf("final iterate: %w", err)
	}
	mean := s.gridMean()
	res.U = append([]float64(nil), mean.RawMatrix().Data...)
	res.X = coords(axes[0])
	if len(axes) == 2 {
		res.Y = coords(axes[1])
	}
	res.RelL2, res.RelL2Grid = math.NaN(), math.NaN()
	if uex != nil {
		res.UExact = append([]float64(nil), uex.RawMatrix().Data...)
		res.RelL2Grid = relErr(mean, uex)
		res.RelL2 = s.testError(r.prob.exact)
	}
	for j := range axes {
		res.Spectra = append(res.Spectra, spectrumResult(r.kernel, specs[j]))
	}
	res.Tau = [2]float64{math.Exp(s.lt[0]), math.Exp(s.lt[1])}
	res.Loss, res.LossEvery = s.loss, s.lossEvery
	res.Iterations = s.done
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// session holds the state of one optimisation.
type session struct {
	m         *model
	specs     []Spectrum
	q         int
	U         *mat.Dense
	lt        [2]float64
	uex       *mat.Dense
	fn        progress.Func
	iters     int
	done      int
	loss      []float64
	lossEvery int
}

// record appends the loss of iteration it (0-based) and reports progress.
func (s *session) record(it int, loss float64) {
	if s.lossEvery == 0 {
		s.lossEvery = max(1, (s.iters+maxHistory-1)/maxHistory)
	}
	if it%s.lossEvery == 0 {
		s.loss = append(s.loss, loss)
	}
	s.done = it + 1
	every := max(1, s.iters/200)
	if s.fn == nil || (it%every != 0 && it != s.iters-1) {
		return
	}
	metrics := map[string]float64{"loss": loss}
	if s.uex != nil {
		metrics["rel_l2_grid"] = relErr(s.gridMean(), s.uex)
	}
	s.fn.Report(progress.Update{
		Fraction: float64(it+1) / float64(max(s.iters, 1)),
		Message:  fmt.Sprintf("iteration %d of %d", it+1, s.iters),
		Metrics:  metrics,
	})
}

// pack writes the spectra into x (layout per axis [LogW | LogLS | Mu]).
func (s *session) pack(x []float64) {
	for j, sp := range s.specs {
		o := j * 3 * s.q
		copy(x[o:], sp.LogW)
		copy(x[o+s.q:], sp.LogLS)
		copy(x[o+2*s.q:], sp.Mu)
	}
}

func (s *session) unpack(x []float64) {
	for j, sp := range s.specs {
		o := j * 3 * s.q
		copy(sp.LogW, x[o:o+s.q])
		copy(sp.LogLS, x[o+s.q:o+2*s.q])
		copy(sp.Mu, x[o+2*s.q:o+3*s.q])
	}
}

// runExactU is the exact-U path: L-BFGS on the spectrum, U re-solved at
// every evaluation. By the envelope theorem the gradient of the profile
// objective is the partial gradient at the optimal U.
func (s *session) runExactU(ctx context.Context) error {
	n1, n2 := s.m.n1, s.m.n2
	s.lt = [2]float64{exactLogTau, exactLogTau}
	e := newExactU(n1, n2)
	steps := 2
	if !s.m.pde.Linear() {
		steps = 30
	}
	np := 3 * s.q * len(s.specs)
	x := make([]float64, np)
	s.pack(x)
	gs := make([][]float64, len(s.specs))
	for j := range gs {
		gs[j] = make([]float64, 3*s.q)
	}
	best := s.U
	trial := mat.NewDense(n1, n2, nil)
	var evalErr error
	eval := func(x, g []float64) float64 {
		s.unpack(x)
		if err := s.m.update(s.specs); err != nil {
			evalErr = err
			return math.Inf(1)
		}
		trial.Copy(best)
		if _, err := e.solve(s.m, trial, s.lt, steps); err != nil {
			evalErr = err
			return math.Inf(1)
		}
		v := s.m.objective(trial, s.lt, nil, gs, nil)
		for j := range gs {
			copy(g[j*3*s.q:], gs[j])
		}
		return v
	}
	g := make([]float64, np)
	f := eval(x, g)
	if math.IsInf(f, 1) {
		return fmt.Errorf("initial kernel: %w", evalErr)
	}
	best.Copy(trial)
	o := newLBFGS(np, 10)
	for it := range s.iters {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, ok := o.step(x, &f, g, eval)
		if ok {
			best.Copy(trial) // the accepted point is always the last one evaluated
		}
		s.record(it, f)
		if !ok {
			break // no further decrease: converged to rounding
		}
	}
	s.unpack(x)
	if err := s.m.update(s.specs); err != nil {
		return err
	}
	_, err := e.solve(s.m, s.U, s.lt, steps)
	return err
}

// runAdam is the paper's path: Adam on all of U, the spectra and log τ.
func (s *session) runAdam(ctx context.Context, lr float64) error {
	M := s.m.nodes()
	ns := 3 * s.q * len(s.specs)
	x := make([]float64, M+ns+2)
	g := make([]float64, len(x))
	s.pack(x[M:])
	gU := mat.NewDense(s.m.n1, s.m.n2, nil)
	gs := make([][]float64, len(s.specs))
	for j := range gs {
		gs[j] = make([]float64, 3*s.q)
	}
	o := newAdam(len(x), lr)
	for it := range s.iters {
		if err := ctx.Err(); err != nil {
			return err
		}
		copy(s.U.RawMatrix().Data, x[:M])
		s.unpack(x[M:])
		s.lt = [2]float64{x[M+ns], x[M+ns+1]}
		if err := s.m.update(s.specs); err != nil {
			return fmt.Errorf("iteration %d: %w", it, err)
		}
		var gl [2]float64
		f := s.m.objective(s.U, s.lt, gU, gs, &gl)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("iteration %d: objective is %v", it, f)
		}
		copy(g, gU.RawMatrix().Data)
		for j := range gs {
			copy(g[M+j*3*s.q:], gs[j])
		}
		g[M+ns], g[M+ns+1] = gl[0], gl[1]
		o.step(x, g)
		s.record(it, f)
	}
	copy(s.U.RawMatrix().Data, x[:M])
	s.unpack(x[M:])
	s.lt = [2]float64{x[M+ns], x[M+ns+1]}
	return nil
}

// gridMean returns the posterior mean on the grid nodes for the current
// factors: k(X, X) K⁻¹ U per axis, i.e. (I − εK1⁻¹) U (I − εK2⁻¹).
func (s *session) gridMean() *mat.Dense {
	m := s.m
	out := mat.NewDense(m.n1, m.n2, nil)
	out.Mul(m.ax[0].Kinv, s.U)
	out.Scale(-jitter, out)
	out.Add(out, s.U)
	if len(m.ax) == 2 {
		t := mat.NewDense(m.n1, m.n2, nil)
		t.Mul(out, m.ax[1].Kinv)
		t.Scale(-jitter, t)
		out.Add(out, t)
	}
	return out
}

// testError is the paper's metric: relative L2 error of the posterior mean on
// 300 uniform points per axis, end points included.
func (s *session) testError(exact interface{ Eval([]float64) float64 }) float64 {
	const nt = 300
	m := s.m
	xs := linspace(m.ax[0].x0, m.ax[0].coord(m.ax[0].n-1), nt)
	var ys []float64
	if len(m.ax) == 2 {
		ys = linspace(m.ax[1].x0, m.ax[1].coord(m.ax[1].n-1), nt)
	}
	p := m.predict(s.U, xs, ys)
	var num, den float64
	at := make([]float64, len(m.ax))
	for i, x := range xs {
		at[0] = x
		if ys == nil {
			u := exact.Eval(at)
			d := p.At(i, 0) - u
			num += d * d
			den += u * u
			continue
		}
		for j, y := range ys {
			at[1] = y
			u := exact.Eval(at)
			d := p.At(i, j) - u
			num += d * d
			den += u * u
		}
	}
	return math.Sqrt(num / den)
}

func linspace(a, b float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	x[n-1] = b
	return x
}

func coords(a *axis) []float64 {
	x := make([]float64, a.n)
	for i := range x {
		x[i] = a.coord(i)
	}
	return x
}

func relErr(a, b *mat.Dense) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return math.Sqrt(frob(&d, &d) / frob(b, b))
}

func spectrumResult(k Kernel, s Spectrum) SpectrumResult {
	q := s.Q()
	r := SpectrumResult{Weights: make([]float64, q), Frequencies: make([]float64, q), LengthScales: make([]float64, q)}
	for i := range q {
		r.Weights[i] = math.Exp(s.LogW[i])
		if r.Weights[i] > ActiveWeight {
			r.Active++
		}
		if k.Modulated() {
			r.Frequencies[i] = s.Mu[i]
		}
		if k == GM || k == SE {
			r.LengthScales[i] = 1 / math.Sqrt(2*math.Exp(s.LogLS[i]))
		} else {
			r.LengthScales[i] = math.Exp(-s.LogLS[i])
		}
	}
	return r
}
