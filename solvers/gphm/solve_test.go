package gphm

import (
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"eddy/field"
)

func solve(t *testing.T, c Config) *Result {
	t.Helper()
	res, err := Solve(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s n=%d: path %s, %d iterations, rel_l2 %.3e (grid %.3e), check residual %.1e, %.1f s, active %d, nugget share %.1e, kernel %s (%d restarts)",
		c.Preset+c.Exact, c.Kernel, c.N, res.Path, res.Iterations, res.RelL2, res.RelL2Grid, res.CheckResidual, res.Seconds, res.Spectra[0].Active, res.NuggetShare, res.Kernel, res.Restarts)
	return res
}

// presetGrid returns preset name's configuration on an n×n (or n) grid.
func presetGrid(tb testing.TB, name string, n int) Config {
	tb.Helper()
	c, err := PresetConfig(name)
	if err != nil {
		tb.Fatal(err)
	}
	c.N = n
	return c
}

func presetConfig(t *testing.T, name, kernel string, iterations int) Config {
	t.Helper()
	c, err := PresetConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	c.Kernel = kernel
	c.Iterations = iterations
	return c
}

// TestPoissonSin100 is acceptance case P1 of the issue: u = sin(100x) on
// [0, 2π], N = 400. The paper's logged errors are 4.0e-7 (GM) and 6.5e-7 (StM)
// after 1e5 Adam steps; the issue asks for ≤ 1e-5 with GM and StM and for GP-SE
// at the same budget to be at least 100× worse (the paper logs 2.7e-2 for SE).
func TestPoissonSin100(t *testing.T) {
	gm := solve(t, presetConfig(t, "p1", "gm", 100))
	if gm.RelL2 > 1e-5 {
		t.Errorf("GP-HM-GM rel_l2 = %.3e, want ≤ 1e-5", gm.RelL2)
	}
	se := solve(t, presetConfig(t, "p1", "se", 100))
	if !(se.RelL2 >= 100*gm.RelL2) {
		t.Errorf("GP-SE rel_l2 = %.3e, want ≥ 100 × GM's %.3e", se.RelL2, gm.RelL2)
	}
	if gm.Path != PathExactU {
		t.Errorf("path %q, want %q", gm.Path, PathExactU)
	}
}

// TestPoissonSin100StM is the StM half of acceptance case P1. The StM kernel
// reaches the target only once one component has become a nearly pure cosine
// (a long Matérn envelope), which L-BFGS reaches after a few hundred
// iterations along a curved valley: the error was 1.1e-4 after 40, 1.8e-5
// after 300 and 5.5e-14 when L-BFGS stopped on its own after 571.
func TestPoissonSin100StM(t *testing.T) {
	r := solve(t, presetConfig(t, "p1", "stm", 600))
	if r.RelL2 > 1e-5 {
		t.Errorf("GP-HM-StM rel_l2 = %.3e, want ≤ 1e-5", r.RelL2)
	}
}

// TestNuggetModes runs a solution with a polynomial part, u = sin(3x) + x²
// on [0, 2] (N = 60, Q = 8, F = 2, 20 iterations), with every nugget mode and
// with and without the trend, and asserts the accuracy of each against the
// 1-D target of 1e-5. Measured: 1.5e-8 (relative) and 8e-9 (absolute) with
// the trend, the default; 2.7e-7 and 3e-8 without it. Before the boundary
// term compared the posterior mean (not the latent grid values) with the
// data, the relative nugget without trend stalled at 2.5e-2: the nugget's
// share of the grid values, invisible at the nodes, sat at the ends.
func TestNuggetModes(t *testing.T) {
	base := Config{PDE: "poisson1d", Exact: "sin(3*x) + x^2", XMax: 2, N: 60, Kernel: "gm", Components: 8,
		FreqScale: 2, Iterations: 20, LambdaB: 200}
	for _, tc := range []struct {
		nugget, trend, want string
		tol                 float64
	}{
		{NuggetRelative, TrendPolynomial, NuggetRelative, 1e-5},
		{NuggetAbsolute, TrendPolynomial, NuggetAbsolute, 1e-5},
		{NuggetAuto, TrendPolynomial, NuggetRelative, 1e-5},
		{NuggetRelative, TrendNone, NuggetRelative, 1e-5},
		{NuggetAbsolute, TrendNone, NuggetAbsolute, 1e-5},
		{NuggetAuto, TrendNone, NuggetRelative, 1e-5},
	} {
		c := base
		c.Nugget, c.Trend = tc.nugget, tc.trend
		r := solve(t, c)
		if r.Nugget != tc.want {
			t.Errorf("%s/%s: nugget %q (%s), want %q", tc.nugget, tc.trend, r.Nugget, r.NuggetReason, tc.want)
		}
		if !(r.RelL2 <= tc.tol) {
			t.Errorf("%s/%s: rel_l2 %.3e, want ≤ %g", tc.nugget, tc.trend, r.RelL2, tc.tol)
		}
	}
}

// TestPoissonMultiScale is acceptance case P3: u = sin(6x)cos(100x) on [0, 2π],
// N = 400, target ≤ 1e-4 (paper: 1.5e-6 GM, 5.5e-6 StM).
func TestPoissonMultiScale(t *testing.T) {
	r := solve(t, presetConfig(t, "p3", "gm", 40))
	if r.RelL2 > 1e-4 {
		t.Errorf("rel_l2 = %.3e, want ≤ 1e-4", r.RelL2)
	}
}

// TestPoissonP4 is preset p4, u = x sin(200x) on [0, 2π] with N = 900, run as
// a user asking for StM gets it: StM stalls, GM takes over, and its variants
// end with ten times the relative nugget (NuggetRelative10), whose check
// residual is the least. Target: the authors' best, 9e-7 (StM; GM 1.6e-6);
// measured 3.7e-7, against 1.65e-6 with the relative nugget, the best of the
// variants before it.
func TestPoissonP4(t *testing.T) {
	r := solve(t, presetConfig(t, "p4", "stm", 300))
	t.Logf("rel_l2 %.3g, check residual %.3g, kernel %s, %s", r.RelL2, r.CheckResidual, r.Kernel, r.NuggetReason)
	if r.RelL2 > 9e-7 {
		t.Errorf("rel_l2 = %.3e, want ≤ 9e-7", r.RelL2)
	}
	if r.Nugget != NuggetRelative10 {
		t.Errorf("nugget %s, want %s", r.Nugget, NuggetRelative10)
	}
}

// TestIssueAcceptance1D holds the 1-D rows of the second pass's acceptance
// at the benchmark's budgets: p3 with GM, final iterate ≤ 5e-6 (measured
// 1.0e-7), and ac1 asked with StM, ≤ 1e-5 (StM's run gives way to GM's, a
// restart: 6.6e-7). Both must also be reported converged. p4 is
// TestPoissonP4.
func TestIssueAcceptance1D(t *testing.T) {
	for _, tc := range []struct {
		preset, kernel string
		iterations     int
		tol            float64
	}{{"p3", "gm", 300, 5e-6}, {"ac1", "stm", 800, 1e-5}} {
		r := solve(t, presetConfig(t, tc.preset, tc.kernel, tc.iterations))
		if !(r.RelL2 <= tc.tol) || !r.Converged {
			t.Errorf("%s/%s: rel_l2 %.3e (converged %v), want ≤ %g", tc.preset, tc.kernel, r.RelL2, r.Converged, tc.tol)
		}
	}
}

// TestAllenCahnSin100 is acceptance case AC1: u_xx + u(u² − 1) = f with
// u = sin(100x) on [0, 2π], N = 400, target ≤ 1e-4 (paper: 7.7e-7 GM).
func TestAllenCahnSin100(t *testing.T) {
	r := solve(t, presetConfig(t, "ac1", "gm", 30))
	if r.RelL2 > 1e-4 {
		t.Errorf("rel_l2 = %.3e, want ≤ 1e-4", r.RelL2)
	}
}

// TestPoisson2D is acceptance case T1d of the spec and the issue's 2-D case:
// u = sin(20x) sin(20y) on [0, 1]², 48² nodes, F = 8, target ≤ 1e-3 on the
// paper's metric (300×300 points, boundary included). The mean between the
// nodes must be as accurate as on them: errors of the grid values along
// eigenvectors of K near the jitter are invisible at the nodes but amplified
// between them, which is what a solve in U with K⁻¹ formed explicitly produced
// (3e-3 off the grid against 3e-5 on it). The long run adds T2b of the spec,
// u = sin(100x) sin(100y) on [0, 1]² at 100² nodes, F = 20.
func TestPoisson2D(t *testing.T) {
	c := Config{PDE: "poisson2d", Exact: "sin(20*x)*sin(20*y)", XMax: 1, YMax: 1, N: 48, Kernel: "gm",
		Components: 30, FreqScale: 8, Iterations: 20, LambdaB: 200}
	cases := []Config{c}
	if os.Getenv("EDDY_LONG") == "1" {
		c.Exact, c.N, c.FreqScale, c.Iterations = "sin(100*x)*sin(100*y)", 100, 20, 30
		cases = append(cases, c)
	}
	for _, c := range cases {
		r := solve(t, c)
		if r.Path != PathKronCG {
			t.Errorf("path %q, want %q", r.Path, PathKronCG)
		}
		if r.RelL2 > 1e-3 {
			t.Errorf("%s: rel_l2 = %.3e, want ≤ 1e-3", c.Exact, r.RelL2)
		}
		if r.RelL2 > 10*r.RelL2Grid {
			t.Errorf("%s: rel_l2 = %.3e off the grid, %.3e on it: the mean between the nodes is inaccurate", c.Exact, r.RelL2, r.RelL2Grid)
		}
	}
}

// TestKronCGPath runs the Kronecker-CG path on the two other 2-D equations at
// CI size: Allen–Cahn (Gauss–Newton around the conjugate gradients) with
// u = sin(20x) sin(20y), and advection β u_x + u_t = 0 with β = 20,
// u = sin(x − 20t), both on [0, 1]² at 48² nodes; target ≤ 1e-3 (the issue's
// 2-D target), and for advection a check residual within 3 times the error.
func TestKronCGPath(t *testing.T) {
	for _, c := range []Config{
		{PDE: "allen_cahn2d", Exact: "sin(20*x)*sin(20*y)", XMax: 1, YMax: 1, N: 48, Kernel: "gm",
			Components: 30, FreqScale: 8, Iterations: 20, LambdaB: 200},
		{PDE: "advection", Exact: "sin(x - 20*t)", XMax: 1, YMax: 1, Beta: 20, N: 48, Kernel: "gm",
			Components: 30, FreqScale: 8, Iterations: 20, LambdaB: 500},
	} {
		r := solve(t, c)
		if r.Path != PathKronCG {
			t.Errorf("%s: path %q, want %q", c.PDE, r.Path, PathKronCG)
		}
		if r.RelL2 > 1e-3 {
			t.Errorf("%s: rel_l2 = %.3e, want ≤ 1e-3", c.PDE, r.RelL2)
		}
		// The check residual estimates the error (check.go): for advection
		// 9.6e-5 against 6.4e-5 on the grid; 1.7e-4 against 3.9e-5 while
		// it integrated the residual along t alone.
		if q := r.CheckResidual / r.RelL2Grid; c.PDE == "advection" && (q > 3 || q < 1.0/3) {
			t.Errorf("%s: check residual %.3g against rel_l2 %.3g on the grid: want within 3 times", c.PDE, r.CheckResidual, r.RelL2Grid)
		}
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Solve(ctx, presetConfig(t, "p1", "gm", 10), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*Config)
		field   string
		message string // what the message starts with, if it matters
	}{
		{"n", func(c *Config) { c.N = 3 }, "n", ""},
		{"n2d", func(c *Config) { c.Preset = "p2d1"; c.PDE = ""; c.N = 1500 }, "n", "must be at most 1000"},
		{"kernel", func(c *Config) { c.Kernel = "rbf" }, "kernel", ""},
		{"preset", func(c *Config) { c.Preset = "p9" }, "preset", ""},
		{"lambda_b", func(c *Config) { c.LambdaB = math.Inf(1) }, "lambda_b", "must be a finite number"},
		{"nugget", func(c *Config) { c.Nugget = "fixed" }, "nugget", ""},
		{"pde", func(c *Config) { c.Preset = ""; c.PDE = ""; c.Exact = "x" }, "pde", "is required without a preset"},
		{"domain", func(c *Config) { c.Preset = ""; c.PDE = "poisson1d"; c.Exact = "x"; c.XMin, c.XMax = 1, 0 }, "x_max", ""},
		{"exact", func(c *Config) { c.Preset = ""; c.PDE = "poisson1d"; c.Exact = "sin(100*x"; c.XMax = 1 }, "exact", "at character 9:"},
		{"source", func(c *Config) {
			c.Preset = ""
			c.PDE = "poisson2d"
			c.Source = "x*y + z"
			c.Boundary = "0"
			c.XMax, c.YMax = 1, 1
		}, "source", "at character 6:"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		var fe field.Errors
		if !errors.As(err, &fe) || len(fe) == 0 || fe[0].Path != "/"+tc.field || !strings.HasPrefix(fe[0].Message, tc.message) {
			t.Errorf("%s: error %v, want one at /%s starting %q", tc.name, err, tc.field, tc.message)
		}
	}
	for _, name := range Presets() {
		c, err := PresetConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
}

// TestDeclaredNames checks that the values Config's tags declare for pde,
// preset and kernel are the names this package knows.
func TestDeclaredNames(t *testing.T) {
	props := field.Schema(DefaultConfig())["properties"].(map[string]any)
	enum := func(name string) []string {
		var out []string
		for _, v := range props[name].(map[string]any)["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	if got, want := enum("preset"), Presets(); !slices.Equal(got, want) {
		t.Errorf("declared presets %v, want %v", got, want)
	}
	if got, want := enum("pde"), pdeNames[:]; !slices.Equal(got, want) {
		t.Errorf("declared PDEs %v, want %v", got, want)
	}
	if got, want := enum("kernel"), kernelNames[:]; !slices.Equal(got, want) {
		t.Errorf("declared kernels %v, want %v", got, want)
	}
}

// TestNonFiniteData checks that an expression that is not finite on the grid
// is refused at its field, by CheckData before a solve and by Solve.
func TestNonFiniteData(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		edit        func(*Config)
	}{
		{"exact", "exact", func(c *Config) { c.Exact = "1/(x-x)" }},
		{"exact at one node", "exact", func(c *Config) { c.Exact = "1/(x-0.5)"; c.N = 11 }},
		{"source", "source", func(c *Config) { c.Source, c.Boundary = "sqrt(-1-x)", "0" }},
		{"boundary", "boundary", func(c *Config) { c.Source, c.Boundary = "1", "log(x-x)" }},
		{"boundary at an end", "boundary", func(c *Config) { c.Source, c.Boundary = "1", "1/x" }},
		{"2-D source", "source", func(c *Config) { c.PDE, c.YMax, c.Source, c.Boundary = "poisson2d", 1, "log(y-1)", "0" }},
	} {
		c := DefaultConfig()
		c.Preset, c.N, c.Iterations, c.XMin, c.XMax = "", 16, 1, 0, 1
		tc.edit(&c)
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var fe field.Errors
		if err := c.CheckData(context.Background()); !errors.As(err, &fe) || !fe.Has("/"+tc.field) {
			t.Errorf("%s: CheckData: %v, want an error at /%s", tc.name, err, tc.field)
		}
		_, err := Solve(context.Background(), c, nil)
		if !errors.As(err, &fe) || !fe.Has("/"+tc.field) {
			t.Errorf("%s: Solve: %v, want an error at /%s", tc.name, err, tc.field)
		}
	}
	// Finite data pass, on a grid evaluated whole and on a subgrid.
	for _, n := range []int{16, 1000} {
		c := DefaultConfig()
		c.Preset, c.PDE, c.Exact, c.N, c.XMax, c.YMax = "", "poisson2d", strings.Repeat("sin(x)*cos(y)+", 100)+"1/(x+1)", n, 1, 1
		if err := c.CheckData(context.Background()); err != nil {
			t.Errorf("n = %d: %v", n, err)
		}
	}
	if err := DefaultConfig().CheckData(context.Background()); err != nil {
		t.Errorf("preset: %v", err)
	}
}

// TestSourceDerivation checks that sources derived from an exact solution by
// forward-mode differentiation equal the closed forms of spec §3.
func TestSourceDerivation(t *testing.T) {
	c := DefaultConfig()
	for _, tc := range []struct {
		preset string
		at     []float64
		want   func(x []float64) float64
	}{
		{"p1", []float64{0.3}, func(x []float64) float64 { return -1e4 * math.Sin(100*x[0]) }},
		{"p3", []float64{0.3}, func(x []float64) float64 {
			return -10036*math.Sin(6*x[0])*math.Cos(100*x[0]) - 1200*math.Cos(6*x[0])*math.Sin(100*x[0])
		}},
		{"p4", []float64{0.3}, func(x []float64) float64 { return 400*math.Cos(200*x[0]) - 4e4*x[0]*math.Sin(200*x[0]) }},
		{"p5", []float64{0.3}, func(x []float64) float64 { return -2.5e5*math.Sin(500*x[0]) - 4 }},
		{"p2d1", []float64{0.3, 0.7}, func(x []float64) float64 { return -2e4 * math.Sin(100*x[0]) * math.Sin(100*x[1]) }},
		{"adv", []float64{0.3, 0.7}, func(x []float64) float64 { return 0 }},
	} {
		c.Preset = tc.preset
		c.PDE = ""
		r, err := c.resolve()
		if err != nil {
			t.Fatal(err)
		}
		got := r.prob.sourceAt(tc.at)
		want := tc.want(tc.at)
		if math.Abs(got-want) > 1e-10*math.Max(1, math.Abs(want)) {
			t.Errorf("%s: f(%v) = %v, want %v", tc.preset, tc.at, got, want)
		}
	}
}

// TestKroneckerVsDense checks the Kronecker-structured quadratic form, log
// determinant and mode products against dense K1⊗K2 on a 5×7 grid.
func TestKroneckerVsDense(t *testing.T) {
	m, _, U := randomModel(t, Poisson2D, StM, 5, 7, 3, 5)
	n1, n2 := 5, 7
	a1, a2 := m.ax[0], m.ax[1]
	M := n1 * n2
	C := mat.NewSymDense(M, nil)
	for p := range M {
		for q := range M {
			C.SetSym(p, q, a1.K.At(p/n2, q/n2)*a2.K.At(p%n2, q%n2))
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(C) {
		t.Fatal("dense C not positive definite")
	}
	u := mat.NewVecDense(M, append([]float64(nil), U.RawMatrix().Data...))
	var cu mat.VecDense
	if err := ch.SolveVecTo(&cu, u); err != nil {
		t.Fatal(err)
	}
	denseQuad := mat.Dot(u, &cu)
	denseLogdet := ch.LogDet()

	m.residual(U)
	kronQuad := frob(U, m.a)
	kronLogdet := float64(n2)*a1.logdet + float64(n1)*a2.logdet
	// Both are computed stably from Cholesky factors of matrices with
	// κ ≲ 1e4, so 1e-10 relative is ample.
	if math.Abs(kronQuad-denseQuad) > 1e-10*math.Abs(denseQuad) {
		t.Errorf("quadratic form: Kronecker %v, dense %v", kronQuad, denseQuad)
	}
	if math.Abs(kronLogdet-denseLogdet) > 1e-10*math.Abs(denseLogdet) {
		t.Errorf("log det: Kronecker %v, dense %v", kronLogdet, denseLogdet)
	}
	// Residual: R = D1 U + U D2ᵀ − F against (D1⊗I + I⊗D2) vec U − vec F.
	var D1, D2 mat.Dense
	D1.Solve(a1.K, a1.Kd.T()) // D1ᵀ = K1⁻¹ Kd1ᵀ
	D2.Solve(a2.K, a2.Kd.T())
	L := mat.NewDense(M, M, nil)
	for p := range M {
		for q := range M {
			i, j, k, l := p/n2, p%n2, q/n2, q%n2
			v := 0.0
			if j == l {
				v += D1.At(k, i)
			}
			if i == k {
				v += D2.At(l, j)
			}
			L.Set(p, q, v)
		}
	}
	var lu mat.VecDense
	lu.MulVec(L, u)
	for p := range M {
		want := lu.AtVec(p) - m.F.At(p/n2, p%n2)
		got := m.r.At(p/n2, p%n2)
		if math.Abs(got-want) > 1e-8*(1+math.Abs(want)) {
			t.Fatalf("residual at %d: Kronecker %v, dense %v", p, got, want)
		}
	}
}

// TestToeplitzVsDirect checks the Toeplitz builds against direct kernel
// evaluation k(x_i − x_j) at every pair.
func TestToeplitzVsDirect(t *testing.T) {
	for _, order := range []int{1, 2} {
		a := newAxis(StM, 13, -0.5, 2, order)
		s := NewSpectrum(StM, 4, 3)
		s.LogLS[1] = 0.7
		s.LogW[2] = 1.3 // k(0) ≠ 1, so that the nugget is checked relative
		if err := a.update(s); err != nil {
			t.Fatal(err)
		}
		for i := range a.n {
			for j := range a.n {
				g := [3]float64{}
				for q := range 4 {
					c, _, _ := component(StM, s.LogLS[q], s.Mu[q], a.coord(i)-a.coord(j))
					for d := range 3 {
						g[d] += math.Exp(s.LogW[q]) * c[d]
					}
				}
				k0 := g[0]
				if i == j {
					k0 += jitter * (math.Exp(s.LogW[0]) + math.Exp(s.LogW[1]) + math.Exp(s.LogW[2]) + math.Exp(s.LogW[3]))
				}
				if math.Abs(a.K.At(i, j)-k0) > 1e-12 || math.Abs(a.Kd.At(i, j)-g[order]) > 1e-9*(1+math.Abs(g[order])) {
					t.Fatalf("order %d (%d,%d): Toeplitz (%v, %v), direct (%v, %v)", order, i, j, a.K.At(i, j), a.Kd.At(i, j), k0, g[order])
				}
			}
		}
	}
}

// TestPredictInterpolates checks that the posterior mean reproduces the grid
// values at the nodes up to the jitter: k(X, X) K⁻¹ U = U − ε K⁻¹ U.
func TestPredictInterpolates(t *testing.T) {
	m, _, U := randomModel(t, Poisson2D, GM, 9, 6, 3, 9)
	p := m.predict(U, coords(m.ax[0]), coords(m.ax[1]))
	s := &optimisation{m: m, U: U}
	want := s.gridMean()
	for i := range 9 {
		for j := range 6 {
			if math.Abs(p.At(i, j)-want.At(i, j)) > 1e-9 {
				t.Fatalf("(%d,%d): predicted %v, grid mean %v", i, j, p.At(i, j), want.At(i, j))
			}
		}
	}
}

// TestSampleCancelled checks that the grid loops that evaluate expressions
// return the context's error: sample (source, exact solution, boundary) and
// testError (exact solution on 300×300 points).
func TestSampleCancelled(t *testing.T) {
	c := Config{PDE: "poisson2d", Exact: "sin(x)*cos(y)", XMax: 1, YMax: 1, N: 20, Kernel: "gm", Components: 2,
		FreqScale: 2, Iterations: 1, LambdaB: 200}
	r, err := c.resolve()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	axes := []*axis{newAxis(GM, 20, 0, 1, 2), newAxis(GM, 20, 0, 1, 2)}
	if _, _, _, err := sample(ctx, &r.prob, axes, boundaryIndex(20, 20, 2)); !errors.Is(err, context.Canceled) {
		t.Errorf("sample: error %v, want %v", err, context.Canceled)
	}
	m, _, U := randomModel(t, Poisson2D, GM, 9, 6, 3, 9)
	s := &optimisation{m: m, U: U}
	if _, err := s.testError(ctx, r.prob.exactAt); !errors.Is(err, context.Canceled) {
		t.Errorf("testError: error %v, want %v", err, context.Canceled)
	}
}

// TestSolveDeadlineWhileSampling gives Solve an exact solution of about
// expr.MaxLen bytes on a 500×500 grid: two jets per node cost about 0.1 ms
// here, so evaluating the source on the grid alone takes about half a minute.

// A 2-D solve cancelled in the middle of its first linear solve returns
// context.Canceled from inside the Kronecker-CG loop rather than after it:
// the latency is logged (at 200² one evaluation runs for tens of seconds).
func TestCancelDuringKroneckerCG(t *testing.T) {
	c := DefaultConfig()
	c.Preset, c.PDE, c.Exact, c.Source, c.Boundary = "", "poisson2d", "cos(2*x)*exp(y)", "", ""
	c.XMin, c.XMax, c.YMin, c.YMax, c.N, c.Iterations = 0, 1, 0, 1, 200, 5
	ctx, cancel := context.WithCancel(context.Background())
	var at time.Time
	timer := time.AfterFunc(300*time.Millisecond, func() { at = time.Now(); cancel() })
	defer timer.Stop()
	_, err := Solve(ctx, c, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	t.Logf("returned %v after the cancellation", time.Since(at).Round(time.Millisecond))
}

// Without a preset, a 2-D problem that leaves y at [0, 0] is solved on the
// square of its x interval, not refused.
func TestSquareDomainByDefault(t *testing.T) {
	c := DefaultConfig()
	c.Preset, c.PDE, c.Exact = "", "poisson2d", "sin(3*x)*sin(2*y)"
	c.XMin, c.XMax, c.YMin, c.YMax = 0, 2, 0, 0
	r, err := c.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.cfg.YMin != 0 || r.cfg.YMax != 2 {
		t.Errorf("y interval [%g, %g], want [0, 2]", r.cfg.YMin, r.cfg.YMax)
	}
	c.YMax = -1
	if _, err := c.resolve(); err == nil || !strings.Contains(err.Error(), "y_max") {
		t.Errorf("y_max < y_min: %v, want an error at y_max", err)
	}
}
