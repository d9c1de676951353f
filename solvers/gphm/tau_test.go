package gphm

import (
	"math"
	"strings"
	"sync"
	"testing"

	"eddy/progress"
)

// A variant of a 2-D Poisson problem under the automatic nugget runs at
// TightLogTau and is kept when it converges to the switch
// threshold (x y + sin 8x sin 8y at 40²: 3.1e-6 at log τ 20 against 2.3e-5
// at 16, 300 iterations); otherwise it runs again at ExactLogTau and the
// path of lesser check residual is kept (sin 20x sin 20y on [0, 2π]² at
// 48²: the path at 20 ends on its budget at check residual 0.1, the one at
// 16 converges to 7.1e-6, rel_l2 1.4e-6). An explicit nugget keeps
// ExactLogTau.
func TestTightTau(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		logTau float64
		reason string
		tol    float64
	}{
		{"kept", userConfig("poisson2d", "x*y + sin(8*x)*sin(8*y)", 1, 1, 40, 0), TightLogTau, "converged", 1e-5},
		{"run again", userConfig("poisson2d", "sin(20*x)*sin(20*y)", 2*math.Pi, 2*math.Pi, 48, 0), ExactLogTau, "log τ 16 kept of two paths, log τ 20 budget", 1e-5},
	} {
		tc.cfg.Iterations = 300 // the API's default
		var mu sync.Mutex
		labels := map[string]bool{}
		r, err := Solve(t.Context(), tc.cfg, func(u progress.Update) {
			mu.Lock()
			defer mu.Unlock()
			for _, l := range []string{"log τ 20: iteration", "log τ 16 again: iteration"} {
				labels[l] = labels[l] || strings.HasPrefix(u.Message, l)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		// The progress says which path its iterations are of.
		if again := tc.logTau == ExactLogTau; !labels["log τ 20: iteration"] || labels["log τ 16 again: iteration"] != again {
			t.Errorf("%s: progress messages of the paths %v", tc.name, labels)
		}
		t.Logf("%s: τ2 %.4g, %s; nugget reason: %s", tc.name, r.Tau[1], r.TauReason, r.NuggetReason)
		if got := math.Log(r.Tau[1]); math.Abs(got-tc.logTau) > 1e-12 {
			t.Errorf("%s: log τ2 %.15g, want %g", tc.name, got, tc.logTau)
		}
		if !strings.Contains(r.TauReason, tc.reason) {
			t.Errorf("%s: tau reason %q, want it to say %q", tc.name, r.TauReason, tc.reason)
		}
		if !(r.RelL2 <= tc.tol) || !r.Converged {
			t.Errorf("%s: rel_l2 %.3e, converged %v: want ≤ %g and converged", tc.name, r.RelL2, r.Converged, tc.tol)
		}
		c := tc.cfg
		c.Nugget = NuggetRelative
		if r := solve(t, c); r.Tau[1] != math.Exp(ExactLogTau) || r.TauReason != "" {
			t.Errorf("%s, nugget relative: τ2 %.4g (%q), want e^%d", tc.name, r.Tau[1], r.TauReason, ExactLogTau)
		}
	}
}

// tightFirst selects every variant of 2-D Poisson under the automatic
// nugget, and nothing else.
func TestTightFirst(t *testing.T) {
	for _, tc := range []struct {
		pde, nugget string
		want        bool
	}{
		{"poisson2d", NuggetAuto, true},
		{"poisson2d", NuggetRelative, false},
		{"poisson2d", NuggetAbsolute, false},
		{"advection", NuggetAuto, false},
		{"allen_cahn2d", NuggetAuto, false},
		{"poisson1d", NuggetAuto, false},
	} {
		c := userConfig(tc.pde, "sin(3*x)", 1, 1, 20, 0)
		if tc.pde == "advection" {
			c.Exact, c.Beta = "sin(x - t)", 1
		}
		c.Nugget = tc.nugget
		r, err := c.resolve()
		if err != nil {
			t.Fatal(err)
		}
		if got := tightFirst(r); got != tc.want {
			t.Errorf("%s, nugget %s: %v, want %v", tc.pde, tc.nugget, got, tc.want)
		}
	}
}

// Between the two precisions' paths one that converged is kept unless the
// other ends under half its check residual (the cases measured on preset
// p2d2 and in TestSmoothTrendDefaults).
func TestKeepTight(t *testing.T) {
	for _, tc := range []struct {
		tight, exact      float64
		tightConv, exConv bool
		want              bool // the path at TightLogTau kept
	}{
		{2.9e-4, 3.0e-4, false, true, false}, // p2d2: within the margin, the converged one
		{9.2e-6, 9.2e-5, false, true, true},  // ten times under it
		{1.2e-6, 8.8e-7, false, true, false},
		{3.0e-4, 2.9e-4, true, false, true},
		{3.0e-4, 1.4e-4, true, false, false},
		{4.3e-4, 3.7e-4, true, true, false}, // both or neither: the lesser
		{1e-3, 2e-3, false, false, true},
	} {
		tight := &Result{CheckResidual: tc.tight, Converged: tc.tightConv}
		exact := &Result{CheckResidual: tc.exact, Converged: tc.exConv}
		if got := keepTight(tight, exact); got != tc.want {
			t.Errorf("%+v: the tight path kept %v", tc, got)
		}
	}
}
