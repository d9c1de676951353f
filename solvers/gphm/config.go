package gphm

import (
	"errors"
	"fmt"
	"math"
)

// Config is the request for one solve. JSON names are the job parameters of
// gp.solve. A problem is given by exactly one of: Preset; Exact (source and
// boundary data derived from it); or Source and Boundary.
type Config struct {
	// PDE is poisson1d, poisson2d, allen_cahn1d, allen_cahn2d or advection.
	// With a preset it may be empty; otherwise it must match the preset.
	PDE string `json:"pde"`
	// Preset names a built-in problem (see Presets). It fixes the PDE and the
	// exact solution, and supplies the domain and β where those are zero.
	Preset string `json:"preset,omitempty"`
	// Exact is the exact solution as an expression in x (1-D), x and y (2-D),
	// or x and t (advection).
	Exact string `json:"exact,omitempty"`
	// Source is f, the right-hand side of the PDE, in the same variables.
	Source string `json:"source,omitempty"`
	// Boundary gives the Dirichlet values, evaluated on the boundary nodes.
	Boundary string `json:"boundary,omitempty"`
	// Domain [XMin, XMax] × [YMin, YMax]; the second axis is t for advection
	// and unused in 1-D.
	XMin float64 `json:"x_min"`
	XMax float64 `json:"x_max"`
	YMin float64 `json:"y_min"`
	YMax float64 `json:"y_max"`
	// Beta is the advection speed in β u_x + u_t = 0.
	Beta float64 `json:"beta"`
	// N is the number of grid points per axis, end points included.
	N int `json:"n"`
	// Kernel is gm, stm (GP-HM), se or matern (baselines).
	Kernel string `json:"kernel"`
	// Components is Q, the number of mixture components per dimension.
	Components int `json:"components"`
	// FreqScale is F: the initial frequencies are μ_q = F q/(Q−1), in cycles per
	// unit length; about 1.25–2× the largest frequency of the solution.
	FreqScale float64 `json:"freq_scale"`
	// Iterations is the number of optimiser iterations: L-BFGS iterations on
	// the spectra (the exact-U path in 1-D, the Kronecker-CG path in 2-D;
	// L-BFGS stops earlier when no step lowers the objective).
	Iterations int `json:"iterations"`
	// LR is the Adam learning rate of the paper's joint optimisation; the
	// default paths eliminate U exactly and do not use it.
	LR float64 `json:"lr"`
	// LambdaB weights the boundary log-likelihood (200 in the paper, 500 for
	// advection).
	LambdaB float64 `json:"lambda_b"`
	// Nugget is the jitter on the diagonal of each kernel matrix K_j:
	// "relative" (default when empty), 1e-6·k_j(0), or "absolute", the
	// paper's 1e-6. The relative nugget keeps the objective free of rounding
	// noise as the mixture weights grow, which the high-frequency presets
	// need to converge (preset p1: 7e-7 instead of a stall between 5e-6 and
	// 6e-5); the absolute one lets the weights shrink the nugget relative to
	// the signal, which suits solutions with a polynomial part (for
	// sin(3x) + x² on [0, 2], N = 60: 1e-4 instead of 1e-2).
	Nugget string `json:"nugget,omitempty"`
	// Seed is recorded for reproducibility. The method itself is
	// deterministic: the initialisation (spec §1.4) uses no random numbers.
	Seed uint64 `json:"seed"`
}

// Values of Config.Nugget.
const (
	NuggetRelative = "relative"
	NuggetAbsolute = "absolute"
)

// Limits the API may rely on; Validate enforces them.
const (
	MaxN1D        = 2000
	MaxN2D        = 1000
	MaxComponents = 200
	MaxIterations = 10_000_000
)

// DefaultConfig returns the settings of preset p1 (1-D Poisson, u = sin(100x)
// on [0, 2π], N = 400, GP-HM-GM) with the exact-U path's default budget.
func DefaultConfig() Config {
	c, _ := PresetConfig("p1")
	return c
}

// PresetConfig returns a complete Config for the named preset with the
// authors' settings (grid, F, λ_b, Q = 30, Adam lr = 0.01, GP-HM-GM) and a
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
		Iterations: p.Iterations, LR: 0.01, LambdaB: p.LambdaB,
	}
	c.Iterations = 300
	if p.PDE.Dims() == 2 {
		c.Iterations = 60
	}
	return c, nil
}

// FieldError is a Config field with an invalid value; Field is its JSON name.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// resolved is a validated Config turned into typed values.
type resolved struct {
	cfg    Config
	pde    PDE
	kernel Kernel
	prob   problem
}

// Validate checks c and returns nil or an error joining a *FieldError or
// *ExprError per bad field (errors.Join; use errors.As to inspect them).
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

func (c Config) resolve() (*resolved, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	r := &resolved{cfg: c}
	var pdeOK bool
	if c.Preset != "" {
		p, ok := presets[c.Preset]
		if !ok {
			bad("preset", "unknown preset %q (want one of %v)", c.Preset, Presets())
		} else {
			if c.PDE != "" && c.PDE != p.PDE.String() {
				bad("pde", "preset %s is %s, not %s", p.Name, p.PDE, c.PDE)
			}
			if c.Exact != "" || c.Source != "" || c.Boundary != "" {
				bad("preset", "give either a preset or exact/source/boundary expressions, not both")
			}
			r.pde, pdeOK = p.PDE, true
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
		}
	} else {
		p, err := ParsePDE(c.PDE)
		if err != nil {
			bad("pde", "%v", err)
		} else {
			r.pde, pdeOK = p, true
		}
		switch {
		case c.Exact != "" && (c.Source != "" || c.Boundary != ""):
			bad("exact", "give either exact or source and boundary, not both")
		case c.Exact == "" && (c.Source == "" || c.Boundary == ""):
			bad("exact", "give a preset, an exact solution, or both source and boundary")
		}
	}
	k, err := ParseKernel(c.Kernel)
	if err != nil {
		bad("kernel", "%v", err)
	}
	r.kernel = k
	rc := r.cfg
	finite := func(field string, v float64) bool {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			bad(field, "must be finite")
			return false
		}
		return true
	}
	if finite("x_min", rc.XMin) && finite("x_max", rc.XMax) && !(rc.XMax > rc.XMin) {
		bad("x_max", "must exceed x_min (got [%g, %g])", rc.XMin, rc.XMax)
	}
	if pdeOK && r.pde.Dims() == 2 {
		if finite("y_min", rc.YMin) && finite("y_max", rc.YMax) && !(rc.YMax > rc.YMin) {
			bad("y_max", "must exceed y_min (got [%g, %g])", rc.YMin, rc.YMax)
		}
	}
	if pdeOK && r.pde == Advection && finite("beta", rc.Beta) && rc.Beta == 0 {
		bad("beta", "must be nonzero for advection")
	}
	maxN := MaxN1D
	if pdeOK && r.pde.Dims() == 2 {
		maxN = MaxN2D
	}
	if c.N < 8 || c.N > maxN {
		bad("n", "must be in [8, %d], got %d", maxN, c.N)
	}
	if c.Components < 1 || c.Components > MaxComponents {
		bad("components", "must be in [1, %d], got %d", MaxComponents, c.Components)
	}
	if finite("freq_scale", c.FreqScale) && c.FreqScale < 0 {
		bad("freq_scale", "must be ≥ 0, got %g", c.FreqScale)
	}
	if c.Iterations < 0 || c.Iterations > MaxIterations {
		bad("iterations", "must be in [0, %d], got %d", MaxIterations, c.Iterations)
	}
	if finite("lr", c.LR) && !(c.LR > 0) {
		bad("lr", "must be > 0, got %g", c.LR)
	}
	if finite("lambda_b", c.LambdaB) && !(c.LambdaB > 0) {
		bad("lambda_b", "must be > 0, got %g", c.LambdaB)
	}
	switch c.Nugget {
	case "":
		r.cfg.Nugget = NuggetRelative
	case NuggetRelative, NuggetAbsolute:
	default:
		bad("nugget", "unknown nugget %q (want %s or %s)", c.Nugget, NuggetRelative, NuggetAbsolute)
	}
	if pdeOK {
		r.prob = problem{pde: r.pde, beta: rc.Beta}
		if rc.Exact != "" {
			e, err := parseField("exact", rc.Exact, r.pde)
			if err != nil {
				errs = append(errs, err)
			}
			r.prob.exact = e
		}
		if rc.Source != "" {
			e, err := parseField("source", rc.Source, r.pde)
			if err != nil {
				errs = append(errs, err)
			}
			r.prob.source = e
		}
		if rc.Boundary != "" {
			e, err := parseField("boundary", rc.Boundary, r.pde)
			if err != nil {
				errs = append(errs, err)
			}
			r.prob.bound = e
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// Estimate returns the memory in bytes and the floating-point work of a solve
// with c, for the API to refuse absurd sizes before queueing. The figures are
// rough estimates from the dominant terms. Memory, the peak of the arrays
// alive at once: in 1-D (exact-U path) 24 n×n matrices (per-axis kernel
// factors, the whitened coordinates, the dense Hessian and its Cholesky
// factor, the eigensolver's workspace); in 2-D (Kronecker-CG path) 64 n×n
// arrays (grids, per-axis factors, the conjugate-gradient vectors and the
// preconditioner's set-up). Both counts are the measured peaks of the live
// heap, rounded up, for n of a few hundred. Work: in 1-D about 30n³ flops
// per L-BFGS evaluation (an eigendecomposition, products and a Cholesky
// factorisation), 2 evaluations per iteration; in 2-D, per evaluation, up to
// 1000 conjugate-gradient iterations of eight n×n×n products (16n³ flops). It
// assumes c is valid.
func (c Config) Estimate() (bytes int64, flops float64) {
	n := float64(c.N)
	pde, _ := ParsePDE(c.PDE)
	if p, ok := presets[c.Preset]; ok {
		pde = p.PDE
	}
	it := float64(max(c.Iterations, 1))
	if pde.Dims() == 1 {
		return int64(8 * 24 * n * n), it * 2 * 30 * n * n * n
	}
	return int64(8 * 64 * n * n), it * 2 * 1000 * 16 * n * n * n
}
