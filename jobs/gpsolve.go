package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"eddy/solvers/gphm"
	"eddy/storage"
)

// GPParams are the params of gp.solve: the solver's Config, whose json names are
// the API. A preset supplies the defaults of every field it fixes.
type GPParams struct {
	gphm.Config
}

// UnmarshalJSON starts from the named preset's configuration (or, for a problem
// given by expressions, from the defaults without a preset), then applies the
// given fields, refusing unknown ones.
func (p *GPParams) UnmarshalJSON(b []byte) error {
	var peek struct {
		Preset   string `json:"preset"`
		Exact    string `json:"exact"`
		Source   string `json:"source"`
		Boundary string `json:"boundary"`
	}
	_ = json.Unmarshal(b, &peek) // type errors are reported by the decode below
	switch {
	case peek.Preset != "":
		if c, err := gphm.PresetConfig(peek.Preset); err == nil {
			p.Config = c
		}
	case peek.Exact != "" || peek.Source != "" || peek.Boundary != "":
		p.Config.Preset = ""
	}
	type plain gphm.Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode((*plain)(&p.Config)); err != nil {
		return err
	}
	// Values that mean "the default" are spelled out, so that the normalised
	// params decode to themselves.
	if pr, ok := gphm.LookupPreset(p.Preset); ok && p.PDE == "" {
		p.PDE = pr.PDE.String()
	}
	if p.Nugget == "" {
		p.Nugget = gphm.NuggetAuto
	}
	if p.Trend == "" {
		p.Trend = gphm.TrendAuto
	}
	return nil
}

// Validate checks the parameters against each other, expressions included.
func (p *GPParams) Validate(c *Checker) {
	c.Add(p.Config.Validate())
}

// CheckData refuses, at submit, expressions that are not finite on the grid
// (gphm.Config.CheckData).
func (p *GPParams) CheckData(ctx context.Context, c *Checker) {
	c.Add(p.Config.CheckData(ctx))
}

// memory is the peak memory of a solve as gphm.Config.Estimate counts it.
func (p *GPParams) memory(map[string]*storage.Upload) int64 {
	bytes, _ := p.Config.Estimate()
	return bytes
}

func init() {
	Register(Spec[*GPParams]{
		Name:  "gp.solve",
		Title: "GP-HM: Gaussian-process solver for high-frequency and multi-scale PDEs",
		Description: "Solves, with the sign convention of Fang et al. (ICLR 2024), u_xx = f (1-D Poisson), " +
			"u_xx + u_yy = f (2-D Poisson), Δu + u³ − u = f (Allen–Cahn, 1-D and 2-D) or β u_x + u_t = f " +
			"(advection), with Dirichlet data on the whole boundary — note u_xx = f, not poisson.solve's " +
			"−Δu = f — by a Gaussian process whose spectral-mixture kernel is learned on a Kronecker-structured " +
			"grid, plus a polynomial trend; problems from the paper's presets or from expressions (exact " +
			"solution, or source and boundary).",
		Defaults: func() *GPParams { return &GPParams{gphm.DefaultConfig()} },
		Outputs:  []string{"u", "u_exact", "x", "y", "loss", "spectrum/<axis>/weights", "spectrum/<axis>/frequencies", "spectrum/<axis>/length_scales"},
		Metrics: map[string]string{
			"converged": fmt.Sprintf("bool: the run stopped for a reason other than its iteration budget (stop_reason) "+
				"and check_residual is at most %g and, when the exact solution is known, the solution is not another solution of the equation (other_solution)", gphm.ResidualTol),
			"other_solution":           "bool: the exact solution is known and the returned one satisfies the equation but differs from it (a different solution of the same data, e.g. Allen–Cahn on a long interval); then converged is false",
			"unstable_modes":           "int64: Allen–Cahn only: non-negative eigenvalues of the linearised equation at the solution; 0 means the solution is isolated and no other is near, > 0 that the data may admit other solutions, −1 undetermined (2-D)",
			"equation":                 "string: the equation solved, in the sign convention of the source (e.g. u_xx = f)",
			"check_residual":           "float64: an estimate of the solution's relative error that needs no exact solution: the PDE residual of the solution at the midpoints between the grid nodes, turned into the error it accounts for (the equation's principal part solved with zero boundary values: the Laplacian for Poisson and Allen–Cahn, transport along the characteristics for advection), relative to the solution, plus the relative misfit of the boundary values; it drives the stop rule and the choice of trend and nugget",
			"stop_reason":              "string: why training stopped: tolerance (the check residual reached the requested tol), stationary (no step lowers the loss), loss_noisy (a line search failed, in 2-D twice, while the check residual did not improve: the loss is at its rounding noise; the iterate of least check residual is returned), loss_flat, residual_rising (the check residual rose; the iterate of least check residual is returned), residual_flat (the budget ran out after the check residual had settled) or budget",
			"nugget_reason":            "string: why the trend and nugget were chosen (the check residuals of the variants tried; a variant stopped early, because one started beside it ended more than ten times under it, says so)",
			"kernel":                   "string: kernel of the returned run (the requested one, or the other spectral mixture after a restart)",
			"restarts":                 "int64: restarts with the other spectral-mixture kernel after a stall, or when its runs beside the requested kernel's outran it (0 or 1)",
			"trend":                    "string: trend mode: polynomial or none",
			"trend_held_from":          fmt.Sprintf("int64: with the polynomial trend, the iteration from which the trend's coefficients were held fixed while the kernels were learned (solved jointly with the grid values before it, and again in the last solve): 0 in 1-D, where they are held from the start; in 2-D, for Poisson and advection, the iteration after %d linear solves in a row ran to the conjugate-gradient cap (a flat trade-off between the trend and the GP, as for advection's polynomials of x − βt), or −1 when they stayed free", gphm.CappedFix),
			"cg_iterations":            "int64: conjugate-gradient iterations of the Kronecker-CG path in the returned run, those of cut solves included (2-D only); the cg_ metrics below are that run's too",
			"cg_iterations_all":        "int64: conjugate-gradient iterations of every run the solve made: the returned one, the other trend and nugget variants and, after a restart, the other kernel's runs (2-D only)",
			"cg_solves":                "int64: linear solves of the Kronecker-CG path run to their tolerance (2-D only)",
			"cg_per_solve":             "float64: conjugate-gradient iterations per linear solve, cg_iterations / cg_solves (2-D only)",
			"cg_cut_solves":            "int64: solves at trial points of the line search stopped once the objective there was estimated to end above what the search accepts (linear PDEs, with the tail solve; 2-D only)",
			"cg_harmonic_solves":       "int64: linear solves preconditioned by the harmonic (exact Kronecker eigendecomposition + boundary Woodbury) preconditioner; the others used the Kronecker-sum one (2-D only)",
			"cg_tail_solves":           "int64: of the harmonic ones, the solves with its second level, an exact solve on the modes the kernel leaves to the prior (grids finer than the kernel's spectrum; 2-D only)",
			"cg_dense_solves":          fmt.Sprintf("int64: linear solves preconditioned by the Newton matrix itself, formed and factored (grids of at most %d nodes, for evaluations where the other preconditioners cost more than forming it; 2-D only)", gphm.DenseNodes),
			"loss":                     "float64: final loss −L (the negative log joint probability, up to a constant), of the data divided by data_scale",
			"loss_change":              "float64: relative change of the loss over the last tenth of the iterations, |L_k − L_{k−w}| / max(|L_k|, 1); absent with fewer than two iterations",
			"iterations":               "int64: optimiser iterations run",
			"loss_every":               "int64: the loss dataset holds every loss_every-th iteration",
			"rel_l2":                   "float64: relative L2 error against the exact solution on 300 points per axis (only when the exact solution is known)",
			"rel_l2_grid":              "float64: the same on the grid nodes (only when the exact solution is known)",
			"path":                     "string: training path: exact-u+lbfgs or kron-cg+lbfgs",
			"nugget":                   "string: nugget mode used: relative, absolute or relative10 (auto resolves to one of them)",
			"nugget_share":             "float64: ‖U − mean‖/‖U‖ on the grid, the part of the grid values the nugget accounts for",
			"active_components_<axis>": "int64: mixture components of that axis with weight above 1% of the total",
			"freq_scale_<axis>":        "float64: frequency scale F of that axis, in cycles per unit length: the requested freq_scale, the preset's, or (freq_scale 0) 1.25 times data_frequency_<axis> held between 0.5 and 0.75 of the grid's Nyquist frequency",
			"data_frequency_<axis>":    "float64: the largest frequency the source and boundary values show along that axis, in cycles per unit length (second over first differences on the grid; 0 for data without variation along it)",
			"data_scale":               "float64: the power of two the source, boundary values and exact solution were divided by for the solve, when the solution's size estimated from them is under 1/8 (1 otherwise): the method's fixed precisions and nugget are set for data of size about 1, and much smaller data fit the PDE loosely (Allen–Cahn's u³ then carries the factor squared: Δv + s²v³ − v = f/s); u, the trend, weights and precisions are reported for the data as given, the loss for the data divided",
			"coord_scale_<axis>":       "float64: the power of two the coordinates along that axis were multiplied by for the solve (on an axis shorter than about 0.18 or longer than about 90: one factor for both axes of Poisson and Allen–Cahn, from the longer, for Allen–Cahn only on short axes; the source follows, and advection's beta and Allen–Cahn's u³ − u): the method's fixed precisions weigh the source against the boundary values at the sizes of the paper's domains; u, x, y, frequencies and length scales are reported in the coordinates as given, the loss for the problem solved (1 when not multiplied)",
			"tau_boundary":             "float64: noise precision τ1 of the boundary term",
			"tau_residual":             "float64: noise precision τ2 of the residual term",
			"tau_reason":               fmt.Sprintf("string: 2-D Poisson under the automatic nugget: why the precisions were chosen. Each trend and nugget variant runs at log τ %d, and again at log τ %d when it does not converge to a check residual of %g; the path of lesser check residual is kept, one that converged unless the other's is under half of its (nugget_reason shows this for every variant tried)", gphm.TightLogTau, gphm.ExactLogTau, gphm.SwitchResidual2D),
			"seconds":                  "float64: wall time of the solve, in seconds",
		},
		Timeout:     10 * time.Hour,
		MaxAttempts: 2,
		Run:         runGP,
		Memory:      (*GPParams).memory,
		MemoryParam: "/n",
	})
}

// equations states each PDE of gp.solve in the paper's sign convention.
var equations = map[string]string{
	"poisson1d":    "u_xx = f",
	"poisson2d":    "u_xx + u_yy = f",
	"allen_cahn1d": "u_xx + u^3 - u = f",
	"allen_cahn2d": "u_xx + u_yy + u^3 - u = f",
	"advection":    "beta u_x + u_t = f",
}

func runGP(ctx context.Context, p *GPParams, env *Env) error {
	res, err := gphm.Solve(ctx, p.Config, env.Progress)
	if err != nil {
		return err
	}
	axes := []string{"x"}
	shape := []int{len(res.X)}
	if res.Y != nil {
		second := "y"
		if p.Config.PDE == "advection" {
			second = "t"
		}
		axes = append(axes, second)
		shape = append(shape, len(res.Y))
	}
	dims := axes[0]
	if len(axes) == 2 {
		dims += "," + axes[1]
	}
	w := env.Out
	if err := w.WriteFloat64("u", res.U, shape, dims, ""); err != nil {
		return err
	}
	if res.UExact != nil {
		if err := w.WriteFloat64("u_exact", res.UExact, shape, dims, ""); err != nil {
			return err
		}
	}
	if err := w.WriteFloat64("x", res.X, []int{len(res.X)}, "x", ""); err != nil {
		return err
	}
	if res.Y != nil {
		if err := w.WriteFloat64("y", res.Y, []int{len(res.Y)}, axes[1], ""); err != nil {
			return err
		}
	}
	if err := w.WriteFloat64("loss", res.Loss, []int{len(res.Loss)}, "iteration", ""); err != nil {
		return err
	}
	for i, sp := range res.Spectra {
		g := "/spectrum/" + axes[i]
		q := []int{len(sp.Weights)}
		for _, d := range []struct {
			name  string
			data  []float64
			units string
		}{{"weights", sp.Weights, ""}, {"frequencies", sp.Frequencies, "cycles per unit length"}, {"length_scales", sp.LengthScales, "length"}} {
			if err := w.WriteFloat64(g+"/"+d.name, d.data, q, "component", d.units); err != nil {
				return err
			}
		}
		env.Metrics["active_components_"+axes[i]] = sp.Active
		env.Metrics["freq_scale_"+axes[i]] = sp.FreqScale
		env.Metrics["data_frequency_"+axes[i]] = sp.DataFrequency
		env.Metrics["coord_scale_"+axes[i]] = res.CoordScale[i]
	}
	if !math.IsNaN(res.RelL2) {
		env.Metrics["rel_l2"] = res.RelL2
		env.Metrics["rel_l2_grid"] = res.RelL2Grid
	}
	eq := equations[p.Config.PDE]
	if pr, ok := gphm.LookupPreset(p.Preset); ok {
		eq = equations[pr.PDE.String()]
	}
	env.Metrics["equation"] = eq
	if err := w.SetAttrString("/", "equation", eq); err != nil {
		return err
	}
	env.Metrics["check_residual"] = res.CheckResidual
	env.Metrics["stop_reason"] = res.StopReason
	env.Metrics["nugget_reason"] = res.NuggetReason
	env.Metrics["kernel"] = res.Kernel
	env.Metrics["restarts"] = res.Restarts
	env.Metrics["other_solution"] = res.OtherSolution
	if strings.Contains(eq, "u^3") { // Allen–Cahn
		env.Metrics["unstable_modes"] = res.UnstableModes
	}
	env.Metrics["trend"] = res.Trend
	if res.Trend == gphm.TrendPolynomial {
		env.Metrics["trend_held_from"] = res.TrendHeldFrom
	}
	if res.CGSolves > 0 {
		env.Metrics["cg_iterations"] = res.CGIterations
		env.Metrics["cg_iterations_all"] = res.CGIterationsAll
		env.Metrics["cg_solves"] = res.CGSolves
		env.Metrics["cg_per_solve"] = float64(res.CGIterations) / float64(res.CGSolves)
		env.Metrics["cg_harmonic_solves"] = res.CGHarmonicSolves
		env.Metrics["cg_tail_solves"] = res.CGTailSolves
		env.Metrics["cg_dense_solves"] = res.CGDenseSolves
		env.Metrics["cg_cut_solves"] = res.CGCutSolves
	}
	for _, msg := range res.Warnings {
		env.Warn("%s", msg)
	}
	if c := res.Coarse; c != nil {
		env.Metrics["coarse_n"] = c.N
		env.Metrics["coarse_iterations"] = c.Iterations
		env.Metrics["coarse_check_residual"] = c.CheckResidual
		env.Metrics["coarse_seconds"] = c.Seconds
		env.Metrics["coarse_used"] = c.Used
	}
	env.Metrics["path"] = res.Path
	env.Metrics["nugget"] = res.Nugget
	env.Metrics["nugget_share"] = res.NuggetShare
	env.Metrics["iterations"] = res.Iterations
	env.Metrics["converged"] = res.Converged
	env.Metrics["loss"] = res.FinalLoss
	if !math.IsNaN(res.LossChange) {
		env.Metrics["loss_change"] = res.LossChange
	}
	if !res.Converged && len(res.Warnings) == 0 {
		env.Warn("did not converge: stopped (%s) with check residual %.3g", res.StopReason, res.CheckResidual)
	}
	env.Metrics["loss_every"] = res.LossEvery
	env.Metrics["data_scale"] = res.DataScale
	env.Metrics["tau_boundary"] = res.Tau[0]
	env.Metrics["tau_residual"] = res.Tau[1]
	if res.TauReason != "" {
		env.Metrics["tau_reason"] = res.TauReason
	}
	env.Metrics["seconds"] = res.Seconds
	return nil
}
