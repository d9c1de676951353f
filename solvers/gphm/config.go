package gphm

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"eddy/field"
	"eddy/pde/expr"
)

// Config is the request for one solve. JSON names are the job parameters of
// gp.solve, and the tags declare each parameter's description, range and
// allowed values (see package field): Validate enforces them and the job's
// JSON Schema publishes them. A problem is given by exactly one of: Preset;
// Exact (source and boundary data derived from it); or Source and Boundary.
//
// Sign convention (Fang et al.): the source f is the right-hand side of
// u_xx = f (1-D Poisson), Δu = f (2-D), Δu + u³ − u = f (Allen–Cahn) and
// β u_x + u_t = f (advection) — not −Δu = f as in package poisson.
type Config struct {
	// PDE is poisson1d, poisson2d, allen_cahn1d, allen_cahn2d or advection.
	// With a preset it may be empty; otherwise it must match the preset.
	PDE string `json:"pde,omitempty" enum:"poisson1d|poisson2d|allen_cahn1d|allen_cahn2d|advection" doc:"the equation, on a grid of x (and y, or t for advection): poisson1d u_xx = f; poisson2d u_xx + u_yy = f; allen_cahn1d u_xx + u³ − u = f; allen_cahn2d Δu + u³ − u = f; advection β u_x + u_t = f. With a preset it may be left out (it must match the preset's)"`
	// Preset names a built-in problem (see Presets). It fixes the PDE and the
	// exact solution, and supplies the domain and β where those are zero.
	Preset string `json:"preset,omitempty" enum:"ac1|ac2|ac2d|adv|p1|p2|p2d1|p2d2|p3|p4|p5" doc:"a benchmark problem of Fang et al. (ICLR 2024) with the authors' grid, frequency scale and boundary weight: p1–p5, 1-D Poisson (p1: u = sin(100x) on [0, 2π]); ac1, ac2, 1-D Allen–Cahn; p2d1, p2d2, 2-D Poisson; ac2d, 2-D Allen–Cahn; adv, advection with β = 200. It fixes the PDE and the exact solution; leave it out to give exact, or source and boundary"`
	// Exact is the exact solution as an expression in x (1-D), x and y (2-D),
	// or x and t (advection).
	Exact string `json:"exact,omitempty" format:"eddy-expression" doc:"exact solution u as an expression in x (1-D), x and y (2-D) or x and t (advection), e.g. sin(3*x) + x^2: the source and the boundary values are derived from it, and the relative L2 error of the solution is reported. Give it, or source and boundary, when there is no preset"`
	// Source is f, the right-hand side of the PDE, in the same variables.
	Source string `json:"source,omitempty" format:"eddy-expression" doc:"right-hand side f of the PDE as an expression in the variables of exact, with the paper's sign convention: u_xx = f for poisson1d (so u = sin(x) has f = −sin(x); poisson.solve instead solves −Δu = f), Δu = f for poisson2d, Δu + u³ − u = f for Allen–Cahn, β u_x + u_t = f for advection. Give it with boundary"`
	// Boundary gives the Dirichlet values, evaluated on the boundary nodes.
	Boundary string `json:"boundary,omitempty" format:"eddy-expression" doc:"Dirichlet values of u as an expression in the variables of exact, evaluated on the boundary nodes of the grid: both ends in 1-D, the four sides of the rectangle in 2-D and for advection (x–t). Give it with source"`
	// Domain [XMin, XMax] × [YMin, YMax]; the second axis is t for advection
	// and unused in 1-D.
	XMin float64 `json:"x_min" min:"-1e6" max:"1e6" doc:"left end of the x interval, in the length unit of the expressions; with a preset, x_min = x_max = 0 means the preset's interval"`
	XMax float64 `json:"x_max" min:"-1e6" max:"1e6" doc:"right end of the x interval; it must exceed x_min by at least 1e-12 and by 1e-6 of the larger end in magnitude"`
	YMin float64 `json:"y_min" min:"-1e6" max:"1e6" doc:"lower end of the second axis (y in 2-D, t for advection; unused in 1-D); y_min = y_max = 0 means the preset's interval, or without a preset the x interval (a square domain)"`
	YMax float64 `json:"y_max" min:"-1e6" max:"1e6" doc:"upper end of the second axis; in 2-D and for advection it must exceed y_min by at least 1e-12 and by 1e-6 of the larger end in magnitude"`
	// Beta is the advection speed in β u_x + u_t = 0.
	Beta float64 `json:"beta" min:"-1e6" max:"1e6" doc:"advection speed β in β u_x + u_t = f, in x units per t unit; nonzero for advection, unused otherwise. With a preset, 0 means the preset's"`
	// N is the number of grid points per axis, end points included.
	N int `json:"n" min:"8" max:"2000" doc:"grid points per axis, end points included (n² nodes in 2-D; at most 1000 there). Memory grows as n² and the work per iteration as n³"`
	// Kernel is gm, stm (GP-HM), se or matern (baselines).
	Kernel string `json:"kernel" enum:"gm|stm|se|matern" doc:"covariance of the GP on each axis: gm, a Gaussian spectral mixture (GP-HM-GM); stm, a Student-t spectral mixture (GP-HM-StM); se and matern, the baselines' scale mixtures of squared-exponential and Matérn-5/2 kernels (no learned frequencies). A gm or stm run that stalls is restarted with the other (the metric kernel says which ran); with stm in 1-D, gm runs beside it from the start on a second core and is stopped when stm does not stall"`
	// Components is Q, the number of mixture components per dimension.
	Components int `json:"components" min:"1" max:"200" doc:"number Q of mixture components per axis; the learned spectrum keeps the components the solution needs. Work grows about linearly with Q"`
	// FreqScale is F: the initial frequencies are μ_q = F q/(Q−1), in cycles per
	// unit length; about 1.25–2× the largest frequency of the solution. 0: the
	// preset's, or without a preset chosen per axis from the data
	// (frequencyScales).
	FreqScale float64 `json:"freq_scale" min:"0" max:"1e6" doc:"frequency scale F, in cycles per unit length: the initial frequencies are μ_q = F q/(Q − 1). 0 (the default): the preset's, or without a preset chosen on each axis from the data: 1.25 times the largest frequency the source and boundary values show along it, held between 0.5 and 0.75 of the grid's Nyquist frequency (n − 1)/(2 length) (lower values leave more of the grid to the prior and cost more); metrics freq_scale_<axis> and data_frequency_<axis>. Given, choose about 1.25–2× the largest frequency of the solution and below the Nyquist frequency: too small a value misses high-frequency components, and above the Nyquist frequency the learned spectrum may settle badly (measured on grids up to 40²); a warning says when the value given is either"`
	// Iterations is the number of optimiser iterations: L-BFGS iterations on
	// the spectra (the exact-U path in 1-D, the Kronecker-CG path in 2-D;
	// L-BFGS stops earlier when no step lowers the objective).
	Iterations int `json:"iterations" min:"0" max:"10000000" doc:"number of L-BFGS iterations on the kernel spectra (U is eliminated exactly in 1-D and by Kronecker conjugate gradients in 2-D); L-BFGS stops earlier when no step lowers the objective"`
	// Tol is the check residual at which a run stops (StopTolerance): the
	// accuracy the user needs, as the method estimates it. 0 runs on to the
	// other stop rules or the budget.
	Tol float64 `json:"tol" min:"0" max:"0.001" doc:"accuracy wanted, as the check residual (the estimate of the relative error reported as check_residual): a run stops at the first iteration whose check residual is at most tol (stop_reason tolerance), and no other trend, nugget or kernel is tried once a run has reached it. The check residual estimates the error, it does not bound it: on held-out advection problems the error was 0.4–1.2 times it. 0 (the default) runs on until the loss or the check residual settles or the iterations run out. At most 1e-3, the largest check residual reported as converged"`
	// Coarse selects the coarse stage (coarseGrid): CoarseAuto trains first
	// on a coarser grid when the grid is much finer than the kernel's
	// spectrum; CoarseOff never.
	Coarse string `json:"coarse,omitempty" enum:"auto|off" doc:"coarse stage, 2-D Poisson and Allen–Cahn: auto (the default) trains first on a coarse grid when the grid is more than twice as fine as its frequencies need (the initial spectrum's top frequency F and the data's, at two and four nodes per cycle), then goes on from that grid's spectra and solution on the grid given, with the kernel, trend and nugget the coarse stage chose (metrics coarse_n, coarse_iterations, coarse_check_residual, coarse_seconds, coarse_used); off solves on the grid given from the start. Preset ac2d (10 iterations) at 200²: 9.5e-5 in 69 s with it (65² first), 8.8e-4 in 378 s without; at 400², 2.4e-4 in 448 s"`
	// LambdaB weights the boundary log-likelihood (200 in the paper, 500 for
	// advection).
	LambdaB float64 `json:"lambda_b" gt:"0" max:"1e9" doc:"weight λ_b of the boundary log-likelihood against the PDE residual's (200 in the paper, 500 for advection): larger values fit the boundary values more tightly"`
	// Nugget is the jitter on the diagonal of each kernel matrix K_j:
	// "relative", 1e-6·k_j(0), "relative10", 1e-5·k_j(0), "absolute", the
	// paper's 1e-6, or "auto" (the default when empty), relative first and
	// absolute (and in 1-D relative10) when the check residual calls for it
	// (see Solve); in 2-D Poisson auto also chooses the precisions τ per
	// variant (solveOnce, TightLogTau). The relative nugget keeps the
	// objective free of rounding noise as the mixture weights grow, which the
	// high-frequency presets need (preset p1: 7e-7 instead of a stall between
	// 5e-6 and 6e-5); the absolute one lets the weights shrink the nugget
	// relative to the signal.
	Nugget string `json:"nugget,omitempty" enum:"auto|relative|absolute|relative10" doc:"jitter on the diagonal of each kernel matrix: auto (the default) runs relative and, when the PDE residual between the nodes stays above 1e-6 of the solution (1e-4 in 2-D), absolute too and in 1-D then relative10, and keeps the best (the metric nugget_reason says why); in 2-D Poisson auto also runs each of these first with the residual fitted more tightly (log τ 20 instead of 16) and keeps that run when it converges (tau_reason); relative, 1e-6·k(0), keeps the objective free of rounding noise as the spectra grow; absolute, the paper's 1e-6; relative10, 1e-5·k(0), more prior between the frequencies of a narrow learned spectrum, where a smooth part of the error otherwise stays (preset p4)"`
	// Trend is "polynomial": the solution is a low-degree polynomial with
	// flat-prior coefficients plus the GP (trend.go), the coefficients solved
	// exactly with the grid values; "none", the paper's zero-mean GP; or
	// "auto" (the default when empty), polynomial first and none when the
	// check residual calls for it (see Solve).
	Trend string `json:"trend,omitempty" enum:"auto|polynomial|none" doc:"mean of the GP: polynomial adds a low-degree polynomial trend (Legendre, degree ≤ 3 in 1-D, total degree ≤ 2 in 2-D) whose coefficients are solved exactly with the grid values, so that smooth parts of the solution cost nothing in the prior; none is the paper's zero-mean GP; auto (the default) runs polynomial and, when the PDE residual between the nodes stays above 1e-6 of the solution (1e-4 in 2-D), none too, and keeps the better (metric nugget_reason)"`
	// Seed is recorded for reproducibility. The method itself is
	// deterministic: the initialisation (spec §1.4) uses no random numbers.
	Seed uint64 `json:"seed" min:"0" max:"9007199254740991" doc:"recorded with the result for reproducibility; the method is deterministic (its initialisation draws no random numbers), so the seed does not change the solution"`
}

// Values of Config.Nugget.
const (
	NuggetAuto     = "auto"
	NuggetRelative = "relative"
	NuggetAbsolute = "absolute"
	// NuggetRelative10 is the relative nugget ten times larger (axis.nugget).
	NuggetRelative10 = "relative10"
)

// Values of Config.Coarse.
const (
	CoarseAuto = "auto"
	CoarseOff  = "off"
)

// Values of Config.Trend.
const (
	TrendAuto       = "auto"
	TrendPolynomial = "polynomial"
	TrendNone       = "none"
)

// switchResidual is the check residual above which the automatic trend and
// nugget try their next variant: SwitchResidual1D or SwitchResidual2D, or
// the requested Tol when larger (a run that reached it ends the variants).
func (r *resolved) switchResidual() float64 {
	s := SwitchResidual1D
	if r.pde.Dims() == 2 {
		s = SwitchResidual2D
	}
	return math.Max(s, r.cfg.Tol)
}

// stallResidual is the check residual above which a run counts as stalled
// (solveKernels): StallResidual1D or StallResidual, or the requested Tol
// when larger.
func (r *resolved) stallResidual() float64 {
	s := StallResidual
	if r.pde.Dims() == 1 {
		s = StallResidual1D
	}
	return math.Max(s, r.cfg.Tol)
}

// MaxN2D bounds N in 2-D, where the grid has N² nodes; Validate enforces it
// (the bound in 1-D and the others are declared in Config's tags).
const MaxN2D = 1000

// DefaultConfig returns the settings of preset p1 (1-D Poisson, u = sin(100x)
// on [0, 2π], N = 400, GP-HM-GM) with the exact-U path's default budget.
func DefaultConfig() Config {
	c, _ := PresetConfig("p1")
	c.FreqScale = 0 // the preset's, or without one chosen from the data
	return c
}

// PresetConfig returns a complete Config for the named preset with the
// authors' settings (grid, F, λ_b, Q = 30, GP-HM-GM) and a
// budget of 300 L-BFGS iterations in 1-D and 60 in 2-D (the authors ran
// 1e5–3e6 Adam steps; Preset.Iterations keeps their count).
func PresetConfig(name string) (Config, error) {
	p, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown preset %q", name)
	}
	c := Config{
		PDE: p.PDE.String(), Preset: name, XMin: p.XMin, XMax: p.XMax, YMin: p.YMin, YMax: p.YMax,
		Beta: p.Beta, N: p.N, Kernel: "gm", Components: 30, FreqScale: p.FreqScale,
		Iterations: p.Iterations, LambdaB: p.LambdaB, Nugget: NuggetAuto, Trend: TrendAuto,
	}
	c.Iterations = 300
	if p.PDE.Dims() == 2 {
		c.Iterations = 60
	}
	return c, nil
}

// resolved is a validated Config turned into typed values.
type resolved struct {
	// cfg is the Config with the preset's values filled in and its
	// intervals and β in the solve's coordinates (coordScales); FreqScale
	// stays in the problem's own.
	cfg    Config
	pde    PDE
	kernel Kernel
	prob   problem
	// cgAll counts the conjugate-gradient iterations of every run made for
	// this solve (Result.CGIterationsAll), those of runs cancelled or not
	// kept included; runs may end on several goroutines.
	cgAll atomic.Int64
	// freq is the frequency scale F of each axis and freqData the largest
	// frequency the data show on it, freqWarning a warning about a requested
	// F or the grid (frequencyScales, once: scales).
	freq, freqData []float64
	freqWarning    string
	freqOnce       sync.Once
	freqErr        error
	// start, when set, is where the runs start (a coarse stage's result,
	// solveGrids); keepStart makes each run's Result keep its own (the
	// coarse stage's runs).
	start     *startPoint
	keepStart bool
}

// gridAxes returns the grid's axes, their nodes and spacing only: where
// the problem's data are evaluated (CheckData, frequencyScales).
func (r *resolved) gridAxes() []*axis {
	rc := r.cfg
	axes := []*axis{{n: rc.N, x0: rc.XMin, h: (rc.XMax - rc.XMin) / float64(rc.N-1)}}
	if r.pde.Dims() == 2 {
		axes = append(axes, &axis{n: rc.N, x0: rc.YMin, h: (rc.YMax - rc.YMin) / float64(rc.N-1)})
	}
	return axes
}

// scales returns the frequency scale of each axis and sets the data's scale
// (frequencyScales), found at the first call, before any run samples the
// data; the runs of a solve may call it on several goroutines.
func (r *resolved) scales(ctx context.Context) ([]float64, error) {
	r.freqOnce.Do(func() { r.freqErr = r.frequencyScales(ctx) })
	return r.freq, r.freqErr
}

// Validate checks c and returns nil or field.Errors naming every invalid
// parameter by its JSON Pointer ("/n"): each parameter against its declared
// range and values (field.Check), then, when those hold, the parameters
// against each other and the expressions (a syntax error is reported with
// its character position).
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

// minLength and minRelLength bound an axis's length from below. Shorter,
// the sources derived from an exact solution overflow (a second derivative
// grows as 1/L²: on [0, 1e-300] the solve failed inside its eigensolver,
// on [0, 1e-150] it returned NaN precisions), or the grid's nodes are no
// longer distinct in floating point ([10⁵, 10⁵ + 1e-12]: a spacing of 1e-15
// against the 1.5e-11 between doubles there). Lengths down to 1e-30 were
// solved (coordScales multiplies them by a power of two).
const (
	minLength    = 1e-12
	minRelLength = 1e-6
)

func (c Config) resolve() (*resolved, error) {
	errs := field.Check(c)
	if len(errs) > 0 {
		return nil, errs
	}
	r := &resolved{cfg: c}
	if c.Preset != "" {
		p := presets[c.Preset]
		if c.PDE != "" && c.PDE != p.PDE.String() {
			errs.Add("/pde", "preset %s is %s, not %s", p.Name, p.PDE, c.PDE)
		}
		if c.Exact != "" || c.Source != "" || c.Boundary != "" {
			errs.Add("/preset", "give either a preset or exact/source/boundary expressions, not both")
		}
		r.pde = p.PDE
		r.cfg.PDE = p.PDE.String()
		r.cfg.Exact = p.Exact
		if c.XMin == 0 && c.XMax == 0 {
			r.cfg.XMin, r.cfg.XMax = p.XMin, p.XMax
		}
		if c.YMin == 0 && c.YMax == 0 {
			r.cfg.YMin, r.cfg.YMax = p.YMin, p.YMax
		}
		if c.Beta == 0 {
			r.cfg.Beta = p.Beta
		}
	} else {
		pde, err := ParsePDE(c.PDE)
		if err != nil {
			errs.Add("/pde", "is required without a preset (one of %s)", strings.Join(pdeNames[:], ", "))
		}
		r.pde = pde
		switch {
		case c.Exact != "" && (c.Source != "" || c.Boundary != ""):
			errs.Add("/exact", "give either exact or source and boundary, not both")
		case c.Exact == "" && (c.Source == "" || c.Boundary == ""):
			errs.Add("/exact", "give a preset, an exact solution, or both source and boundary")
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.kernel, _ = ParseKernel(c.Kernel) // the enum of Kernel admits only known names
	if r.cfg.Nugget == "" {
		r.cfg.Nugget = NuggetAuto
	}
	if r.cfg.Trend == "" {
		r.cfg.Trend = TrendAuto
	}
	if r.cfg.Coarse == "" {
		r.cfg.Coarse = CoarseAuto
	}
	// Without a preset, a second axis left at [0, 0] is the x interval: the
	// square domain a user means who set only x_min and x_max (or neither).
	if c.Preset == "" && r.pde.Dims() == 2 && r.cfg.YMin == 0 && r.cfg.YMax == 0 {
		r.cfg.YMin, r.cfg.YMax = r.cfg.XMin, r.cfg.XMax
	}
	rc := r.cfg
	interval := func(path, lo string, a, b float64) {
		switch {
		case !(b > a):
			errs.Add(path, "must exceed %s (got [%g, %g])", lo, a, b)
		case b-a < minLength || b-a < minRelLength*math.Max(math.Abs(a), math.Abs(b)):
			errs.Add(path, "the interval [%g, %g] is too short: its length must be at least %g and %g of its largest end", a, b, minLength, minRelLength)
		}
	}
	interval("/x_max", "x_min", rc.XMin, rc.XMax)
	if r.pde.Dims() == 2 {
		interval("/y_max", "y_min", rc.YMin, rc.YMax)
	}
	if r.pde == Advection && rc.Beta == 0 {
		errs.Add("/beta", "must be nonzero for advection")
	}
	if r.pde.Dims() == 2 && c.N > MaxN2D {
		errs.Add("/n", "must be at most %d for a 2-D problem (n² grid nodes), got %d", MaxN2D, c.N)
	}
	r.prob = newProblem(r.pde, rc.Beta)
	for _, e := range []struct {
		name, src string
		dst       **expr.Expr
	}{{"exact", rc.Exact, &r.prob.exact}, {"source", rc.Source, &r.prob.source}, {"boundary", rc.Boundary, &r.prob.bound}} {
		if e.src != "" {
			x, err := parseField(e.name, e.src, r.pde)
			errs.Append(err)
			*e.dst = x
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.cfg = coordScales(r.pde, r.cfg, &r.prob)
	return r, nil
}

// checkBytes bounds the work of CheckData: grid nodes evaluated times the
// length of the expressions, about a quarter of a second of evaluation.
const checkBytes = 1 << 23

// CheckData evaluates the problem's data where Solve does — the source f
// (derived from exact when that is given) and the exact solution on the grid
// nodes, the Dirichlet values on the boundary nodes — and returns
// field.Errors at the field (/exact, /source or /boundary) whose value is not
// finite at a node, or nil; c must be valid. A preset's data are finite and
// are not evaluated. The whole grid is evaluated when its nodes times the
// length of the expressions stay within 2²³ bytes; a larger grid on a subgrid
// of evenly spread rows and columns, end points included, so that a value
// that is not finite elsewhere is found only by Solve. It returns ctx.Err()
// when ctx is done first.
func (c Config) CheckData(ctx context.Context) error {
	if c.Preset != "" {
		return nil
	}
	r, err := c.resolve()
	if err != nil {
		return err
	}
	rc := r.cfg
	dims := r.pde.Dims()
	axes := r.gridAxes()
	nodes := max(checkBytes/max(len(rc.Exact)+len(rc.Source)+len(rc.Boundary), 1), 4)
	per := nodes // nodes per axis
	if dims == 2 {
		per = int(math.Sqrt(float64(nodes)))
	}
	idx := make([][]int, dims)
	for d, a := range axes {
		m := min(a.n, max(per, 2))
		for j := range m {
			idx[d] = append(idx[d], int(math.Round(float64(j)*float64(a.n-1)/float64(m-1))))
		}
	}
	if dims == 1 {
		idx = append(idx, []int{0})
	}
	at := make([]float64, dims)
	for _, i := range idx[0] {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, j := range idx[1] {
			at[0] = axes[0].coord(i)
			if dims == 2 {
				at[1] = axes[1].coord(j)
			}
			if _, _, err := r.prob.interiorAt(at); err != nil {
				return err
			}
			onBoundary := i == 0 || i == axes[0].n-1 || dims == 2 && (j == 0 || j == axes[1].n-1)
			if onBoundary {
				if _, err := r.prob.dirichletAt(at); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Estimate returns the memory in bytes and the floating-point work of a solve
// with c, for the API to refuse absurd sizes before queueing. The figures are
// rough estimates from the dominant terms. Memory, the peak of the arrays
// alive at once: in 1-D (exact-U path) 30 n×n matrices (per-axis kernel
// factors, the whitened coordinates, the dense Hessian and its Cholesky
// factor, the eigensolver's workspace, the check grid's sine basis and
// cross-covariances); in 2-D (Kronecker-CG path) 100 n×n arrays (grids,
// per-axis factors, the conjugate-gradient vectors, the preconditioner's
// set-up, 4p trend fields for p = 6 basis functions and the check grid's
// work) and at most TailBlockPerNode more (on small grids at least
// TailBlockMin² doubles for Allen–Cahn, TailBlockMinLinear² for the linear
// PDEs; tailBlockMax) for the tail solve's dense block.
// The counts are the measured peaks of the live heap before the trend
// and the check grid (24 and 64), rounded up, plus those additions. Work: in 1-D about 30n³ flops
// per L-BFGS evaluation (an eigendecomposition, products and a Cholesky
// factorisation), 2 evaluations per iteration; in 2-D, per evaluation, up to
// 1000 conjugate-gradient iterations of eight n×n×n products (16n³ flops).
// In 1-D both figures count the runs that may go at once: two when the
// trend or the nugget is automatic (a later variant of a kernel beside its
// current one), one more with StM (GM's runs beside StM's; Solve). It
// assumes c is valid.
func (c Config) Estimate() (bytes int64, flops float64) {
	n := float64(c.N)
	pde, _ := ParsePDE(c.PDE)
	if p, ok := presets[c.Preset]; ok {
		pde = p.PDE
	}
	it := float64(max(c.Iterations, 1))
	if pde.Dims() == 1 {
		// Runs at once: with more than one trend/nugget variant, a later
		// one of a kernel may run beside its current one; with StM, GM's
		// runs beside StM's (Solve).
		runs := 1.0
		if c.Trend == "" || c.Trend == TrendAuto || c.Nugget == "" || c.Nugget == NuggetAuto {
			runs = 2
		}
		if k, err := ParseKernel(c.Kernel); err == nil && k == StM {
			runs++
		}
		return int64(runs * 8 * 30 * n * n), runs * it * 2 * 30 * n * n * n
	}
	// About 100 grids of n² doubles, and the tail solve's dense block
	// (tailBlockMax² doubles at most); on grids of at most DenseNodes
	// nodes the Newton matrix and its factor (dense.go, 2(n² + 6)² doubles).
	d := float64(tailBlockMax(pde, c.N, c.N))
	bytes = int64(8 * (100*n*n + d*d))
	if n*n <= DenseNodes {
		bytes += int64(8 * 2 * (n*n + 6) * (n*n + 6))
	}
	return bytes, it * 2 * 1000 * 16 * n * n * n
}
