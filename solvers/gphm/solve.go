package gphm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"eddy/progress"
)

// Training paths reported in Result.Path.
const (
	// PathExactU eliminates U: for fixed kernel parameters the objective is
	// minimised exactly in U (one Newton step for linear PDEs, Gauss–Newton for
	// Allen–Cahn) with a dense factorisation, and L-BFGS optimises the spectra
	// on the resulting profile.
	PathExactU = "exact-u+lbfgs"
	// PathKronCG is PathExactU for large 2-D grids: the Newton (Gauss–Newton)
	// systems in U are solved matrix-free by Kronecker-structured
	// preconditioned conjugate gradients (kroncg.go).
	PathKronCG = "kron-cg+lbfgs"
)

// ExactLogTau is log τ1 = log τ2 on the exact-U path. With U eliminated the
// joint objective is unbounded below in τ2 (the residual can be driven to zero
// while −½M log τ2 → −∞), so the precisions are fixed there instead of learned.
// The balance of prior and residual is not invariant under scaling of the
// data or of the coordinates: dataScale and coordScales bring a problem's
// to the sizes this value was set for. As the only value, 20 solved p2d1 in
// 39 s instead of 53 and most held-out 2-D Poisson problems more
// accurately, but sin 20x sin 20y on [0, 2π]² at 48² ended at 2.5e-2
// instead of 1.4e-6, and 1-D p1 at 7e-7 instead of 1.9e-14
// (bench/results/gphm.md); 2-D Poisson tries it first (TightLogTau).
const ExactLogTau = 16

// ActiveWeight is the share of the total weight Σ_q w_q = k(0) above which a
// mixture component counts as active (the authors' diagnostic, w_q > 1e-2,
// made relative like the nugget: the kernel's overall scale is free;
// components are never deleted).
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
	// Active is the number of components with w_q > ActiveWeight·Σ_q w_q.
	Active int `json:"active"`
	// FreqScale is the axis's frequency scale F (Config.FreqScale, chosen
	// from the data when that is 0) and DataFrequency the largest frequency
	// the data show along the axis (dataFrequencies), in cycles per unit.
	FreqScale     float64 `json:"freq_scale"`
	DataFrequency float64 `json:"data_frequency"`
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
	// DataScale is the power of two s the data were divided by (dataScale),
	// and the coordinates may have been multiplied by powers of two
	// (coordScales): U, UExact, X, Y, the trend's coefficients, the spectra
	// and Tau are those of the problem as given, Loss and FinalLoss those of
	// the problem solved.
	DataScale float64
	// CoordScale is, per axis, the power of two its coordinates were
	// multiplied by (coordScales; 1 when not).
	CoordScale []float64
	// Loss is −L after each iteration, or after every LossEvery-th iteration
	// when there were more than 10000.
	Loss      []float64
	LossEvery int
	// Nugget is the nugget mode used (NuggetRelative, NuggetRelative10 or
	// NuggetAbsolute);
	// NuggetShare is ‖U − mean‖/‖U‖ on the grid, the part of the final grid
	// values the nugget rather than the kernel accounts for (converged
	// solutions: below 1e-3).
	Nugget      string
	NuggetShare float64
	// NuggetReason says why the trend and nugget were chosen (the check
	// residuals of the variants tried under TrendAuto or NuggetAuto; one
	// stopped because a variant started beside it ended more than
	// OutrunFactor times under it says so).
	NuggetReason string
	// TauReason says why the precisions τ were chosen, when two were tried
	// (solveOnce).
	TauReason string
	// Kernel is the kernel of the returned run: the requested one, or the
	// other spectral-mixture kernel after a restart (Restarts = 1).
	Kernel   string
	Restarts int
	// Coarse describes the coarse stage (coarse.go), nil when none ran.
	Coarse *CoarseStage
	// start is where a run on a finer grid may start from this one
	// (resolved.keepStart).
	start *startPoint
	// Trend is the trend mode and TrendCoefficients the fitted β of the
	// Legendre basis (trend.go), nil without a trend.
	Trend             string
	TrendCoefficients []float64
	// TrendHeldFrom is the iteration from which L-BFGS ran with the trend's
	// coefficients held fixed, freed again for the last solve (runProfile):
	// 0 in 1-D, from the start; in 2-D the iteration after CappedFix
	// capped Newton solves (linear PDEs), or −1 when they stayed free; −1
	// without a trend.
	TrendHeldFrom int
	// Path is PathExactU or PathKronCG; Iterations the number run.
	Path       string
	Iterations int
	Seconds    float64
	// CGIterations and CGSolves count the conjugate-gradient iterations and
	// linear solves of the Kronecker-CG path (zero in 1-D) in the returned
	// run; CGIterationsAll the iterations of every run Solve made (the
	// other trend and nugget variants, the other kernel's runs after a
	// restart or beside the requested kernel's), which its time pays for.
	CGIterations, CGSolves int
	CGIterationsAll        int
	// CGHarmonicSolves counts the solves preconditioned by the harmonic
	// preconditioner (harmonic.go; the others used the Kronecker-sum one),
	// CGTailSolves those of them with its tail solve (tail.go).
	CGHarmonicSolves, CGTailSolves int
	// CGDenseSolves counts the solves preconditioned by the Newton matrix's
	// own Cholesky factor (grids of at most DenseNodes nodes, dense.go), of
	// an earlier operator unless the last solve took more than denseRefresh
	// iterations; CGDenseBuilds counts the factorisations.
	CGDenseSolves, CGDenseBuilds int
	// CGCutSolves counts the solves at line-search trials stopped once
	// their objective was estimated to end above what the search accepts;
	// CGIterations counts their iterations, CGSolves does not count them.
	CGCutSolves int
	// CheckResidual is ρ of the returned solution, the PDE residual on the
	// check grid in a negative Sobolev norm plus the boundary misfit, an
	// estimate of the relative error observable without the exact solution;
	// CheckResidualL2 is the plain relative L2 residual ρ₂ (check.go).
	// Residual is ρ after each iteration (same sampling as Loss).
	CheckResidual, CheckResidualL2 float64
	Residual                       []float64
	// StopReason is StopTolerance, StopStationary, StopLossNoisy,
	// StopLossFlat, StopResidualRising, StopResidualFlat or StopBudget.
	StopReason string
	// Warnings describe anything that makes the result doubtful: a budget
	// that ran out, a residual above ResidualTol, a restart.
	Warnings []string
	// FinalLoss is −L at the last iteration. LossChange is its relative
	// change over the last tenth of the iterations (at least one),
	// |L_k − L_{k−w}| / max(|L_k|, 1); NaN when fewer were run.
	FinalLoss, LossChange float64
	// Converged reports whether the run stopped for a reason other than the
	// budget (StopReason), its check residual is at most ResidualTol and,
	// when the exact solution is known, it is not another solution of the
	// equation (OtherSolution).
	Converged bool
	// UnstableModes is the number of non-negative eigenvalues of the
	// linearised operator Δ + diag(3û² − 1) at the returned solution of an
	// Allen–Cahn problem (unique.go): 0 when the solution is isolated and
	// the data admit no other solution nearby, positive when they may admit
	// others, −1 when undetermined (2-D, where only a sufficient condition
	// is checked); 0 for linear PDEs.
	UnstableModes int
	// OtherSolution is set when the exact solution is known and the
	// returned one satisfies the equation (check residual below 1e-2 of its
	// distance) but differs from it by more than ResidualTol: a different
	// solution of the same data, which no residual can detect.
	OtherSolution bool
}

// ConvergedTol is the relative change of −L over the last tenth of the
// iterations below which a run counts as converged (Result.Converged).
const ConvergedTol = 1e-6

// Solve runs GP-HM on the problem of cfg and returns the final iterate. It
// checks ctx every iteration, and once per grid row while it evaluates the
// problem's expressions, and returns ctx.Err() when cancelled; fn receives
// the iteration, the loss, the check residual and, when the exact solution is
// known, the current relative error on the grid. 1-D problems take
// PathExactU, 2-D problems PathKronCG. Cost per iteration: O(n³) in 1-D; in
// 2-D O(n³) per axis plus O(n1 n2 (n1 + n2)) per conjugate-gradient
// iteration (mode products); never a dense kernel over the grid.
//
// With the trend and the nugget "auto" (the defaults) Solve runs, with the
// relative nugget, the polynomial trend then none (in 1-D none then the
// polynomial trend), then the first with the absolute nugget and, in 1-D,
// the first with ten times the relative nugget (NuggetRelative10), while the
// check residual exceeds SwitchResidual1D (SwitchResidual2D in 2-D), and keeps the
// run with the smallest check residual (Result.NuggetReason says which and
// why).
// A kernel whose first variant's check residual exceeds StallResidual
// (StallResidual1D in 1-D), or that found another solution than the given
// exact one, is restarted once with the other spectral-mixture kernel
// (gm ↔ stm; Result.Kernel, Result.Restarts) before its other variants run;
// they run only if the other kernel stalls too. With StM in 1-D on two or
// more cores, GM's variants run beside it from the start (hedge) and are
// cancelled when StM does not stall: the same result, sooner, for twice the
// CPU while both run. When one of GM's runs reaches a check residual of
// at most ResidualTol (ended, or going on while StM's residual has stopped
// falling: a run returns its iterate of least check residual; flatIterations)
// while StM's so far is above the stall bar and more than OutrunFactor
// times GM's, StM's run is stopped and GM's result taken (a restart, with a
// warning that says so). With GM requested in 1-D on
// two cores, once GM's first variant stalls its other variants run beside
// the restart with StM, one at a time, by the same rules the other way
// round. In 1-D a kernel's later variant
// also starts beside its current one when a core is idle (variants.run),
// with the same outcome as in order, except that it stops the current one
// by the same rule (the switch threshold in place of the stall bar).
func Solve(ctx context.Context, cfg Config, fn progress.Func) (*Result, error) {
	start := time.Now()
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	if _, err := r.scales(ctx); err != nil {
		return nil, err
	}
	res, err := solveGrids(ctx, r, fn)
	if err != nil {
		return nil, err
	}
	res.rescale(&r.prob)
	if r.freqWarning != "" {
		res.Warnings = append(res.Warnings, r.freqWarning)
	}
	res.Converged = res.Converged && res.CheckResidual <= ResidualTol && !res.OtherSolution
	if res.OtherSolution {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the solution satisfies the equation (check residual %.2g) but differs from the given exact solution by %.2g (relative L2): the data admit another solution, and this run found it", res.CheckResidual, res.RelL2))
	}
	switch {
	case res.UnstableModes > 0:
		res.Warnings = append(res.Warnings, fmt.Sprintf("the linearised equation at the solution has %d non-negative eigenvalue(s): the data may admit other solutions, and the residual cannot tell which one is wanted", res.UnstableModes))
	case res.UnstableModes < 0:
		res.Warnings = append(res.Warnings, "the uniqueness of the solution could not be established (3u² − 1 exceeds the least eigenvalue of the Laplacian somewhere): the data may admit other solutions")
	}
	if res.CheckResidual > ResidualTol {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the PDE residual between the nodes is %.2g of the source (tolerance %g): the solution is not accurate", res.CheckResidual, ResidualTol))
	}
	if res.StopReason == StopBudget {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the iteration budget (%d) ran out while the loss still changed by %.2g", res.Iterations, res.LossChange))
	}
	res.CGIterationsAll = int(r.cgAll.Load())
	res.Seconds = time.Since(start).Seconds()
	// The last report is the result's: the runs' own last reports are of
	// their last iterations, not of the iterate returned (u = x sin 60x
	// with StM: check residual 2.1e-6 at GM's last iteration, 3e-7 at
	// the one returned), nor of the run kept.
	done := map[string]float64{"check_residual": res.CheckResidual}
	if res.UExact != nil {
		done["rel_l2_grid"] = res.RelL2Grid
	}
	fn.Report(progress.Update{Fraction: 1, Metrics: done,
		Message: fmt.Sprintf("done: kernel %s, trend %s, nugget %s; the iterate of least check residual", res.Kernel, res.Trend, res.Nugget)})
	return res, nil
}

// rescale takes the result of the problem solved — in the solve's
// coordinates, of data divided by the scale (problem.coord, problem.scale)
// — to the problem as given: grid values and the trend times the scale s,
// the kernels' weights (variances) times s², coordinates divided by their
// factor c_j and frequencies times it, the precisions of the residual
// times its factor² / s² (problem.sourceFactor) and of the boundary values
// times 1/s². Every factor is a power of two: the products are exact. It
// sets DataScale and CoordScale.
func (res *Result) rescale(p *problem) {
	s, fs := p.scale, p.sourceFactor()
	res.DataScale = s
	res.CoordScale = make([]float64, len(res.Spectra))
	for _, v := range [][]float64{res.U, res.UExact, res.TrendCoefficients} {
		floats.Scale(s, v)
	}
	for j, sp := range res.Spectra {
		c := p.coord[j]
		res.CoordScale[j] = c
		floats.Scale(s*s, sp.Weights)
		if c != 1 {
			floats.Scale(c, sp.Frequencies)
			floats.Scale(1/c, sp.LengthScales)
			res.Spectra[j].FreqScale *= c
			res.Spectra[j].DataFrequency *= c
			floats.Scale(1/c, [][]float64{res.X, res.Y}[j])
		}
	}
	res.Tau[0] /= s * s
	res.Tau[1] *= fs * fs / (s * s)
}

// onceFunc runs one training path (solveOnce).
type onceFunc func(ctx context.Context, r *resolved, kernel Kernel, trendMode, nugget string, fn progress.Func) (*Result, error)

// parallel says what a solve runs beside its current run: the other
// kernel's variants (hedge) and a later variant of the same kernel
// (ahead; variants.run).
type parallel struct{ hedge, ahead bool }

// parallelism returns what a solve of r may run in parallel: in 1-D, when
// Go may use a second core. StM's first variant stalled on every 1-D preset
// (p1, p3, p4, ac1, ac2; 11–27 s each before GM started, GM's first variant
// succeeding on each), GM's on none, so GM runs beside StM (hedge) and not
// the other way round. One 1-D run keeps about one core busy (its n×n
// factorisations are single calls), so on two cores a run beside it costs
// it little; a variant starts ahead of its turn only on a core no other run
// uses. A 2-D run's products use every core.
func parallelism(r *resolved) parallel {
	two := r.pde.Dims() == 1 && runtime.GOMAXPROCS(0) >= 2
	return parallel{hedge: two && r.kernel == StM, ahead: two}
}

// solveKernels runs the requested kernel's variants and, when it stalls, the
// other kernel's (see Solve), each path by once, and returns the run chosen.
// With par.hedge the other kernel's variants start at once beside the
// requested kernel's and are cancelled when not needed; the result is the
// one the sequential order gives, only sooner, unless the other kernel
// outruns the requested one (OutrunFactor).
func solveKernels(ctx context.Context, r *resolved, fn progress.Func, once onceFunc, par parallel) (*Result, error) {
	stall := r.stallResidual()
	stalled := func(x *Result) bool { return !(x.CheckResidual <= stall) || otherSolution(x) }
	restart := r.kernel == GM || r.kernel == StM
	other := GM
	if r.kernel == GM {
		other = StM
	}
	b := newVariants(r, other, once)
	b.ahead = par.ahead
	runOther := func() error { return b.run(ctx, maxVariants, fn) }
	cancelOther := func() {}
	if restart && par.hedge {
		// GM's variants, with one started ahead (variants.run) on a core
		// no other run holds (on two cores, once StM is stopped: outrun);
		// aheadIndex keeps the polynomial-trend variant for its turn,
		// which started there ran on to its budget (p4: 307.6 s against
		// about 70 s).
		runOther, cancelOther = hedged(ctx, b, fn)
		defer cancelOther()
	}
	// The requested kernel's first variant; its other variants only when it
	// did not stall: a stalled kernel's other variants stalled too on every
	// preset where it happened (p3 and ac1 with StM: 8.7e-5 to 2.1e-4, 50 to
	// 70 s more), where the other kernel's first variant succeeds.
	a := newVariants(r, r.kernel, once)
	a.ahead = par.ahead
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	var out *outrun
	afn := fn
	if restart && par.hedge {
		// The hedged kernel may finish first and succeed while the requested
		// one is still above the stall bar (outrun).
		out = newOutrun(r.cfg.Iterations)
		afn = func(u progress.Update) {
			fn.Report(u)
			if out.watch(u, b.bestEnded(0), b.bestSoFar(), stall) {
				stopA()
			}
		}
	}
	// Unhedged on two cores, a later variant runs beside the first on the
	// idle core and is taken at its turn, cancelled when none comes: on
	// preset p4 with GM the first ran alone for 29 s before the next two.
	a.keep = par.ahead && !par.hedge
	err := a.run(actx, 1, afn)
	a.keep = false
	if err != nil {
		a.drop()
		if out == nil || out.by == nil || ctx.Err() != nil {
			return nil, err
		}
		// Outrun: the hedged kernel's successful run is the answer.
		if err := runOther(); err != nil {
			return nil, err
		}
		res := b.result()
		res.OtherSolution = otherSolution(res)
		res.Restarts = 1
		res.Warnings = append(res.Warnings, fmt.Sprintf("the %s kernel was at check residual %.2g (%s) when %s reached %.2g, more than %g times less, and was stopped; restarted with %s, which reached %.2g",
			r.kernel, out.best, out.at, other, out.by.CheckResidual, OutrunFactor, other, res.CheckResidual))
		return res, nil
	}
	if !restart || !stalled(a.best) {
		// Not stalled: the other kernel is not needed, and its hedged runs
		// stop before the requested kernel's other variants.
		cancelOther()
		if err := a.run(ctx, maxVariants, fn); err != nil {
			return nil, err
		}
	}
	res := a.result()
	res.OtherSolution = otherSolution(res)
	if restart && stalled(res) {
		a.drop()
		// The other kernel gets its own choice of trend and nugget: the
		// variant that suited the stalled kernel need not suit it (p4 with
		// StM settles on the relative nugget; GM restarted with it ended
		// at 1.1e-5, GM choosing for itself at 1.4e-6).
		// Why the requested kernel gave way, as of its stalled run.
		why := fmt.Sprintf("stalled at check residual %.2g", res.CheckResidual)
		if res.OtherSolution {
			why = fmt.Sprintf("found another solution of the equation (check residual %.2g, %.2g from the exact solution)", res.CheckResidual, res.RelL2)
		}
		// The requested kernel's other variants, if the restart stalls too.
		// In 1-D on two cores, unless the other kernel's runs are already
		// going (hedge), they run beside the restart from now on and are
		// cancelled when it does not stall; one of them that ends ten times
		// under the restart's check residual stops it, as a hedged GM run
		// stops StM (outrun).
		runA := func() error { return a.run(ctx, maxVariants, fn) }
		cancelRest := func() {}
		more := a.more()
		var outB *outrun
		if par.ahead && !par.hedge && more {
			// One at a time: the restart has the other core. Their core is
			// counted from now until they end, also between two of them,
			// so that the restart does not take it for a variant of its own
			// ahead of its turn.
			a.ahead = false
			a.holds = true
			running.Add(1)
			before := a.endedCount() // runs that did not end beside the restart
			wait, cancelA := hedged(ctx, a, fn)
			defer cancelA()
			bctx, stopB := context.WithCancel(ctx)
			defer stopB()
			outB = newOutrun(r.cfg.Iterations)
			runA = wait
			runOther = func() error {
				return b.run(bctx, maxVariants, func(u progress.Update) {
					fn.Report(u)
					if outB.watch(u, a.bestEnded(before), nil, stall) {
						stopB()
					}
				})
			}
			cancelRest = cancelA
		}
		if err := runOther(); err != nil {
			if outB == nil || outB.by == nil || ctx.Err() != nil {
				return nil, err
			}
			if err := runA(); err != nil {
				return nil, err
			}
			res = a.result()
			res.OtherSolution = otherSolution(res)
			res.Restarts = 1
			res.Warnings = append(res.Warnings, fmt.Sprintf("the %s kernel %s; restarted with %s, which was at check residual %.2g (%s) when a run of %s's other variants reached %.2g, more than %g times less, and was stopped; %s's other variants were kept, at %.2g",
				r.kernel, why, other, outB.best, outB.at, r.kernel, outB.by.CheckResidual, OutrunFactor, r.kernel, res.CheckResidual))
			return res, nil
		}
		alt := b.result()
		if stalled(alt) && more {
			// Both stalled: the requested kernel's other variants too.
			if err := runA(); err != nil {
				return nil, err
			}
			res = a.result()
			res.OtherSolution = otherSolution(res)
		} else {
			cancelRest()
		}
		alt.OtherSolution = otherSolution(alt)
		restarted := fmt.Sprintf("the %s kernel %s; restarted with %s, which reached check residual %.2g",
			r.kernel, why, other, alt.CheckResidual)
		// The exact solution, when given, names the solution wanted: a run
		// that found it beats one that found another; otherwise the smaller
		// check residual wins. The winner keeps its own warnings.
		if res.OtherSolution && !alt.OtherSolution || res.OtherSolution == alt.OtherSolution && alt.CheckResidual < res.CheckResidual {
			res = alt
		} else {
			restarted += fmt.Sprintf("; its own other variants then reached %.2g and were kept", res.CheckResidual)
		}
		res.Restarts = 1
		res.Warnings = append(res.Warnings, restarted)
	}
	return res, nil
}

// OutrunFactor: in a hedged run (see Solve) the requested kernel's run is
// stopped once one of the other kernel's runs has reached a check residual
// of at most ResidualTol, ended or, once the requested run is flat
// (flatIterations), still going on (and found the exact solution, when given)
// while the requested run's least check residual so far is above the stall
// bar and more than OutrunFactor times that run's. To be kept it would have to
// fall by that factor and below the bar. The other kernel's remaining
// variants then run alone, and its best run is the answer. On the 1-D
// presets StM's first run stalled at 8.5e-5 to 7e-4 after 150 to 450
// iterations (14 to 150 s) where GM's first run ended at 3.8e-11 to 1.4e-5
// (p4: 1.4e-5, above the bar, after 30 s; StM was then at 1e-3 and ended at
// 7e-4 after 150 s). Watching GM's runs going on once StM is flat, StM is
// stopped on p4 about 20 iterations after its least (1.2e-3 at iteration
// 18; GM then at 7.4e-6) instead of when GM's first run ends (63 s).
const OutrunFactor = 10.0

// outrun watches the requested kernel's run in a hedged solve: its least
// check residual so far (best, as of the progress message at) and, once it
// is stopped, the other kernel's run that outran it (by).
type outrun struct {
	best float64
	at   string
	by   *Result
	// past holds best as of the last len(past) updates, a ring written
	// at seen mod len(past); seen counts the updates. Once full, its
	// oldest entry is the best as of len(past) − 1 updates before the
	// latest: flatIterations iterations before, rounded up to updates.
	past []float64
	seen int
}

// newOutrun returns the watch of a run of iters iterations.
func newOutrun(iters int) *outrun {
	every := reportEvery(iters)
	return &outrun{best: math.Inf(1), past: make([]float64, (flatIterations+every-1)/every+1)}
}

// flatIterations and flatFactor: the watched run counts as flat once its
// least check residual has fallen by less than flatFactor over its last
// flatIterations iterations, counted in its progress updates (every
// reportEvery iterations; counted in updates, a run of 900 iterations,
// preset p4's, was flat only after 80 of them, and StM on p4 was stopped
// when GM's first run ended, at 40 s, instead of at 20 s). Only
// a flat run is outrun by a run still going on: early in a run the check
// residual falls by orders within tens of iterations (StM on a 1-D Poisson
// problem of a user's: 4.9e-3 at its second iteration, 3.1e-7 at its end,
// where GM's first run was at 8.4e-6 after two), so a run going on ten
// times under it says little until it stops falling. On p4 StM sat at
// 1.46e-3 from its iteration 19 to 121.
const (
	flatIterations = 20
	flatFactor     = 2.0
)

// flat reports whether the watched run is flat (flatIterations, flatFactor).
func (o *outrun) flat() bool {
	return o.seen >= len(o.past) && o.past[o.seen%len(o.past)] < flatFactor*o.best
}

// watch takes progress update u of the watched run, the best run of the
// other side ended so far and, if not nil, its best outcome so far (a run
// going on at its least check residual, or an ended one), which counts only
// once the watched run is flat. It reports whether the watched run should
// stop now.
func (o *outrun) watch(u progress.Update, ended, soFar *Result, stall float64) bool {
	if rho, ok := u.Metrics["check_residual"]; ok {
		if rho < o.best {
			o.best, o.at = rho, u.Message
		}
		o.past[o.seen%len(o.past)] = o.best
		o.seen++
	}
	alt := ended
	if soFar != nil && o.flat() {
		alt = soFar
	}
	if o.by != nil || !outran(o.best, stall, alt) {
		return false
	}
	o.by = alt
	return true
}

// outran reports whether a run whose least check residual so far is least
// is outrun by alt (OutrunFactor): alt is at a check residual of at most
// ResidualTol (and found the exact solution, when given) while least is
// above bar and more than OutrunFactor times alt's. alt is an ended run or,
// in the hedge, one going on at its least check residual so far, where it
// will end or lower (the run returns its iterate of least check residual).
func outran(least, bar float64, alt *Result) bool {
	return alt != nil && alt.CheckResidual <= ResidualTol && !otherSolution(alt) &&
		!math.IsInf(least, 1) && least > bar && least > OutrunFactor*alt.CheckResidual
}

// hedged runs v's variants (up to maxVariants) in the background and
// returns a wait that gives v once they are done, and a cancel that stops
// them, if still going, and waits for them (v.bestEnded and v.bestSoFar
// look at them without waiting). The background runs report progress to fn
// only from the first wait on: until then fn follows the requested kernel's
// runs; a cancelled run stays quiet, as its last iterations would follow
// the requested kernel's final report.
func hedged(ctx context.Context, v *variants, fn progress.Func) (wait func() error, cancel func()) {
	var err error
	b := background(ctx, fn, func(ctx context.Context, fn progress.Func) {
		err = v.run(ctx, maxVariants, fn)
	})
	wait = func() error {
		b.adopted.Store(true)
		b.wait()
		return err
	}
	return wait, func() { b.stop(); b.wait() }
}

// otherSolution reports whether res, with a known exact solution, is another
// solution of the same equation: its error exceeds ResidualTol while its
// check residual, the error a wrong solution of the equation would show,
// is below 1e-2 of it (Result.OtherSolution).
func otherSolution(res *Result) bool {
	return res.RelL2 > ResidualTol && res.CheckResidual < 1e-2*res.RelL2
}

// Thresholds on the check residual ρ (check.go).
const (
	// SwitchResidual1D and SwitchResidual2D: above them the automatic trend
	// and nugget try the next variant (1-D runs are cheap; a 2-D run costs
	// minutes at the paper's grids).
	SwitchResidual1D = 1e-6
	SwitchResidual2D = 1e-4
	// StallResidual and StallResidual1D: above them a run counts as
	// stalled and is restarted with the other spectral-mixture kernel. 1-D
	// runs take seconds to minutes, so there the bar is the 1-D accuracy
	// target: preset p3 with StM settled at 5.7e-5 (error 3e-5) and p4 with
	// StM at 1.8e-4 (8e-5), where GM reaches 4e-7 and 2e-6.
	StallResidual   = 1e-2
	StallResidual1D = 1e-5
	// ResidualTol: above it a run is never reported converged.
	ResidualTol = 1e-3
)

// Stop reasons (Result.StopReason).
const (
	// StopStationary: L-BFGS found no step lowering the loss even along the
	// scaled gradient.
	StopStationary = "stationary"
	// StopLossNoisy: a line search failed (no trial point lowered the loss
	// along the L-BFGS direction) since the check residual last improved —
	// in 2-D for the second time, the first failure having reset the
	// L-BFGS memory: the loss has reached its rounding noise, which the
	// gradient shares, and further steps walk at random (preset p4: trial
	// values scattered by ±0.5 around Φ ≈ 583; its least residual came 24
	// iterations and 23 s before the run ended stationary). The iterate of
	// least check residual is returned.
	StopLossNoisy = "loss_noisy"
	// StopLossFlat: the loss changed by at most ConvergedTol (relative) over
	// the last tenth of the iterations.
	StopLossFlat = "loss_flat"
	// StopResidualRising: the check residual stayed above riseFactor × its
	// best for risePatience iterations; the best iterate is returned.
	StopResidualRising = "residual_rising"
	// StopResidualFlat: the iterations ran out, but the check residual had
	// not improved over the last tenth of them (at least 10 of at least 20):
	// the error estimate had settled, not the loss.
	StopResidualFlat = "residual_flat"
	// StopBudget: the iterations ran out while the loss still improved.
	StopBudget = "budget"
	// StopTolerance: the check residual reached the requested Config.Tol.
	StopTolerance = "tolerance"
)

// pairVariants is the most trend and nugget pairs of the auto modes one
// kernel runs (relative and absolute nuggets, with and without the trend);
// maxVariants the most variants in all, with the larger relative nugget
// (NuggetRelative10) in 1-D.
const (
	pairVariants = 3
	maxVariants  = 4
)

// variants runs one kernel with the requested trend and nugget or, under
// auto, with up to maxVariants of their variants (see Solve), in order,
// stopping at the first whose check residual is at most the switch
// threshold, and keeps the run with the least check residual.
type variants struct {
	once   onceFunc
	r      *resolved
	kernel Kernel
	list   [][2]string // trend, nugget
	limit  float64
	best   *Result
	tried  []string
	// ended holds the runs ended so far, in order, and started every run
	// started, for other goroutines while run runs (under mu; bestEnded,
	// bestSoFar).
	mu      sync.Mutex
	ended   []*Result
	started []*early
	// ahead lets run start a later variant beside the current one (1-D);
	// next is the one so started, until taken at its turn.
	ahead bool
	next  *early
	// keep: run may start any later variant ahead, not only one of those
	// it runs itself, and leaves it going when it returns, for the next
	// call to take (or drop to cancel). A variant started ahead that ends
	// while keep is set is parked, in start order, for its turn, and the
	// core it held may take the next one.
	keep   bool
	parked []*early
	// holds: one run at a time (ahead unset), counted in running once for
	// all of them, from before run starts until it returns.
	holds bool
}

func newVariants(r *resolved, kernel Kernel, once onceFunc) *variants {
	// Variants, in order: the requested trend and nugget or, under auto, the
	// polynomial trend before none and the relative nugget before the
	// absolute.
	trends, nuggets := []string{r.cfg.Trend}, []string{r.cfg.Nugget}
	if r.cfg.Trend == TrendAuto {
		// In 1-D the zero-mean GP goes first: with the boundary fitted on the
		// posterior mean it solves the polynomial cases too (sin 3x + x²:
		// 2e-7, sin(50x)e^{−x} + x: 1.4e-8), and on the high-frequency
		// presets the trend's flat-prior coefficients take the K⁻¹-weighted
		// polynomial part of the solution (β₃ = −0.74 on p1), which slowed
		// L-BFGS (p1 with StM: 3.3e-6 after 800 iterations, against 2e-14
		// without). In 2-D the trend goes first: without it x y +
		// sin 8x sin 8y at 40² ends at 3.4e-4 instead of 4.3e-5.
		trends = []string{TrendPolynomial, TrendNone}
		if r.pde.Dims() == 1 {
			trends = []string{TrendNone, TrendPolynomial}
		}
	}
	if r.cfg.Nugget == NuggetAuto {
		nuggets = []string{NuggetRelative, NuggetAbsolute}
	}
	v := &variants{once: once, r: r, kernel: kernel, limit: r.switchResidual()}
	for _, nug := range nuggets {
		for _, tr := range trends {
			if len(v.list) < pairVariants {
				v.list = append(v.list, [2]string{tr, nug})
			}
		}
	}
	if r.cfg.Nugget == NuggetAuto && r.pde.Dims() == 1 {
		// Last in 1-D: the first trend with ten times the relative nugget
		// (axis.nugget; preset p4: 1.65e-6 → 3.7e-7). It runs only when the
		// three before it all end above the switch threshold; a 2-D run
		// costs minutes, and it was measured in 1-D only.
		v.list = append(v.list, [2]string{trends[0], NuggetRelative10})
	}
	return v
}

// bestEnded returns the best of the runs ended after the first skip (nil
// if none); other goroutines may call it while run runs.
func (v *variants) bestEnded(skip int) *Result {
	v.mu.Lock()
	defer v.mu.Unlock()
	var best *Result
	for _, x := range v.ended[min(skip, len(v.ended)):] {
		if best == nil || x.CheckResidual < best.CheckResidual {
			best = x
		}
	}
	return best
}

// bestSoFar returns, as a Result holding only CheckResidual and RelL2, the
// least check residual any of v's runs has reached so far: a run going on
// at its least reported value (the returned iterate is the one of least
// check residual, so the run ends there or lower), an ended one at its
// result; runs ended without a result (cancelled) are left out. Nil if
// none has reported. Other goroutines may call it while run runs.
func (v *variants) bestSoFar() *Result {
	v.mu.Lock()
	defer v.mu.Unlock()
	var best *Result
	for _, e := range v.started {
		x := e.soFar()
		if x != nil && (best == nil || x.CheckResidual < best.CheckResidual) {
			best = x
		}
	}
	return best
}

// endedCount returns the number of runs ended so far.
func (v *variants) endedCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.ended)
}

// more reports whether run would run another variant.
func (v *variants) more() bool {
	return len(v.tried) < len(v.list) && (v.best == nil || v.best.CheckResidual > v.limit)
}

// running counts the training paths (variant runs) going on in this
// process, so that a variant starts ahead of its turn only on a core no
// other run uses.
var running atomic.Int32

// aheadPoll is how often variants.run looks for an idle core.
const aheadPoll = 50 * time.Millisecond

// bg is work on another goroutine (background): cancellable by stop, its
// progress quiet until adopted, its panic carried to whoever waits for it.
type bg struct {
	done    chan struct{}
	stop    context.CancelFunc
	adopted atomic.Bool
	panic   *panicked
}

// background starts work on another goroutine with a context of its own
// and a progress function that passes updates to fn once adopted.
func background(ctx context.Context, fn progress.Func, work func(context.Context, progress.Func)) *bg {
	bctx, stop := context.WithCancel(ctx)
	b := &bg{done: make(chan struct{}), stop: stop}
	go func() {
		defer close(b.done)
		defer catch(&b.panic)
		work(bctx, func(u progress.Update) {
			if b.adopted.Load() {
				fn.Report(u)
			}
		})
	}()
	return b
}

// wait waits for the work to end and raises its panic, if it had one.
func (b *bg) wait() {
	<-b.done
	b.panic.raise()
}

// early is a variant run in the background (variants.run): its index in
// the list and, once done, its outcome.
type early struct {
	*bg
	index int
	res   *Result
	err   error
	// least is the least check residual its progress has reported so far
	// (+Inf before the first) and leastRel the relative error on the grid
	// reported with it (0 without an exact solution), both under mu.
	mu              sync.Mutex
	least, leastRel float64
}

// leastSoFar returns the least check residual e's progress has reported.
func (e *early) leastSoFar() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.least
}

// soFar returns e's outcome so far for variants.bestSoFar: its result once
// ended, while it runs its least check residual with the grid error
// reported beside it, and nil if it ended without a result or has not
// reported.
func (e *early) soFar() *Result {
	select {
	case <-e.done:
		return e.finished()
	default:
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if math.IsInf(e.least, 1) {
		return nil
	}
	return &Result{CheckResidual: e.least, RelL2: e.leastRel}
}

// finished returns e's run once it has ended with a result, else nil.
func (e *early) finished() *Result {
	select {
	case <-e.done:
		if e.err == nil && e.panic == nil {
			return e.res
		}
	default:
	}
	return nil
}

// panicked carries a panic of a background run, with its stack, to the
// goroutine that waits for the run, where it is raised again: the job
// runner turns a panic of the job's own goroutine into a failed job, while
// one of another goroutine would end the process.
type panicked struct {
	value any
	stack []byte
}

// catch records a panic of the calling goroutine in *to; deferred first
// in a background run's goroutine.
func catch(to **panicked) {
	if p := recover(); p != nil {
		*to = &panicked{p, debug.Stack()}
	}
}

// raise panics again with p, if set, in the waiting goroutine.
func (p *panicked) raise() {
	if p != nil {
		panic(fmt.Sprintf("%v (in a background run)\n%s", p.value, p.stack))
	}
}

// start runs variant i in the background, counted in running, its
// progress quiet until adopted.
func (v *variants) start(ctx context.Context, i int, fn progress.Func) *early {
	e := &early{index: i, least: math.Inf(1)}
	if !v.holds {
		running.Add(1) // counted from now, so that the next look sees it
	}
	e.bg = background(ctx, fn, func(ctx context.Context, fn progress.Func) {
		if !v.holds {
			defer running.Add(-1)
		}
		e.res, e.err = v.once(ctx, v.r, v.kernel, v.list[i][0], v.list[i][1], func(u progress.Update) {
			if rho, ok := u.Metrics["check_residual"]; ok {
				e.mu.Lock()
				if rho < e.least {
					e.least, e.leastRel = rho, u.Metrics["rel_l2_grid"]
				}
				e.mu.Unlock()
			}
			fn.Report(u)
		})
	})
	v.mu.Lock()
	v.started = append(v.started, e)
	v.mu.Unlock()
	return e
}

// drop cancels the variant started ahead, if any, and waits for it; the
// parked ones are let go.
func (v *variants) drop() {
	if e := v.next; e != nil {
		v.next = nil
		e.stop()
		e.wait()
	}
	v.parked = nil
}

// unpark returns the parked variant i, if any, and removes it.
func (v *variants) unpark(i int) *early {
	for k, e := range v.parked {
		if e.index == i {
			v.parked = slices.Delete(v.parked, k, k+1)
			return e
		}
	}
	return nil
}

// outrunBy returns the variant started ahead, going or parked, that has
// ended and outruns cur (outran), or nil.
func (v *variants) outrunBy(cur *early) *early {
	for _, n := range append([]*early{v.next}, v.parked...) {
		if n != nil && outran(cur.leastSoFar(), v.limit, n.finished()) {
			return n
		}
	}
	return nil
}

// aheadIndex returns the variant to start ahead while variant i runs, of
// those before upto, or -1: the first with variant i's trend, else the
// first. A run is stopped (outran) only while it is the current one, by the
// run started ahead then, so a slow one started early can be well past the
// outrun bar by its turn and run its whole budget: preset p4 with StM, GM's
// polynomial-trend variant started beside its first (the 1-D trend that
// slows L-BFGS, newVariants) ran 307.6 s to its end where in this order the
// solve took about 70 s.
func (v *variants) aheadIndex(i, upto int) int {
	first := -1
	for j := i + 1; j < min(upto, len(v.list)); j++ {
		if slices.ContainsFunc(v.parked, func(e *early) bool { return e.index == j }) {
			continue
		}
		if v.list[j][0] == v.list[i][0] {
			return j
		}
		if first < 0 {
			first = j
		}
	}
	return first
}

// run runs variants while more do, up to upto of them in all. With
// v.ahead, while a variant runs a later one (aheadIndex) starts beside it as
// soon as a core is idle (fewer runs going on in the process than
// GOMAXPROCS; looked at every aheadPoll), and is taken when its turn comes
// or cancelled when it does not; another starts ahead only once it is
// taken, ended or not. The variants are independent runs, so the outcome
// is the sequential one, sooner, except that a variant started ahead that
// finishes first and outruns the current one (outran) stops it: the
// stopped variant counts as tried, at its least check residual so far.
func (v *variants) run(ctx context.Context, upto int, fn progress.Func) error {
	defer func() {
		if !v.keep {
			v.drop()
		}
	}()
	ahead := upto
	if v.keep {
		ahead = len(v.list)
	}
	if v.holds {
		defer running.Add(-1)
	}
	for v.more() && len(v.tried) < upto {
		i := len(v.tried)
		cur := v.next
		if cur != nil && cur.index == i {
			v.next = nil
		} else if cur = v.unpark(i); cur == nil {
			cur = v.start(ctx, i, fn)
		}
		cur.adopted.Store(true)
		tick := time.NewTicker(aheadPoll)
		var by *Result // the variant started ahead that outran cur
		for waiting := true; waiting; {
			if n := v.next; v.keep && n != nil && n.finished() != nil {
				v.parked = append(v.parked, n)
				v.next = nil
			}
			if v.ahead && v.next == nil && running.Load() < int32(runtime.GOMAXPROCS(0)) {
				if j := v.aheadIndex(i, ahead); j >= 0 {
					v.next = v.start(ctx, j, fn)
				}
			}
			// A variant started ahead, ended first, outruns the current
			// one: for that one to be kept it would have to fall by
			// OutrunFactor, and below the switch threshold to end the
			// variants. A variant started ahead of an earlier one's turn
			// (aheadIndex) may have ended before the current one started,
			// which it then stops at its first report unless that is
			// within the factor: in effect the later variant, ended at
			// most at ResidualTol, is taken in place of the earlier one.
			// On the presets only in the hedge, and only the polynomial
			// variant, which the same rule stopped there before, after it
			// had run beside the absolute one (p4 at 2.4e-4, ac2 at
			// 3.8e-5).
			// Not while keep: the variant started ahead then may be one the
			// sequential order never runs (the first ends at most at the
			// threshold), and taken in place of the first it cost p1 and
			// ac2 their accuracy (1.9e-14 → 1.1e-7, 2e-7 → 7.9e-7).
			if by == nil && !v.keep {
				if n := v.outrunBy(cur); n != nil {
					by = n.res
					cur.stop()
				}
			}
			select {
			case <-cur.done:
				waiting = false
			case <-tick.C:
			}
		}
		tick.Stop()
		cur.wait()
		alt, err := cur.res, cur.err
		tr, nug := v.list[i][0], v.list[i][1]
		if err != nil && by != nil && ctx.Err() == nil {
			v.tried = append(v.tried, fmt.Sprintf("%s/%s %.2g (stopped: %s/%s ended at %.2g, more than %g times less)",
				tr, nug, cur.leastSoFar(), by.Trend, by.Nugget, by.CheckResidual, OutrunFactor))
			continue
		}
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%s/%s %.2g", tr, nug, alt.CheckResidual)
		if alt.TauReason != "" {
			entry += " [" + alt.TauReason + "]"
		}
		v.tried = append(v.tried, entry)
		v.mu.Lock()
		v.ended = append(v.ended, alt)
		v.mu.Unlock()
		if v.best == nil || alt.CheckResidual < v.best.CheckResidual {
			v.best = alt
		}
	}
	return nil
}

// result returns the best run so far with its NuggetReason set.
func (v *variants) result() *Result {
	res := v.best
	switch {
	case len(v.tried) == 1 && len(v.list) == 1:
		res.NuggetReason = fmt.Sprintf("trend %s, nugget %s: requested", res.Trend, res.Nugget)
	case len(v.tried) == 1 && res.CheckResidual <= v.limit:
		res.NuggetReason = fmt.Sprintf("trend %s, nugget %s: its check residual %.2g is at most %g", res.Trend, res.Nugget, res.CheckResidual, v.limit)
	default:
		res.NuggetReason = fmt.Sprintf("trend %s, nugget %s: the least check residual of (trend/nugget residual) %s",
			res.Trend, res.Nugget, strings.Join(v.tried, ", "))
	}
	return res
}

// solveOnce runs one variant: a training path with the given kernel, trend
// and nugget mode at log τ = ExactLogTau or, for a variant of a 2-D Poisson
// problem under the automatic nugget (tightFirst), first at
// TightLogTau and, when that path does not converge to the switch
// threshold, again at ExactLogTau, keeping the path of lesser check
// residual, within a margin in favour of one that converged (keepTight;
// Result.TauReason says which and why).
func solveOnce(ctx context.Context, r *resolved, kernel Kernel, trendMode, nugget string, fn progress.Func) (*Result, error) {
	if !tightFirst(r) {
		return solvePath(ctx, r, kernel, trendMode, nugget, ExactLogTau, fn)
	}
	tight, err := solvePath(ctx, r, kernel, trendMode, nugget, TightLogTau, labelled(fn, fmt.Sprintf("log τ %d: ", TightLogTau)))
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	if lim := r.switchResidual(); err == nil && tight.Converged && tight.CheckResidual <= lim {
		tight.TauReason = fmt.Sprintf("log τ %d: converged at check residual %.2g, at most %g", TightLogTau, tight.CheckResidual, lim)
		return tight, nil
	}
	res, err2 := solvePath(ctx, r, kernel, trendMode, nugget, ExactLogTau, labelled(fn, fmt.Sprintf("log τ %d again: ", ExactLogTau)))
	if err2 != nil {
		return nil, err2
	}
	if err != nil {
		res.TauReason = fmt.Sprintf("log τ %d: the path at log τ %d failed (%v)", ExactLogTau, TightLogTau, err)
		return res, nil
	}
	paths := fmt.Sprintf("log τ %d %s at check residual %.2g, log τ %d %s at %.2g", TightLogTau, tight.StopReason, tight.CheckResidual,
		ExactLogTau, res.StopReason, res.CheckResidual)
	logTau := ExactLogTau
	if keepTight(tight, res) {
		res, logTau = tight, TightLogTau
	}
	res.TauReason = fmt.Sprintf("log τ %d kept of two paths, %s: the lesser check residual, one that converged unless the other's is under 1/%g of it", logTau, paths, convergedMargin)
	return res, nil
}

// labelled returns fn with its messages prefixed by label (nil for nil), so
// that the iterations of the second path, counted from 1 again, say which
// path they are.
func labelled(fn progress.Func, label string) progress.Func {
	if fn == nil {
		return nil
	}
	return func(u progress.Update) {
		u.Message = label + u.Message
		fn(u)
	}
}

// convergedMargin: between the paths at the two precisions, one that
// converged is kept unless the other, which did not, ends under
// 1/convergedMargin of its check residual (preset p2d2's absolute-nugget
// variant: 3.0e-4 converged at 16, 2.9e-4 on its budget at 20, the same
// error 8.0e-5; x y + sin 8x sin 8y with 60 iterations: 9.2e-5 converged
// at 16, 9.2e-6 on its budget at 20, 4.2e-5 against 4.4e-6).
const convergedMargin = 2.0

// keepTight reports whether the path at TightLogTau is kept over the one at
// ExactLogTau: the lesser check residual, within convergedMargin in favour
// of a path that converged.
func keepTight(tight, exact *Result) bool {
	f := 1.0
	switch {
	case exact.Converged && !tight.Converged:
		f = 1 / convergedMargin
	case tight.Converged && !exact.Converged:
		f = convergedMargin
	}
	return tight.CheckResidual < f*exact.CheckResidual
}

// TightLogTau is log τ1 = log τ2 of the first path tried on 2-D Poisson
// problems (tightFirst). A tighter fit of the data against the prior: on
// preset p2d1 34 CG iterations per Newton solve instead of 75 and 38 s
// instead of 53 (0.68 % of the authors' time), and held-out 2-D Poisson
// problems mostly more accurate, but not all: sin 20x sin 20y on [0, 2π]²
// at 48² ended at 2.5e-2, and more runs end on their budget
// (bench/results/gphm.md, "A tighter fixed precision, tried"). Hence a
// first try, kept when it converges to the switch threshold; otherwise the
// path at ExactLogTau runs too. Sixteen held-out problems through the API
// (section "The tighter precision tried first"): eight 1.2–7 times more
// accurate (x y + sin 8x sin 8y 2.3e-5 → 3.1e-6, 1 + x + y + sin 20x cos 18y
// at 80² 7.7e-6 → 1.5e-6 in 7.1 s instead of 54.6), two 1.1 and 1.3 times
// less, six run again at 16 to the same result in 0.9–2 times the time;
// 220 s in all against 225.
const TightLogTau = 20

// tightFirst reports whether solveOnce tries TightLogTau first: for every
// variant of a 2-D Poisson problem when the nugget is chosen automatically
// (an explicit nugget keeps the one path, at ExactLogTau). Advection and
// Allen–Cahn keep ExactLogTau (Allen–Cahn 2-D took 76 s at 20 against 17).
// On the first variant alone, e^{x−y} + sin 10x sin 4y on [0, 2π]² at 48²
// ended at 1.5e-4 in 75 s, where its absolute-nugget variant reaches 7.3e-5
// at 20 (85–92 s in all); p2d2, whose variants all run, takes 71–74 s
// instead of 40–45 for the same 8.0e-5.
func tightFirst(r *resolved) bool {
	return r.pde == Poisson2D && r.cfg.Nugget == NuggetAuto
}

// solvePath runs one training path with the given kernel, trend, nugget
// mode and log τ.
func solvePath(ctx context.Context, r *resolved, kernel Kernel, trendMode, nugget string, logTau float64, fn progress.Func) (*Result, error) {
	start := time.Now()
	rc := r.cfg
	order := r.pde.order()
	axes := []*axis{newAxis(kernel, rc.N, rc.XMin, rc.XMax, order)}
	if r.pde.Dims() == 2 {
		axes = append(axes, newAxis(kernel, rc.N, rc.YMin, rc.YMax, order))
	}
	for _, a := range axes {
		a.absNugget = nugget == NuggetAbsolute
		if nugget == NuggetRelative10 {
			a.relJitter = 10 * jitter
		}
	}
	n1, n2 := rc.N, 1
	if len(axes) == 2 {
		n2 = rc.N
	}
	// The scales first: they set the one the data are divided by.
	freq, err := r.scales(ctx)
	if err != nil {
		return nil, err
	}
	bIdx := boundaryIndex(n1, n2, len(axes))
	F, uex, g, err := sample(ctx, &r.prob, axes, bIdx)
	if err != nil {
		return nil, err
	}
	m := newModel(r.pde, kernel, axes, F, bIdx, g, rc.Beta, rc.LambdaB)
	if !r.pde.Linear() {
		// Δ′v + (s²/c²)v³ − v/c² = f/(s c²) for v = u/s, x′ = c x.
		s, fs := r.prob.scale, r.prob.sourceFactor()
		m.cubic, m.lin = s*s*fs, fs
	}
	if trendMode != TrendNone {
		m.tr = newTrend(m)
	}
	var specs []Spectrum
	if r.start != nil {
		specs = cloneSpectra(r.start.specs)
	} else {
		specs = make([]Spectrum, len(axes))
		for j := range specs {
			specs[j] = NewSpectrum(kernel, rc.Components, freq[j])
		}
	}
	s := &optimisation{m: m, specs: specs, q: rc.Components, U: mat.NewDense(n1, n2, nil), uex: uex, fn: fn, iters: rc.Iterations,
		check: newChecker(m, &r.prob), lt: [2]float64{logTau, logTau}, tol: rc.Tol}
	if r.start != nil {
		// The coarse posterior mean, trend included, as the GP's grid
		// values: the first solve takes the trend out again.
		s.U.Copy(r.start.meanAt(coords(axes[0]), coords(axes[1])))
	}
	res := &Result{Nugget: nugget, Kernel: kernel.String(), Trend: trendMode}
	if len(axes) == 1 {
		res.Path = PathExactU
		err = s.runProfile(ctx, newExactU(n1, n2))
	} else {
		res.Path = PathKronCG
		k := newKronCG(n1, n2)
		err = s.runProfile(ctx, k)
		r.cgAll.Add(int64(k.Iters))
		res.CGIterations, res.CGSolves, res.CGHarmonicSolves, res.CGTailSolves = k.Iters, k.Solves, k.HarmonicSolves, k.TailSolves
		res.CGCutSolves = k.CutSolves
		res.CGDenseSolves, res.CGDenseBuilds = k.DenseSolves, k.DenseBuilds
	}
	if err != nil {
		return nil, err
	}
	mean := s.gridMean()
	res.NuggetShare = nuggetShare(s.U, mean)
	if m.off != nil {
		mean.Add(mean, m.off)
		res.TrendCoefficients = append([]float64(nil), m.beta...)
	}
	res.U = append([]float64(nil), mean.RawMatrix().Data...)
	if !r.pde.Linear() {
		h2 := 0.0
		if len(axes) == 2 {
			h2 = axes[1].h
		}
		// In the problem's own size and coordinates, where its u³ − u is.
		var u mat.Dense
		u.Scale(r.prob.scale, mean)
		res.UnstableModes = unstableModes(&u, axes[0].h/r.prob.coord[0], h2/r.prob.coord[1])
	}
	res.X = coords(axes[0])
	if len(axes) == 2 {
		res.Y = coords(axes[1])
	}
	res.RelL2, res.RelL2Grid = math.NaN(), math.NaN()
	if uex != nil {
		res.UExact = append([]float64(nil), uex.RawMatrix().Data...)
		res.RelL2Grid = relErr(mean, uex)
		if res.RelL2, err = s.testError(ctx, r.prob.exactAt); err != nil {
			return nil, err
		}
	}
	for j := range axes {
		sp := spectrumResult(kernel, specs[j])
		sp.FreqScale, sp.DataFrequency = freq[j], r.freqData[j]
		res.Spectra = append(res.Spectra, sp)
	}
	res.Tau = [2]float64{math.Exp(s.lt[0]), math.Exp(s.lt[1])}
	res.Loss, res.LossEvery = s.loss, s.lossEvery
	res.Residual = s.resHist
	res.Iterations = s.done
	res.TrendHeldFrom = s.heldFrom
	res.FinalLoss, res.LossChange = s.last, s.lossChange()
	res.CheckResidual, res.CheckResidualL2 = s.checkRes, s.checkRes2
	switch {
	case s.reached:
		res.StopReason = StopTolerance
	case s.rising:
		res.StopReason = StopResidualRising
	case s.stalled:
		res.StopReason = StopStationary
	case s.noisy:
		res.StopReason = StopLossNoisy
	case res.LossChange <= ConvergedTol:
		res.StopReason = StopLossFlat
	case s.residualFlat():
		res.StopReason = StopResidualFlat
	default:
		res.StopReason = StopBudget
	}
	res.Converged = res.StopReason != StopBudget
	if math.IsNaN(res.CheckResidual) {
		res.CheckResidual = math.Inf(1)
	}
	if r.keepStart && len(axes) == 2 {
		res.start = &startPoint{kernel: kernel, specs: cloneSpectra(s.specs),
			meanAt: func(xs, ys []float64) *mat.Dense { return m.predict(s.U, xs, ys) }}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// sample evaluates the problem data on the grid of axes: the source F and,
// when the exact solution is known, its values uex on every node (n1×n2, row i
// along axes[0]; n2 = 1 in 1-D), and the Dirichlet values g on the boundary
// nodes bIdx (row-major indices). A value costs one evaluation, or up to two
// jets, of an expression of up to expr.MaxLen bytes, so a grid of 10⁶ nodes
// can take a minute: sample checks ctx once per grid row and once per n2
// boundary nodes and returns ctx.Err() when cancelled. A value that is not
// finite gives field.Errors at the field it comes from (/exact, /source or
// /boundary).
func sample(ctx context.Context, prob *problem, axes []*axis, bIdx []int) (F, uex *mat.Dense, g []float64, err error) {
	n1, n2 := axes[0].n, 1
	if len(axes) == 2 {
		n2 = axes[1].n
	}
	F = mat.NewDense(n1, n2, nil)
	if prob.exact != nil {
		uex = mat.NewDense(n1, n2, nil)
	}
	at := make([]float64, len(axes))
	for i := range n1 {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		for j := range n2 {
			at[0] = axes[0].coord(i)
			if len(axes) == 2 {
				at[1] = axes[1].coord(j)
			}
			f, u, err := prob.interiorAt(at)
			if err != nil {
				return nil, nil, nil, err
			}
			F.Set(i, j, f)
			if uex != nil {
				uex.Set(i, j, u)
			}
		}
	}
	g = make([]float64, len(bIdx))
	for k, idx := range bIdx {
		if k%n2 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, nil, err
			}
		}
		at[0] = axes[0].coord(idx / n2)
		if len(axes) == 2 {
			at[1] = axes[1].coord(idx % n2)
		}
		if g[k], err = prob.dirichletAt(at); err != nil {
			return nil, nil, nil, err
		}
	}
	return F, uex, g, nil
}

// optimisation holds the state of one optimisation.
type optimisation struct {
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
	last      float64 // the loss of the last iteration
	// stalled is set when L-BFGS found no step lowering the objective;
	// noisy when a line search failed (with retry, a second one) before ρ
	// improved (residualWatch).
	stalled, noisy bool
	// Check residual (check.go): the evaluator, its value for the returned
	// iterate, its history and whether the stop rule fired.
	check     *checker
	checkRes  float64
	checkRes2 float64
	bestIt    int // iteration of the least check residual (−1: the initial kernel)
	resHist   []float64
	rising    bool
	// tol is Config.Tol; reached is set when ρ fell to it.
	tol     float64
	reached bool
	// heldFrom is Result.TrendHeldFrom.
	heldFrom int
}

// lossChange returns |L_k − L_{k−w}| / max(|L_k|, 1) for the last iteration
// k and w a tenth of the iterations run (at least one), taking L_{k−w} from
// the recorded history (the nearest recorded iteration at or before k−w);
// NaN when fewer than two iterations were run.
func (s *optimisation) lossChange() float64 {
	k := s.done - 1
	w := max(1, s.done/10)
	if k-w < 0 || s.lossEvery == 0 {
		return math.NaN()
	}
	ref := s.loss[(k-w)/s.lossEvery]
	return math.Abs(s.last-ref) / math.Max(math.Abs(s.last), 1)
}

// reportEvery returns how many iterations apart a run of iters iterations
// reports its progress: at most 200 reports.
func reportEvery(iters int) int { return max(1, iters/200) }

// record appends the loss and the check residual of iteration it (0-based)
// and reports progress.
func (s *optimisation) record(it int, loss, rho float64) {
	if s.lossEvery == 0 {
		s.lossEvery = max(1, (s.iters+maxHistory-1)/maxHistory)
	}
	if it%s.lossEvery == 0 {
		s.loss = append(s.loss, loss)
		s.resHist = append(s.resHist, rho)
	}
	s.done = it + 1
	s.last = loss
	if s.fn == nil || (it%reportEvery(s.iters) != 0 && it != s.iters-1) {
		return
	}
	metrics := map[string]float64{"loss": loss}
	if n := len(s.resHist); n > 0 {
		metrics["check_residual"] = s.resHist[n-1]
	}
	if s.uex != nil {
		mean := s.gridMean()
		if s.m.off != nil {
			mean.Add(mean, s.m.off)
		}
		metrics["rel_l2_grid"] = relErr(mean, s.uex)
	}
	s.fn.Report(progress.Update{
		Fraction: float64(it+1) / float64(max(s.iters, 1)),
		Message:  fmt.Sprintf("iteration %d of %d", it+1, s.iters),
		Metrics:  metrics,
	})
}

// pack writes the spectra into x (layout per axis [LogW | LogLS | Mu]).
func (s *optimisation) pack(x []float64) {
	for j, sp := range s.specs {
		o := j * 3 * s.q
		copy(x[o:], sp.LogW)
		copy(x[o+s.q:], sp.LogLS)
		copy(x[o+2*s.q:], sp.Mu)
	}
}

func (s *optimisation) unpack(x []float64) {
	for j, sp := range s.specs {
		o := j * 3 * s.q
		copy(sp.LogW, x[o:o+s.q])
		copy(sp.LogLS, x[o+s.q:o+2*s.q])
		copy(sp.Mu, x[o+2*s.q:o+3*s.q])
	}
}

// cutTrials lets the Kronecker-CG path stop the solve of a line-search trial
// once its objective is estimated to end above what the search accepts
// (kronCG.bound); tests turn it off to compare with solves run in full.
var cutTrials = true

// uSolver minimises −L over the grid values for fixed kernels and precisions,
// in the whitened coordinates Z of exactU: exactU with a dense factorisation,
// kronCG with conjugate gradients.
type uSolver interface {
	// setup prepares the solver after a kernel update.
	setup(m *model, lt [2]float64)
	// fromU sets Z to the whitened coordinates of grid values U.
	fromU(m *model, U, Z *mat.Dense)
	// solve overwrites Z with the minimiser of Φ (at most maxSteps Newton
	// steps) and returns Φ there.
	solve(m *model, Z *mat.Dense, lt [2]float64, maxSteps int) (float64, error)
	// grid returns the grid values U = T1 Z T2ᵀ of the last solve.
	grid() *mat.Dense
	// maxSteps is the cap on Newton (Gauss–Newton) steps per solve.
	maxSteps(linear bool) int
	// trendFixed fixes (true) or frees the trend coefficients in solve.
	trendFixed(bool)
	// trend returns the trend coefficients of the last solve.
	trend() []float64
	// setTrend sets the trend coefficients.
	setTrend([]float64)
}

// runProfile is the exact-U path: L-BFGS on the spectra, with U re-solved
// exactly by e at every evaluation, warm-started from the last accepted grid
// values. By the envelope theorem the gradient of the profile objective is the
// partial gradient at the optimal U.
func (s *optimisation) runProfile(ctx context.Context, e uSolver) error {
	n1, n2 := s.m.n1, s.m.n2
	steps := e.maxSteps(s.m.pde.Linear())
	np := 3 * s.q * len(s.specs)
	x := make([]float64, np)
	s.pack(x)
	gs := make([][]float64, len(s.specs))
	for j := range gs {
		gs[j] = make([]float64, 3*s.q)
	}
	best := s.U // grid values at the accepted point
	// accBeta: the trend coefficients there. Each evaluation starts from
	// both: a trial the line search rejected does not seed the next one.
	var accBeta []float64
	trial := mat.NewDense(n1, n2, nil)
	Z := mat.NewDense(n1, n2, nil)
	var evalErr error
	// setAt: the parameters of the kernels e was last set up for.
	var setAt []float64
	amp0 := 0.0 // ‖U‖ of the first solve; 0 until it is known
	kron, _ := e.(*kronCG)
	if kron != nil {
		kron.ctx = ctx
	}
	eval := func(x, g []float64, bound float64) float64 {
		if err := ctx.Err(); err != nil {
			evalErr = err
			return math.Inf(1)
		}
		s.unpack(x)
		if err := s.m.update(s.specs); err != nil {
			evalErr = err
			return math.Inf(1)
		}
		e.setup(s.m, s.lt)
		setAt = append(setAt[:0], x...)
		e.setTrend(accBeta)
		e.fromU(s.m, best, Z)
		if kron != nil && cutTrials {
			// A trial the line search will reject needs no converged solve.
			kron.bound = bound - s.constant()
		}
		phi, err := e.solve(s.m, Z, s.lt, steps)
		if kron != nil {
			kron.bound = math.Inf(1)
		}
		if errors.Is(err, errAboveBound) {
			// Above bound, also after rounding: never taken, no gradient.
			return math.Max(phi+s.constant(), math.Nextafter(bound, math.Inf(1)))
		}
		if err != nil {
			evalErr = err
			return math.Inf(1)
		}
		trial.Copy(e.grid())
		if a := math.Sqrt(frob(trial, trial)); amp0 > 0 && !(a >= minAmplitude*amp0) {
			evalErr = fmt.Errorf("grid values collapsed to %.1e of their first solve", a/amp0)
			return math.Inf(1)
		}
		s.m.objective(trial, s.lt, nil, gs, nil)
		for j := range gs {
			copy(g[j*3*s.q:], gs[j])
		}
		return phi + s.constant()
	}
	g := make([]float64, np)
	f := eval(x, g, math.Inf(1))
	if math.IsInf(f, 1) {
		return fmt.Errorf("initial kernel: %w", evalErr)
	}
	amp0 = math.Sqrt(frob(trial, trial))
	best.Copy(trial)
	accBeta = append(accBeta, e.trend()...)
	// Two-stage trend in 1-D: β is solved jointly with U at the initial
	// kernel, then held fixed while L-BFGS moves the spectra, so that the
	// profile seen by L-BFGS is that of a zero-mean GP on the data less the
	// trend; the last solve frees it again. With β free in every evaluation
	// L-BFGS stalled on preset p1 with StM at 1.5e-6 after 57 iterations. In
	// 2-D β stays free (for the linear PDEs until its solves fail: fixLater):
	// held fixed, x y + sin 8x sin 8y at 40² ended at 7.7e-4 instead of
	// 4.3e-5 with the relative nugget.
	fixed := len(s.m.ax) == 1
	e.trendFixed(fixed)
	s.heldFrom = -1
	if fixed && s.m.tr != nil {
		s.heldFrom = 0
	}
	// fixLater: in 2-D, for a linear PDE, β is held fixed too from the
	// accepted point after CappedFix Newton solves in a row ended at the CG
	// cap (CappedFix).
	fixLater := kron != nil && s.m.tr != nil && s.m.pde.Linear()
	// Stop rules on the check residual ρ (residualWatch): keep the iterate
	// of least ρ, stop when ρ rises or when the loss has reached its noise.
	rho := s.check.residual(s.m, trial)
	bestX := append([]float64(nil), x...)
	// The least-ρ iterate's own solution, grid and trend, from which the
	// final solve starts.
	bestU, bestBeta := mat.DenseCopyOf(trial), append([]float64(nil), e.trend()...)
	s.bestIt = -1
	w := residualWatch{best: rho, patience: risePatience1D}
	if len(s.m.ax) == 2 {
		w.patience, w.retry = risePatience2D, true
	}
	o := newLBFGS(np, 10)
	o.scale = make([]float64, np)
	s.reached = s.atTol(rho)
	for it := 0; it < s.iters && !s.reached; it++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.metric(o.scale)
		_, ok := o.step(x, &f, g, eval)
		if ok {
			best.Copy(trial) // the accepted point is the last one evaluated
			copy(accBeta, e.trend())
			rho = s.check.residual(s.m, trial)
			if w.accepted(rho) {
				copy(bestX, x)
				bestU.Copy(trial)
				copy(bestBeta, e.trend())
				s.bestIt = it
			}
		}
		if fixLater && !fixed && kron.capped >= CappedFix {
			// The accepted point's grid and β are the last ones evaluated;
			// from them, the profile with β fixed, a new objective for
			// L-BFGS.
			fixed = true
			s.heldFrom = it + 1
			e.trendFixed(true)
			if f = eval(x, g, math.Inf(1)); math.IsInf(f, 1) {
				return fmt.Errorf("the trend held fixed: %w", evalErr)
			}
			best.Copy(trial)
			o.reset()
		}
		s.record(it, f, rho)
		if ok && s.atTol(rho) {
			s.reached = true // this iterate is the one of least ρ
			break
		}
		if w.rising() {
			s.rising = true
			break
		}
		if !ok {
			if o.empty() {
				s.stalled = true
				break // no decrease even along the scaled gradient: converged
			}
			if w.searchFailed() {
				s.noisy = true
				break
			}
			o.reset()
		}
	}
	copy(x, bestX) // the returned iterate is the one of least ρ
	s.unpack(x)
	if !slices.Equal(x, setAt) {
		// Otherwise e holds these kernels' factors already (the run's last
		// evaluation was at that iterate): at 400² a set-up is half a second.
		if err := s.m.update(s.specs); err != nil {
			return err
		}
		e.setup(s.m, s.lt)
	}
	// From that iterate's solution, the solve only confirms it. From the
	// last accepted grid instead, which a later step may have taken far off
	// (preset p2d2: an accepted step to a grid of relative error 181, after
	// which this solve broke down in rounding, "Hessian not positive
	// definite"), it had to find it again.
	e.setTrend(bestBeta)
	e.fromU(s.m, bestU, Z)
	if _, err := e.solve(s.m, Z, s.lt, steps); err != nil {
		return err
	}
	s.U.Copy(e.grid())
	s.checkRes, s.checkRes2 = s.check.residuals(s.m, s.U)
	if s.m.tr == nil || !fixed {
		return nil
	}
	// The same kernel with β free: kept when its check residual is smaller.
	fixedBeta := append([]float64(nil), e.trend()...)
	e.trendFixed(false)
	if _, err := e.solve(s.m, Z, s.lt, steps); err != nil {
		return err
	}
	if r, r2 := s.check.residuals(s.m, e.grid()); r < s.checkRes {
		s.U.Copy(e.grid())
		s.checkRes, s.checkRes2 = r, r2
		return nil
	}
	e.setTrend(fixedBeta)
	s.m.setBeta(fixedBeta)
	return nil
}

// CappedFix is the number of Newton solves in a row ending at the CG cap
// after which a 2-D run of a linear PDE holds its trend fixed (runProfile),
// as 1-D runs do from the start. Such solves are those of a flat trade-off
// between the trend and the GP: advection's polynomials of x − βt, which
// either can carry. On preset adv at 200² every solve with β free ran to
// the cap (2000 iterations); held from the third, its 60 iterations took
// 162 s instead of 646, at 6.9e-5 instead of 6.3e-5. Held from the start,
// held-out advection problems whose solves mostly converge lost accuracy
// (sin(x − 20t) at 48²: 3.3e-6 → 3.1e-5; sin 2(x − 3t) + t: 3.7e-6 →
// 5.2e-5); their capped solves come one or two at a time, but for one late
// run of three in sin(x − 20t), which ends at the same error. Over nine
// such problems: 590 s → 402 s, six with the same error, two 1.15–1.3
// times less accurate in half the time (bench/results/gphm.md, "The
// advection trend held fixed after capped solves").
const CappedFix = 3

// atTol reports whether ρ has reached the requested Config.Tol (never when
// it is 0).
func (s *optimisation) atTol(rho float64) bool { return s.tol > 0 && rho <= s.tol }

// residualFlat reports whether the least check residual was reached before
// the last w = max(10, done/10) iterations, with at least 2w run.
func (s *optimisation) residualFlat() bool {
	w := max(10, s.done/10)
	return s.done >= 2*w && s.bestIt < s.done-w
}

// Stop rule on the check residual (runProfile): a rise by riseFactor over
// the least value seen, for risePatience accepted iterations in a row. 2-D
// iterations cost a conjugate-gradient solve each, so the 2-D patience is
// shorter.
const (
	riseFactor     = 2
	risePatience1D = 20
	risePatience2D = 5
)

// residualWatch holds the stop rules of a training run on its check
// residual ρ (runProfile): the least ρ so far, whose iterate the run
// returns; a rise (StopResidualRising), ρ above riseFactor × the least for
// patience accepted iterations in a row, not a plateau; and the loss's
// noise floor (StopLossNoisy), a failed line search since ρ last improved
// (with retry, the second one).
type residualWatch struct {
	best     float64
	patience int
	above    int
	// failed: a line search has failed since ρ last improved.
	failed bool
	// retry: the first failure resets the L-BFGS memory and the run goes
	// on (2-D). In 1-D no failure was ever followed by a lower ρ: over the
	// runs of the 1-D presets' benchmark rows (35 runs, 16 with a failed
	// search) ρ never fell after one, and the run went on for up to 6.5 s
	// more (p4's last variant 3.7 s of its 30 s) to end stationary or with
	// a second failure.
	retry bool
}

// accepted takes the ρ of an accepted step and reports whether it is the
// least so far (NaN is replaced by any value).
func (w *residualWatch) accepted(rho float64) bool {
	switch {
	case rho < w.best || math.IsNaN(w.best):
		w.best, w.above, w.failed = rho, 0, false
		return true
	case rho > riseFactor*w.best:
		w.above++
	default:
		w.above = 0
	}
	return false
}

// rising reports whether ρ has risen for long enough to stop.
func (w *residualWatch) rising() bool { return w.above >= w.patience }

// searchFailed records a failed line search and reports whether the run
// should stop at it: with retry a first failure resets the L-BFGS memory
// and the run goes on, but a second one before ρ improves means that the
// loss's values along the direction are its rounding noise; without retry
// the first one does.
func (w *residualWatch) searchFailed() bool {
	if w.failed || !w.retry {
		return true
	}
	w.failed = true
	return false
}

// minAmplitude is the smallest ‖U‖ the profile path accepts, relative to the
// grid values of its first solve. With a relative nugget and fixed noise
// precisions the objective is unbounded below as all weights shrink together
// (the log-determinant falls without limit), and L-BFGS found the way there
// on preset ac2: weights of 1e-12, grid values of 1e-5 whose aliased second
// derivatives fit the source, and a mean of zero between the nodes. Such
// points are treated as infeasible, so the line search shortens the step.
// The first solve, from the initial kernel, already has about the right size
// (relative errors of 3e-5 on p1 and 6e-3 on p2d1).
const minAmplitude = 1e-2

// nuggetShare returns ‖U − mean‖/‖U‖ for grid values U and their posterior
// mean on the grid (0 for U = 0).
func nuggetShare(U, mean *mat.Dense) float64 {
	uu := frob(U, U)
	if uu == 0 {
		return 0
	}
	var d mat.Dense
	d.Sub(U, mean)
	return math.Sqrt(frob(&d, &d) / uu)
}

// metric writes into w (layout of pack) a diagonal metric for the spectrum
// parameters: 1 for the log weights and log lengthscales, and for each
// frequency μ_q the square of the width of its spectral bump in cycles per unit
// length, (rate_q + 1/L)/(2π), where rate_q is the decay rate of the envelope
// (c = √5 e^{LogLS} for the Matérn envelopes, √(2 e^{LogLS}) for the
// Gaussian ones) and L the length of the axis. The objective varies with μ_q
// on that scale, which shrinks as the envelope lengthens, so without the metric
// a quasi-Newton method creeps along the curved valley in (μ_q, LogLS_q).
func (s *optimisation) metric(w []float64) {
	for j, sp := range s.specs {
		L := s.m.ax[j].length()
		o := j * 3 * s.q
		for q := range s.q {
			var rate float64
			switch s.m.kind {
			case StM, Matern:
				rate = math.Sqrt(5) * math.Exp(sp.LogLS[q])
			default:
				rate = math.Sqrt(2 * math.Exp(sp.LogLS[q]))
			}
			width := (rate + 1/L) / (2 * math.Pi)
			w[o+q], w[o+s.q+q], w[o+2*s.q+q] = 1, 1, width*width
		}
	}
}

// constant returns the terms of −L that do not depend on U: the log
// determinants and the log τ terms.
func (s *optimisation) constant() float64 {
	m := s.m
	M := float64(m.nodes())
	v := 0.0
	for _, a := range m.ax {
		v += 0.5 * M / float64(a.n) * a.logdet
	}
	return v - 0.5*m.lambdaB*float64(len(m.bIdx))*s.lt[0] - 0.5*M*s.lt[1]
}

// gridMean returns the posterior mean on the grid nodes for the current
// factors: k(X, X) K⁻¹ U per axis, i.e. (I − εK1⁻¹) U (I − εK2⁻¹).
func (s *optimisation) gridMean() *mat.Dense { return s.m.gridMean(s.U) }

// gridMean returns the posterior mean on the grid nodes of grid values U for
// the current factors of m (see optimisation.gridMean).
func (m *model) gridMean(U *mat.Dense) *mat.Dense {
	out := mat.DenseCopyOf(U)
	m.ax[0].solveLeft(out)
	out.Scale(-m.ax[0].jit, out)
	out.Add(out, U)
	if len(m.ax) == 2 {
		t := mat.DenseCopyOf(out)
		m.ax[1].solveRight(t)
		t.Scale(-m.ax[1].jit, t)
		out.Add(out, t)
	}
	return out
}

// testError is the paper's metric: relative L2 error of the posterior mean on
// 300 uniform points per axis, end points included. It checks ctx once per
// row of 300 points (one point in 1-D) and returns ctx.Err() when cancelled.
func (s *optimisation) testError(ctx context.Context, exact func([]float64) float64) (float64, error) {
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
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		at[0] = x
		if ys == nil {
			u := exact(at)
			d := p.At(i, 0) - u
			num += d * d
			den += u * u
			continue
		}
		for j, y := range ys {
			at[1] = y
			u := exact(at)
			d := p.At(i, j) - u
			num += d * d
			den += u * u
		}
	}
	return math.Sqrt(num / den), nil
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
	total := 0.0
	for i := range q {
		r.Weights[i] = math.Exp(s.LogW[i])
		total += r.Weights[i]
	}
	for i := range q {
		if r.Weights[i] > ActiveWeight*total {
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
