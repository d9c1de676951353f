package gphm

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A requested tol stops a run at the first iteration whose check residual
// reaches it, with stop reason tolerance, sooner than the run without it;
// the error is then of the order of tol (the check residual estimates it).
// A tol above the switch threshold ends the automatic variants at the first
// run that reaches it.
func TestTolerance(t *testing.T) {
	fulls := map[string]*Result{}
	for _, tc := range []struct {
		name string
		c    Config
		tol  float64
	}{
		{"poisson1d", Config{PDE: "poisson1d", Exact: "sin(50*x)*exp(-x) + x", XMax: 1, N: 200, Kernel: "gm", Components: 30,
			Iterations: 300, LambdaB: 200}, 1e-4},
		{"poisson2d", Config{PDE: "poisson2d", Exact: "sin(3*x)*sin(2*y)", XMax: 2, YMax: 2, N: 32, Kernel: "gm", Components: 8,
			FreqScale: 2, Iterations: 200, LambdaB: 200}, 1e-4},
		// Above the switch threshold (1e-4): the initial kernel reaches it.
		{"poisson2d_above_switch", Config{PDE: "poisson2d", Exact: "sin(3*x)*sin(2*y)", XMax: 2, YMax: 2, N: 32, Kernel: "gm",
			Components: 8, FreqScale: 2, Iterations: 200, LambdaB: 200}, 1e-3},
		// StM in 1-D, with GM beside it (hedge) on two cores: above the
		// stall bar (1e-5), StM is not restarted.
		{"poisson1d_stm", Config{PDE: "poisson1d", Exact: "sin(50*x)*exp(-x) + x", XMax: 1, N: 200, Kernel: "stm", Components: 30,
			Iterations: 300, LambdaB: 200}, 1e-4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The run without tol, once per problem.
			key := fmt.Sprintf("%+v", tc.c)
			full := fulls[key]
			if full == nil {
				var err error
				if full, err = Solve(context.Background(), tc.c, nil); err != nil {
					t.Fatal(err)
				}
				fulls[key] = full
			}
			c := tc.c
			c.Tol = tc.tol
			res, err := Solve(context.Background(), c, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("tol 0: %d iterations, %s, rel_l2 %.2e, check residual %.2e, %.1f s; tol %g: %d iterations, %s, rel_l2 %.2e, check residual %.2e, %.1f s; %s",
				full.Iterations, full.StopReason, full.RelL2, full.CheckResidual, full.Seconds,
				tc.tol, res.Iterations, res.StopReason, res.RelL2, res.CheckResidual, res.Seconds, res.NuggetReason)
			if res.StopReason != StopTolerance || !res.Converged {
				t.Errorf("tol %g: stop %s, converged %v", tc.tol, res.StopReason, res.Converged)
			}
			if !(res.Iterations < full.Iterations) {
				t.Errorf("tol %g: %d iterations, without it %d", tc.tol, res.Iterations, full.Iterations)
			}
			if !(res.CheckResidual <= tc.tol) {
				t.Errorf("tol %g: check residual %.3g", tc.tol, res.CheckResidual)
			}
			if !(res.RelL2 <= 3*tc.tol) {
				t.Errorf("tol %g: rel_l2 %.3g", tc.tol, res.RelL2)
			}
			if !strings.HasSuffix(res.NuggetReason, "is at most "+fmt.Sprint(tc.tol)) {
				t.Errorf("tol %g: more than one variant ran: %s", tc.tol, res.NuggetReason)
			}
		})
	}
}

// Preset adv's Newton solves with the trend free run to the CG cap (the
// trend and the GP trade the polynomials of x − βt almost freely): after
// CappedFix of them in a row the run holds the trend fixed, and its solves
// converge again, on a grid coarser than the preset's.
func TestTrendHeldAfterCappedSolves(t *testing.T) {
	c := presetGrid(t, "adv", 120)
	c.Iterations = 8
	c.Trend, c.Nugget = TrendPolynomial, NuggetRelative
	res, err := Solve(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	per := float64(res.CGIterations) / float64(res.CGSolves)
	t.Logf("trend held from iteration %d; %d solves, %.0f CG iterations per solve; rel_l2 %.2e, check residual %.2e, %.1f s",
		res.TrendHeldFrom, res.CGSolves, per, res.RelL2, res.CheckResidual, res.Seconds)
	if !(res.TrendHeldFrom >= 1 && res.TrendHeldFrom <= CappedFix) {
		t.Errorf("trend held from iteration %d, want 1–%d", res.TrendHeldFrom, CappedFix)
	}
	if !(per < 0.75*kronMaxIter) {
		t.Errorf("%.0f CG iterations per solve", per)
	}
	if !(res.RelL2 <= 1e-3) {
		t.Errorf("rel_l2 %.3g", res.RelL2)
	}
}
