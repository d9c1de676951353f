package gphm

import (
	"math"
	"sort"
	"testing"
)

// userConfig is what a user of gp.solve gets for a problem given by its exact
// solution: the defaults (DefaultConfig: GP-HM-GM, Q = 30, trend and nugget
// auto, 300 L-BFGS iterations) with only the problem, the grid and the
// frequency scale set (60 iterations in 2-D, to keep the test short).
func userConfig(pde, exact string, x1, y1 float64, n int, freq float64) Config {
	c := DefaultConfig()
	c.Preset, c.PDE, c.Exact = "", pde, exact
	c.XMin, c.XMax, c.YMin, c.YMax = 0, x1, 0, y1
	c.N, c.FreqScale = n, freq
	if pde != "poisson1d" && pde != "allen_cahn1d" {
		c.Iterations = 60
	}
	return c
}

// smoothTrendCases are the acceptance problems with a smooth trend:
// each must be solved to tol with default options. The targets are the
// issue's (1e-5 in 1-D, 1e-4 in 2-D); measured: 2.1e-8 and 8.9e-8 in 1-D
// (no trend: the first variant there), 4.4e-6 and 5.0e-5 in 2-D with the
// polynomial trend and the relative nugget at log τ 20 (TightLogTau; the
// first ran out of its 60 iterations at a check residual of 9.2e-6, the
// path at 16 converged at 9.2e-5 and 4.2e-5). Before the trend and the boundary fit
// on the posterior mean, the defaults ended at 1.1e-4, 2.6e-2, 6.4e-5 and
// 0.55 on problems of these families.
var smoothTrendCases = []struct {
	name string
	cfg  Config
	tol  float64
}{
	{"sin(50x)e^-x+x", userConfig("poisson1d", "sin(50*x)*exp(-x) + x", 1, 0, 200, 20), 1e-5},
	{"sin3x+x^2", userConfig("poisson1d", "sin(3*x) + x^2", 2, 0, 60, 2), 1e-5},
	{"xy+sin8xsin8y", userConfig("poisson2d", "x*y + sin(8*x)*sin(8*y)", 1, 1, 40, 4), 1e-4},
	{"poly+sin6xsin10y", userConfig("poisson2d", "1 + x^2 - 2*x*y + y^3 + sin(6*x)*sin(10*y)", 1, 1, 40, 4), 1e-4},
}

// TestSmoothTrendDefaults solves the smooth-trend problems with default
// options, asserts their accuracy, and checks that the reported check
// residual ranks these runs, and the same problems without the trend and cut
// short, as their true errors do (Spearman rank correlation ≥ 0.8): the
// residual is the user's only view of the error.
func TestSmoothTrendDefaults(t *testing.T) {
	var rho, errs []float64
	for _, tc := range smoothTrendCases {
		r := solve(t, tc.cfg)
		t.Logf("%s: rel_l2 %.2e, check residual %.2e, nugget %s (%s; %s), stop %s", tc.name, r.RelL2, r.CheckResidual, r.Nugget, r.NuggetReason, r.TauReason, r.StopReason)
		if !(r.RelL2 <= tc.tol) {
			t.Errorf("%s: rel_l2 %.3e with default options, want ≤ %g", tc.name, r.RelL2, tc.tol)
		}
		first, limit := TrendPolynomial, SwitchResidual2D
		if tc.cfg.PDE == "poisson1d" {
			first, limit = TrendNone, SwitchResidual1D
		}
		firstRho := math.NaN() // check residual of the first variant, run alone below
		rho, errs = append(rho, r.CheckResidual), append(errs, r.RelL2)
		// Each variant's accuracy is asserted too, against the target where
		// it should meet it and otherwise a bound above its measured error
		// (2-D without the trend: 3.3e-4 and 8.1e-4; 3 iterations: 6.2e-4
		// and 7.3e-5; 1-D: all below 2e-8).
		two := tc.cfg.PDE != "poisson1d"
		for _, v := range []struct {
			name string
			edit func(*Config)
			tol2 float64
		}{
			{"no trend", func(c *Config) { c.Trend, c.Nugget = TrendNone, NuggetRelative }, 2e-3},
			{"polynomial trend", func(c *Config) { c.Trend, c.Nugget = TrendPolynomial, NuggetRelative }, 1e-4},
			{"3 iterations", func(c *Config) { c.Iterations = 3 }, 5e-3},
		} {
			c := tc.cfg
			v.edit(&c)
			r := solve(t, c)
			rho, errs = append(rho, r.CheckResidual), append(errs, r.RelL2)
			tol := tc.tol
			if two {
				tol = v.tol2
			}
			if !(r.RelL2 <= tol) {
				t.Errorf("%s, %s: rel_l2 %.3e, want ≤ %g", tc.name, v.name, r.RelL2, tol)
			}
			if c.Trend == first && c.Iterations == tc.cfg.Iterations {
				firstRho = r.CheckResidual
			}
		}
		// The selection rule: the first variant (relative nugget) when its
		// check residual is within the limit, else the least residual of
		// those tried. Which side of the limit a case lands on moves with
		// rounding (poly+sin6xsin10y: 7.1e-5, and 1.1e-4 once the CG
		// preconditioner changed, against 1e-4), so the rule is asserted,
		// not the side.
		switch {
		case r.NuggetReason == "":
			t.Errorf("%s: no nugget reason", tc.name)
		case firstRho <= limit && (r.Trend != first || r.Nugget != NuggetRelative):
			t.Errorf("%s: trend %q, nugget %q (%s), want the first variant, %s and relative (its check residual %.2g ≤ %g)", tc.name, r.Trend, r.Nugget, r.NuggetReason, first, firstRho, limit)
		case !(r.CheckResidual <= firstRho):
			t.Errorf("%s: check residual %.2g of the returned variant (%s) above the first variant's %.2g", tc.name, r.CheckResidual, r.NuggetReason, firstRho)
		}
	}
	s := spearman(rho, errs)
	t.Logf("check residuals %.2e\ntrue errors     %.2e\nrank correlation %.3f", rho, errs, s)
	if !(s >= 0.8) {
		t.Errorf("rank correlation of check residual and error %.3f, want ≥ 0.8", s)
	}
}

// TestShortBudgetNotConverged: a run cut off by its budget must say so.
func TestShortBudgetNotConverged(t *testing.T) {
	c := smoothTrendCases[0].cfg
	c.Iterations = 2
	r := solve(t, c)
	if r.Converged || r.StopReason != StopBudget || len(r.Warnings) == 0 {
		t.Errorf("2 iterations: converged %v, stop %q, warnings %q", r.Converged, r.StopReason, r.Warnings)
	}
}

// spearman returns the rank correlation of a and b; equal values are ranked
// by position, the same way in both.
func spearman(a, b []float64) float64 {
	rank := func(v []float64) []float64 {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(i, j int) bool { return v[idx[i]] < v[idx[j]] })
		r := make([]float64, len(v))
		for k, i := range idx {
			r[i] = float64(k)
		}
		return r
	}
	ra, rb := rank(a), rank(b)
	n := float64(len(a))
	var d2 float64
	for i := range ra {
		d := ra[i] - rb[i]
		d2 += d * d
	}
	return 1 - 6*d2/(n*(n*n-1))
}

func TestSpearman(t *testing.T) {
	if s := spearman([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}); math.Abs(s-1) > 1e-12 {
		t.Errorf("identical ranks: %g", s)
	}
	if s := spearman([]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}); math.Abs(s+1) > 1e-12 {
		t.Errorf("reversed ranks: %g", s)
	}
}
