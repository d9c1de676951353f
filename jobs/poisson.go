package jobs

import (
	"context"
	"fmt"
	"time"

	"eddy/pde/poisson"
	"eddy/progress"
	"eddy/solvers/krylov"
	"eddy/storage"
)

// PoissonParams are the params of poisson.solve, which solves −Δu = f with
// homogeneous Dirichlet walls for a manufactured smooth u.
type PoissonParams struct {
	Dim     int     `json:"dim" enum:"2|3" doc:"spatial dimension: 2 solves on the unit square, 3 on the unit cube"`
	N       int     `json:"n" min:"2" max:"8192" doc:"cells per side of the unit square or cube; the cell side is h = 1/n and the grid has n^dim unknowns (at most 2^34), so the discretisation error falls as h²"`
	Tol     float64 `json:"tol" min:"1e-15" max:"0.5" doc:"stopping tolerance on the relative residual ‖b − A x‖/‖b‖ (dimensionless): the iterations stop once it is below tol"`
	MaxIter int     `json:"max_iter" min:"0" max:"10000000" doc:"limit on the number of iterations; 0 means 10·n. A solve that reaches it without meeting tol reports converged = false"`
	Method  string  `json:"method" enum:"cg|pcg-jacobi" doc:"Krylov solver: cg is conjugate gradients; pcg-jacobi is conjugate gradients preconditioned by the diagonal of the operator"`
}

// Validate checks that the grid can be built: n^dim cells at most.
func (p *PoissonParams) Validate(c *Checker) {
	if _, err := poisson.NewGrid(p.Dim, p.N); err != nil {
		c.Fail("/n", "%v", err)
	}
}

// maxIter is the iteration limit of the solve: MaxIter, or 10·n if it is 0.
func (p *PoissonParams) maxIter() int {
	if p.MaxIter == 0 {
		return 10 * p.N
	}
	return p.MaxIter
}

// memory is the peak memory of a solve: the grid vectors that
// poisson.MemoryEstimate counts (problem, solution, solver work) and the
// residual history that the solver reserves.
func (p *PoissonParams) memory(map[string]*storage.Upload) int64 {
	vectors, _ := poisson.MemoryEstimate(p.Dim, p.N)
	return vectors + krylov.HistoryBytes(p.maxIter())
}

func init() {
	Register(Spec[*PoissonParams]{
		Name:  "poisson.solve",
		Title: "Grid Poisson solve (manufactured solution)",
		Description: "Solves −Δu = f on the unit square or cube with homogeneous Dirichlet walls, " +
			"cell-centred 5/7-point finite volumes, for a manufactured smooth solution; reports the " +
			"iteration count, the residual and the discretisation error against the exact solution.",
		Defaults: func() *PoissonParams { return &PoissonParams{Dim: 2, N: 64, Tol: 1e-10, Method: "cg"} },
		Outputs:  []string{"solution", "rhs", "exact", "residual_history"},
		Metrics: map[string]string{
			"converged":     "bool: the relative residual reached tol within max_iter iterations",
			"equation":      "string: the equation solved, −Δu = f (note the sign: gp.solve's Poisson is u_xx = f)",
			"rel_residual":  "float64: final relative residual ‖b − A x‖/‖b‖, recomputed from x",
			"iterations":    "int64: iterations run",
			"error_l2":      "float64: relative L2 error of x against the manufactured exact solution",
			"h":             "float64: cell side 1/n",
			"solve_seconds": "float64: wall time of the solve, in seconds",
		},
		Timeout:     2 * time.Hour,
		MaxAttempts: 3,
		Run:         runPoisson,
		Memory:      (*PoissonParams).memory,
		MemoryParam: "/n",
	})
}

func runPoisson(ctx context.Context, p *PoissonParams, env *Env) error {
	g, err := poisson.NewGrid(p.Dim, p.N)
	if err != nil {
		return Permanent(err)
	}
	f, exact := poisson.Manufactured(g)
	lap := poisson.NewLaplacian(g)
	b := make([]float64, g.Len())
	lap.RHS(b, f)
	x := make([]float64, g.Len())
	opts := krylov.Options{Tol: p.Tol, MaxIter: p.maxIter()}
	start := time.Now()
	var res krylov.Result
	switch p.Method {
	case "pcg-jacobi":
		diag := make([]float64, g.Len())
		lap.Diagonal(diag)
		jac, err := krylov.NewJacobi(diag)
		if err != nil {
			return Permanent(err)
		}
		res, err = krylov.PCG(ctx, lap, jac, b, x, opts, env.Progress)
		if err != nil {
			return err
		}
	default:
		res, err = krylov.CG(ctx, lap, b, x, opts, env.Progress)
		if err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	errL2 := poisson.RelL2Error(x, exact)
	env.Progress.Report(progress.Update{Fraction: 1, Message: fmt.Sprintf("done in %d iterations", res.Iterations)})

	dims := "y,x"
	if p.Dim == 3 {
		dims = "z,y,x"
	}
	shape := g.Shape()
	for _, d := range []struct {
		name  string
		data  []float64
		units string
	}{{"solution", x, ""}, {"rhs", f, ""}, {"exact", exact, ""}} {
		if err := env.Out.WriteFloat64(d.name, d.data, shape, dims, d.units); err != nil {
			return err
		}
	}
	if err := env.Out.WriteFloat64("residual_history", res.History, []int{len(res.History)}, "iteration", "relative"); err != nil {
		return err
	}
	env.Metrics["equation"] = "−Δu = f"
	env.Metrics["iterations"] = res.Iterations
	env.Metrics["rel_residual"] = res.TrueRelResidual
	env.Metrics["converged"] = res.Converged
	if !res.Converged {
		env.Warn("did not converge: relative residual %.3g after %d iterations, tol %g", res.RelResidual, res.Iterations, p.Tol)
	}
	env.Metrics["error_l2"] = errL2
	env.Metrics["h"] = g.H()
	env.Metrics["solve_seconds"] = elapsed.Seconds()
	return nil
}
