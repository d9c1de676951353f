package jobs

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"eddy/hdf5io"
	"eddy/pde/poisson"
	"eddy/progress"
	"eddy/solvers/dcdm"
	"eddy/solvers/krylov"
	"eddy/storage"
)

// PoissonParams are the params of poisson.solve. Without a scene it solves
// −Δu = f with homogeneous Dirichlet walls for a manufactured smooth u; with a
// scene it solves the pressure Poisson system of a cell grid with fluid,
// solid and air cells (pde/poisson.System).
type PoissonParams struct {
	Dim           int      `json:"dim" enum:"2|3" doc:"spatial dimension: 2 solves on the unit square, 3 on the unit cube"`
	N             int      `json:"n" min:"2" max:"8192" doc:"cells per side of the unit square or cube; the cell side is h = 1/n and the grid has n^dim unknowns (at most 2^34), so the discretisation error falls as h²"`
	Tol           float64  `json:"tol" min:"1e-15" max:"0.5" doc:"stopping tolerance on the relative residual ‖b − A x‖/‖b‖ (dimensionless): the iterations stop once it is below tol"`
	MaxIter       int      `json:"max_iter" min:"0" max:"10000000" doc:"limit on the number of iterations; 0 means 10·n. A solve that reaches it without meeting tol reports converged = false"`
	Method        string   `json:"method" enum:"cg|pcg-jacobi|pcg-ic0|pcg-mic0|mg|dcdm" doc:"solver: cg is conjugate gradients; pcg-jacobi, pcg-ic0 and pcg-mic0 are conjugate gradients preconditioned by the diagonal, by the incomplete Cholesky factorisation with no fill, or by its modified form (dropped fill added to the diagonal, τ = 0.97); mg is conjugate gradients preconditioned by one multigrid V-cycle (Galerkin aggregation over 2^dim blocks, 3 Gauss–Seidel sweeps each way), whose iteration count barely grows with n; dcdm is the Deep Conjugate Direction Method (Kaneda et al. 2023) with the network of model: search directions f(r/‖r‖) A-orthogonalised against the last few (directions), exact line search, the residual recomputed each iteration"`
	Compare       []string `json:"compare,omitempty" enum:"cg|pcg-jacobi|pcg-ic0|pcg-mic0|mg|dcdm" doc:"methods to run one after the other on the same system instead of method; the result then holds residual_history/<method> and the metrics <method>.iterations, <method>.rel_residual and <method>.seconds"`
	Scene         string   `json:"scene,omitempty" enum:"box|open_top|smoke|sphere|plate|random|upload" doc:"cell scene of a pressure Poisson system (solid cells: zero-flux faces; air: p = 0): box, all fluid with open air around (pure Dirichlet); open_top, walls and an open top; smoke, open top with a ball of radius 0.18n at (0.5, 0.35)·n (3-D: (0.5, 0.5, 0.35)·n) and a plate 2 cells thick at height 0.65n; sphere and plate, one of the two; random, open top with 3–6 balls and 1–2 plates drawn from scene_seed; upload, the cell labels of the upload named by labels. Empty: the manufactured problem on the unit square or cube with Dirichlet walls"`
	SceneSeed     uint64   `json:"scene_seed" min:"0" max:"9007199254740991" doc:"seed of the obstacles of scene random"`
	RHS           string   `json:"rhs" enum:"manufactured|random|divergence|upload" doc:"right-hand side of a scene: manufactured, b = A x* for a known smooth x* (the error is reported); random, N(0, 1) on the fluid cells drawn from seed; divergence, the negated divergence of a smooth random velocity field drawn from seed; upload, the array rhs_dataset of the upload rhs_upload. On a closed fluid region (no air) b is projected to zero mean there and one cell is grounded. Without a scene only manufactured is allowed"`
	Seed          uint64   `json:"seed" min:"0" max:"9007199254740991" doc:"seed of the random and divergence right-hand sides"`
	Labels        string   `json:"labels,omitempty" ref:"upload" doc:"upload id of an HDF5 file holding the cell labels of scene upload: an array of any integer or float type, of shape n×n (2-D, y,x) or n×n×n (3-D, z,y,x), 0 fluid, 1 solid, 2 air; the domain is walled, so open boundaries are marked with air cells"`
	LabelsDataset string   `json:"labels_dataset" format:"eddy-dataset" doc:"name of the dataset of the labels upload"`
	RHSUpload     string   `json:"rhs_upload,omitempty" ref:"upload" doc:"upload id of an HDF5 file holding the right-hand side of rhs upload: a float64 array of the grid's shape (values on non-fluid cells are ignored)"`
	RHSDataset    string   `json:"rhs_dataset" format:"eddy-dataset" doc:"name of the dataset of the rhs_upload upload"`
	Directions    int      `json:"directions" min:"1" max:"1000" doc:"method dcdm: the number of previous search directions each new one is A-orthogonalised against. The authors keep 2; since the network is nonlinear, its directions are not conjugate by themselves, and keeping more makes the iteration count lower and far less erratic (2-D smoke at 128², trained at 32²: 96–164 iterations to 1e-4 with 2, 58–107 with 30, over training and right-hand-side seeds). Costs 2 grid vectors and 2 dot products per direction kept, small beside an inference"`
	Model         string   `json:"model,omitempty" ref:"job:dcdm.train" datasets:"loss:1" doc:"id of the dcdm.train job whose network method dcdm uses (a queued or running one is waited for); its dim must be this system's, and n a multiple of 2^levels of the network. The network applies unchanged to grids larger than it was trained on"`
}

// Validate checks that the grid can be built and that the scene, the
// right-hand side and the uploads agree.
func (p *PoissonParams) Validate(c *Checker) {
	if _, err := poisson.NewGrid(p.Dim, p.N); err != nil {
		c.Fail("/n", "%v", err)
	}
	if p.Scene == "" && p.RHS != "manufactured" {
		c.Fail("/rhs", "is %s; without a scene only the manufactured right-hand side exists", p.RHS)
	}
	if (p.Scene == "upload") != (p.Labels != "") {
		c.Fail("/labels", "is needed with scene upload, and only then")
	}
	if (p.RHS == "upload") != (p.RHSUpload != "") {
		c.Fail("/rhs_upload", "is needed with rhs upload, and only then")
	}
	dcdmUsed := slices.Contains(p.methods(), "dcdm")
	if dcdmUsed != (p.Model != "") {
		c.Fail("/model", "is needed with method dcdm (the id of a dcdm.train job), and only then")
	}
	if dcdmUsed && p.N%2 != 0 {
		c.Fail("/n", "is %d; method dcdm's network pools by 2 and needs an even n", p.N)
	}
	seen := map[string]bool{}
	for i, m := range p.Compare {
		if seen[m] {
			c.Fail(fmt.Sprintf("/compare/%d", i), "lists %s twice", m)
		}
		seen[m] = true
	}
}

// CheckUploads checks that a finished dcdm.train model has the system's
// dimension (the rank of its training labels), and that the labels of scene
// upload and the right-hand side of rhs upload are datasets with a value
// per cell of the grid.
func (p *PoissonParams) CheckUploads(c *Checker, uploads map[string]*storage.Upload) {
	if u := uploads["/model"]; u != nil {
		if d := findDataset(u, "labels"); d != nil && len(d.Shape) != p.Dim {
			c.Fail("/model", "job %s trained a %d-D network; this system is %d-D", p.Model, len(d.Shape), p.Dim)
		}
	}
	cells := gridCells(p.Dim, p.N)
	for _, in := range []struct{ path, id, dataset string }{
		{"/labels", p.Labels, p.LabelsDataset},
		{"/rhs_upload", p.RHSUpload, p.RHSDataset},
	} {
		u := uploads[in.path]
		if u == nil {
			continue
		}
		d := findDataset(u, in.dataset)
		switch {
		case d == nil:
			c.Fail(in.path, "upload %s has no dataset %q (it has %s)", in.id, in.dataset, datasetNames(u))
		case int64(shapeProduct(d.Shape)) != cells:
			c.Fail(in.path, "dataset %s has shape %v, %d values; the grid has %d cells (n = %d in %d-D)", in.dataset, d.Shape, shapeProduct(d.Shape), cells, p.N, p.Dim)
		}
	}
}

// methods returns the methods to run.
func (p *PoissonParams) methods() []string {
	if len(p.Compare) > 0 {
		return p.Compare
	}
	return []string{p.Method}
}

// maxIter is the iteration limit of the solve: MaxIter, or 10·n if it is 0.
func (p *PoissonParams) maxIter() int {
	if p.MaxIter == 0 {
		return 10 * p.N
	}
	return p.MaxIter
}

// methodVectors is the memory a method holds beyond the problem's own and
// PCG's work vectors, in grid-sized float64 vectors (8 bytes per cell):
// IC(0)/MIC(0) keep the assembled CSR matrix (8 + 12·(2d+1) bytes per
// cell) while they factorise, the factor (24 + 12d) and set-up temporaries
// (24 + 12d); multigrid keeps per level x, b, r and the inverse diagonal
// plus the aggregation map, and on coarse levels (1/(2^d − 1) of the fine
// size in all) also the stencil, d + 1 vectors and the flags.
func (p *PoissonParams) methodVectors(method string) float64 {
	dim := p.Dim
	d := float64(dim)
	switch method {
	case "pcg-ic0", "pcg-mic0":
		return (8 + 12*(2*d+1) + 2*(24+12*d)) / 8
	case "mg":
		return 4.5 + (4.625+d+1)/float64(int(1)<<dim-1)
	case "dcdm":
		// The network's layers keep their outputs, padded inputs and
		// activation derivatives: about 800 grid images at width 16;
		// DCDM keeps its directions with A p and 2 more vectors.
		return 800 + 2*float64(p.Directions) + 2
	}
	return 0
}

// memory is the peak memory of a solve: the grid vectors that
// poisson.MemoryEstimate counts (problem, solution, solver work), the
// assembled stencil when a scene or a method needs it (diagonal and dim
// couplings, flags and labels; a scene's set-up also holds the component
// map and the flood fill's stacks, 3 vectors at most), the largest method's
// own memory (methodVectors), the multigrid's dense coarsest factor (at
// most 512² entries) and the residual histories.
func (p *PoissonParams) memory(map[string]*storage.Upload) int64 {
	vectors, _ := poisson.MemoryEstimate(p.Dim, p.N)
	cells := vectors / 72
	extra := 0.0
	var coarsest int64
	for _, m := range p.methods() {
		extra = max(extra, p.methodVectors(m))
		if m == "mg" {
			coarsest = 8 * 512 * 512
		}
	}
	if p.Scene != "" {
		extra += float64(p.Dim) + 4.25
	} else if extra > 0 {
		extra += float64(p.Dim) + 1.25
	}
	return vectors + int64(extra*8*float64(cells)) + coarsest + int64(len(p.methods()))*krylov.HistoryBytes(p.maxIter())
}

func init() {
	Register(Spec[*PoissonParams]{
		Name:  "poisson.solve",
		Title: "Grid Poisson solve (manufactured solution or pressure system with obstacles)",
		Description: "Solves −Δu = f on the unit square or cube with homogeneous Dirichlet walls, " +
			"cell-centred 5/7-point finite volumes, for a manufactured smooth solution; or, with a scene, " +
			"the pressure Poisson system of a cell grid with fluid, solid (Neumann) and air (Dirichlet) cells. " +
			"Solvers: CG, PCG with Jacobi, IC(0), MIC(0) or multigrid, and DCDM with a network of dcdm.train; compare runs several on the same system. " +
			"Reports the iterations, the true relative residual and, for a manufactured solution, the error.",
		Defaults: func() *PoissonParams {
			return &PoissonParams{Dim: 2, N: 64, Tol: 1e-10, Method: "cg", RHS: "manufactured", LabelsDataset: "labels", RHSDataset: "rhs", Directions: 30}
		},
		Outputs: []string{"solution", "rhs", "exact", "labels", "residual_history"},
		Metrics: map[string]string{
			"converged":              "bool: the relative residual reached tol within max_iter iterations (every compared method)",
			"equation":               "string: the equation solved, −Δu = f (note the sign: gp.solve's Poisson is u_xx = f)",
			"rel_residual":           "float64: final relative residual ‖b − A x‖/‖b‖, recomputed from x",
			"iterations":             "int64: iterations run",
			"error_l2":               "float64: relative L2 error of x against the manufactured exact solution",
			"h":                      "float64: cell side 1/n",
			"solve_seconds":          "float64: wall time of the solve (set-up of the preconditioner included), in seconds",
			"setup_seconds":          "float64: wall time of the preconditioner's set-up, in seconds",
			"fluid_cells":            "int64: number of unknowns (fluid cells) of a scene",
			"grounded":               "int64: closed fluid regions (no air) grounded at one cell",
			"<method>.iterations":    "int64: with compare, iterations run by that method",
			"<method>.rel_residual":  "float64: with compare, the method's true final relative residual",
			"<method>.seconds":       "float64: with compare, the method's wall time, set-up included",
			"<method>.setup_seconds": "float64: with compare, the method's set-up time",
			"network_seconds":        "float64: method dcdm, wall time of the network's inferences (part of solve_seconds), in seconds",
			"dcdm.network_seconds":   "float64: with compare, the same for dcdm",
		},
		Timeout:     2 * time.Hour,
		MaxAttempts: 3,
		Run:         runPoisson,
		Memory:      (*PoissonParams).memory,
		MemoryParam: "/n",
	})
}

// poissonProblem is the system a poisson.solve job solves.
type poissonProblem struct {
	a      *poisson.Stencil // assembled operator (for IC and MG; also applied)
	op     krylov.Operator  // the operator CG applies
	b      []float64        // right-hand side
	f      []float64        // written as rhs
	exact  []float64        // nil if unknown
	labels []uint8          // nil without a scene
	model  *dcdm.Model      // the network of method dcdm; nil if unused
	dirs   int              // directions kept by dcdm
}

// buildPoisson sets up the problem of p.
func buildPoisson(p *PoissonParams, env *Env) (*poissonProblem, error) {
	if p.Scene == "" {
		g, err := poisson.NewGrid(p.Dim, p.N)
		if err != nil {
			return nil, Permanent(err)
		}
		f, exact := poisson.Manufactured(g)
		lap := poisson.NewLaplacian(g)
		b := make([]float64, g.Len())
		lap.RHS(b, f)
		pr := &poissonProblem{op: lap, b: b, f: f, exact: exact}
		for _, m := range p.methods() {
			if m == "pcg-ic0" || m == "pcg-mic0" || m == "mg" || m == "dcdm" {
				pr.a = lap.Stencil()
				break
			}
		}
		return pr, nil
	}
	var cells *poisson.Cells
	var err error
	if p.Scene == "upload" {
		labels, err := readUpload(env, p.Labels, p.LabelsDataset, readLabels)
		if err != nil {
			return nil, err
		}
		cells, err = poisson.CellsFromLabels(p.Dim, p.N, labels)
		if err != nil {
			return nil, Permanent(err)
		}
	} else {
		cells, err = poisson.Scene(p.Scene, p.Dim, p.N, p.SceneSeed)
		if err != nil {
			return nil, Permanent(err)
		}
		if p.Scene == "random" {
			env.UseSeed(p.SceneSeed)
		}
	}
	sys := poisson.NewSystem(cells)
	if sys.Singular() {
		env.Warn("%d closed fluid region(s) touch no air: the right-hand side was projected to zero mean on each and one cell of each grounded (p = 0)", len(sys.Grounded))
	}
	env.Metrics["fluid_cells"] = int64(cells.Count(poisson.Fluid) - len(sys.Grounded))
	env.Metrics["grounded"] = int64(len(sys.Grounded))
	pr := &poissonProblem{a: sys.A, op: sys.A}
	switch p.RHS {
	case "manufactured":
		pr.b, pr.exact = sys.ManufacturedRHS()
	case "random":
		env.UseSeed(p.Seed)
		pr.b = sys.RandomRHS(p.Seed)
	case "divergence":
		env.UseSeed(p.Seed)
		pr.b = sys.DivergenceRHS(p.Seed)
	case "upload":
		b, err := readUpload(env, p.RHSUpload, p.RHSDataset, func(f *hdf5io.File, name string) ([]float64, []int, error) { return f.ReadFloat64(name) })
		if err != nil {
			return nil, err
		}
		if len(b) != sys.Len() {
			return nil, Permanent(fmt.Errorf("rhs_upload: %d values for a grid of %d cells", len(b), sys.Len()))
		}
		for i, v := range b {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, Permanent(fmt.Errorf("rhs_upload: the value at cell %d is %v; want finite values", i, v))
			}
		}
		sys.Project(b)
		pr.b = b
	}
	pr.f = pr.b
	pr.labels = make([]uint8, len(cells.Label))
	for i, l := range cells.Label {
		pr.labels[i] = uint8(l)
	}
	return pr, nil
}

// readLabels reads a scene's cell labels: uint8 as stored, any other numeric
// dtype (NumPy's default integers are int64) through float64, each value
// then 0, 1 or 2.
func readLabels(f *hdf5io.File, name string) ([]uint8, []int, error) {
	if labels, shape, err := f.ReadUint8(name); err == nil {
		return labels, shape, nil
	}
	values, shape, err := f.ReadFloat64(name)
	if err != nil {
		return nil, nil, err
	}
	labels := make([]uint8, len(values))
	for i, v := range values {
		if v != 0 && v != 1 && v != 2 {
			return nil, nil, fmt.Errorf("value %v at cell %d, want 0 (fluid), 1 (solid) or 2 (air)", v, i)
		}
		labels[i] = uint8(v)
	}
	return labels, shape, nil
}

// readUpload reads the dataset name of the upload id with read.
func readUpload[T any](env *Env, id, name string, read func(*hdf5io.File, string) ([]T, []int, error)) ([]T, error) {
	path, err := env.Resolve(id)
	if err != nil {
		return nil, err
	}
	f, err := hdf5io.Open(path)
	if err != nil {
		return nil, Permanent(fmt.Errorf("upload %s: %w", id, err))
	}
	defer f.Close()
	v, _, err := read(f, name)
	if err != nil {
		return nil, Permanent(fmt.Errorf("upload %s: dataset %s: %w", id, name, err))
	}
	return v, nil
}

// loadDCDMModel reads the network of p.Model and checks it against the
// system.
func loadDCDMModel(p *PoissonParams, env *Env) (*dcdm.Model, error) {
	path, err := env.Resolve(p.Model)
	if err != nil {
		return nil, err
	}
	m, rec, err := readDCDMModel(path)
	if err != nil {
		return nil, err
	}
	if m.Config.Dim != p.Dim {
		return nil, Permanent(fmt.Errorf("model: job %s trained a %d-D network; this system is %d-D", p.Model, m.Config.Dim, p.Dim))
	}
	if p.N%m.Multiple() != 0 {
		return nil, Permanent(fmt.Errorf("model: the network of job %s pools %d time(s) by 2 and needs n divisible by %d; n is %d", p.Model, m.Config.Levels, m.Multiple(), p.N))
	}
	env.Stage("DCDM network trained on %s at %d^%d, applied at %d^%d", rec.Scene, rec.N, rec.Dim, p.N, p.Dim)
	return m, nil
}

// solvePoisson runs one method from x = 0 and returns the result, the
// set-up time and, for dcdm, the time spent in the network.
func solvePoisson(ctx context.Context, pr *poissonProblem, method string, x []float64, opts krylov.Options, fn progress.Func) (krylov.Result, time.Duration, float64, error) {
	start := time.Now()
	var pre krylov.Preconditioner
	switch method {
	case "dcdm":
		clear(x)
		res, err := dcdm.Solve(ctx, pr.model, pr.a, pr.b, x, dcdm.Options{Options: opts, Directions: pr.dirs}, fn)
		return res.Result, 0, res.NetworkSeconds, err
	case "pcg-jacobi":
		diag := make([]float64, len(x))
		if lap, ok := pr.op.(*poisson.Laplacian); ok {
			lap.Diagonal(diag)
		} else {
			copy(diag, pr.a.Diag)
		}
		jac, err := krylov.NewJacobi(diag)
		if err != nil {
			return krylov.Result{}, 0, 0, Permanent(err)
		}
		pre = jac
	case "pcg-ic0", "pcg-mic0":
		rp, col, val := pr.a.CSR()
		csr, err := krylov.NewCSR(len(x), rp, col, val)
		if err != nil {
			return krylov.Result{}, 0, 0, err
		}
		ic, err := krylov.NewIC(csr, krylov.ICOptions{Modified: method == "pcg-mic0"})
		if err != nil {
			return krylov.Result{}, 0, 0, Permanent(err)
		}
		pre = ic
	case "mg":
		mg, err := krylov.NewMG(pr.a, krylov.MGOptions{})
		if err != nil {
			return krylov.Result{}, 0, 0, Permanent(err)
		}
		pre = mg
	}
	setup := time.Since(start)
	clear(x)
	res, err := krylov.PCG(ctx, pr.op, pre, pr.b, x, opts, fn)
	return res, setup, 0, err
}

func runPoisson(ctx context.Context, p *PoissonParams, env *Env) error {
	pr, err := buildPoisson(p, env)
	if err != nil {
		return err
	}
	if slices.Contains(p.methods(), "dcdm") {
		pr.dirs = p.Directions
		if pr.model, err = loadDCDMModel(p, env); err != nil {
			return err
		}
	}
	n := len(pr.b)
	x := make([]float64, n)
	opts := krylov.Options{Tol: p.Tol, MaxIter: p.maxIter()}
	methods := p.methods()
	g, _ := poisson.NewGrid(p.Dim, p.N)
	dims := "y,x"
	if p.Dim == 3 {
		dims = "z,y,x"
	}
	shape := g.Shape()
	converged := true
	var last krylov.Result
	var elapsed, setup time.Duration
	for i, m := range methods {
		env.Stage("solving with %s", m)
		fn := env.Progress
		if len(methods) > 1 && fn != nil {
			base, span := float64(i)/float64(len(methods)), 1/float64(len(methods))
			fn = func(u progress.Update) {
				u.Fraction = base + span*u.Fraction
				env.Progress.Report(u)
			}
		}
		start := time.Now()
		res, su, netSecs, err := solvePoisson(ctx, pr, m, x, opts, fn)
		if err != nil {
			return fmt.Errorf("%s: %w", m, err)
		}
		elapsed, setup, last = time.Since(start), su, res
		converged = converged && res.Converged
		if !res.Converged {
			hint := ""
			if m == "dcdm" {
				hint = "; the model's directions are too weak for this system (train at a larger grid, with more lanczos_steps, or use mg)"
			}
			env.Warn("%s did not converge: relative residual %.3g after %d iterations, tol %g%s", m, res.RelResidual, res.Iterations, p.Tol, hint)
		}
		if len(methods) > 1 {
			if err := env.Out.WriteFloat64("residual_history/"+m, res.History, []int{len(res.History)}, "iteration", "relative"); err != nil {
				return err
			}
			env.Metrics[m+".iterations"] = res.Iterations
			env.Metrics[m+".rel_residual"] = res.TrueRelResidual
			env.Metrics[m+".seconds"] = elapsed.Seconds()
			env.Metrics[m+".setup_seconds"] = su.Seconds()
			if m == "dcdm" {
				env.Metrics["dcdm.network_seconds"] = netSecs
			}
		} else if m == "dcdm" {
			env.Metrics["network_seconds"] = netSecs
		}
	}
	done := fmt.Sprintf("done in %d iterations", last.Iterations)
	switch {
	case !converged && len(methods) > 1:
		done = fmt.Sprintf("not every method reached tol %g (see the warnings)", p.Tol)
	case !converged:
		done = fmt.Sprintf("stopped after %d iterations without reaching tol %g", last.Iterations, p.Tol)
	}
	env.Progress.Report(progress.Update{Fraction: 1, Message: done})

	out := []struct {
		name string
		data []float64
	}{{"solution", x}, {"rhs", pr.f}}
	if pr.exact != nil {
		out = append(out, struct {
			name string
			data []float64
		}{"exact", pr.exact})
	}
	for _, d := range out {
		if err := env.Out.WriteFloat64(d.name, d.data, shape, dims, ""); err != nil {
			return err
		}
	}
	if pr.labels != nil {
		if err := env.Out.WriteUint8("labels", pr.labels, shape, dims, ""); err != nil {
			return err
		}
	}
	if len(methods) == 1 {
		if err := env.Out.WriteFloat64("residual_history", last.History, []int{len(last.History)}, "iteration", "relative"); err != nil {
			return err
		}
		env.Metrics["iterations"] = last.Iterations
		env.Metrics["rel_residual"] = last.TrueRelResidual
		env.Metrics["solve_seconds"] = elapsed.Seconds()
		env.Metrics["setup_seconds"] = setup.Seconds()
	}
	env.Metrics["equation"] = "−Δu = f"
	env.Metrics["converged"] = converged
	if pr.exact != nil {
		env.Metrics["error_l2"] = poisson.RelL2Error(x, pr.exact)
	}
	env.Metrics["h"] = g.H()
	return nil
}
