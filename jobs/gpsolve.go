package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
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
		p.Nugget = gphm.NuggetRelative
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
		Description: "Solves 1-D/2-D Poisson, Allen–Cahn and 1-D advection with a Gaussian process whose " +
			"spectral-mixture kernel is learned on a Kronecker-structured grid (Fang et al., ICLR 2024); " +
			"problems from the paper's presets or from expressions (exact solution, or source and boundary).",
		Defaults: func() *GPParams { return &GPParams{gphm.DefaultConfig()} },
		Outputs:  []string{"u", "u_exact", "x", "y", "loss", "spectrum/<axis>/weights", "spectrum/<axis>/frequencies", "spectrum/<axis>/length_scales"},
		Metrics: map[string]string{
			"converged": fmt.Sprintf("bool: the optimiser stopped improving: L-BFGS found no step lowering the loss, "+
				"or loss_change is at most %g", gphm.ConvergedTol),
			"loss":                     "float64: final loss −L (the negative log joint probability, up to a constant)",
			"loss_change":              "float64: relative change of the loss over the last tenth of the iterations, |L_k − L_{k−w}| / max(|L_k|, 1); absent with fewer than two iterations",
			"iterations":               "int64: optimiser iterations run",
			"loss_every":               "int64: the loss dataset holds every loss_every-th iteration",
			"rel_l2":                   "float64: relative L2 error against the exact solution on 300 points per axis (only when the exact solution is known)",
			"rel_l2_grid":              "float64: the same on the grid nodes (only when the exact solution is known)",
			"path":                     "string: training path: exact-u+lbfgs, kron-cg+lbfgs or adam",
			"nugget":                   "string: nugget mode used: relative or absolute",
			"nugget_share":             "float64: ‖U − mean‖/‖U‖ on the grid, the part of the grid values the nugget accounts for",
			"active_components_<axis>": "int64: mixture components of that axis with weight above 1% of the total",
			"tau_boundary":             "float64: noise precision τ1 of the boundary term",
			"tau_residual":             "float64: noise precision τ2 of the residual term",
			"seconds":                  "float64: wall time of the solve, in seconds",
		},
		Timeout:     10 * time.Hour,
		MaxAttempts: 2,
		Run:         runGP,
		Memory:      (*GPParams).memory,
		MemoryParam: "/n",
	})
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
	}
	if !math.IsNaN(res.RelL2) {
		env.Metrics["rel_l2"] = res.RelL2
		env.Metrics["rel_l2_grid"] = res.RelL2Grid
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
	if !res.Converged {
		env.Warn("did not converge: the loss changed by %.3g (relative) over the last tenth of %d iterations, tol %g",
			res.LossChange, res.Iterations, gphm.ConvergedTol)
	}
	env.Metrics["loss_every"] = res.LossEvery
	env.Metrics["tau_boundary"] = res.Tau[0]
	env.Metrics["tau_residual"] = res.Tau[1]
	env.Metrics["seconds"] = res.Seconds
	return nil
}
