package jobs

import (
	"strings"
	"testing"
)

// A user problem with a polynomial part, solved with default options (no
// nugget, no trend given): accurate to the 1-D target of 1e-5, with the
// equation, the check residual and the reasons for the automatic choices in
// the metrics.
func TestGPSolveDefaults(t *testing.T) {
	r, f := runKindToEnd(t, "gp.solve",
		`{"pde": "poisson1d", "exact": "sin(3*x) + x^2", "x_min": 0, "x_max": 2, "n": 60, "freq_scale": 2}`)
	m := r.Result.Metrics
	if rel := m["rel_l2"].(float64); !(rel <= 1e-5) {
		t.Errorf("rel_l2 %g, want ≤ 1e-5", rel)
	}
	if m["equation"] != "u_xx = f" {
		t.Errorf("equation metric %v", m["equation"])
	}
	if eq, err := f.AttrString("/", "equation"); err != nil || eq != "u_xx = f" {
		t.Errorf("equation attribute %q (%v)", eq, err)
	}
	if rho, ok := m["check_residual"].(float64); !ok || !(rho <= 1e-5) {
		t.Errorf("check_residual %v, want ≤ 1e-5", m["check_residual"])
	}
	if reason, _ := m["nugget_reason"].(string); !strings.Contains(reason, "check residual") {
		t.Errorf("nugget_reason %q", reason)
	}
	if tr := m["trend"]; tr != "none" && tr != "polynomial" || m["converged"] != true {
		t.Errorf("trend %v, converged %v (stop %v, check residual %v)", m["trend"], m["converged"], m["stop_reason"], m["check_residual"])
	}
}

// A deliberately short budget is reported: converged false and a warning.
func TestGPSolveShortBudget(t *testing.T) {
	r, _ := runKindToEnd(t, "gp.solve",
		`{"pde": "poisson2d", "exact": "x*y + sin(8*x)*sin(8*y)", "x_max": 1, "y_max": 1, "n": 24, "freq_scale": 4, "iterations": 2}`)
	m := r.Result.Metrics
	if m["converged"] != false || len(r.Result.Warnings) == 0 {
		t.Errorf("converged %v, warnings %q", m["converged"], r.Result.Warnings)
	}
	if _, ok := m["cg_per_solve"].(float64); !ok {
		t.Errorf("cg_per_solve missing: %v", m)
	}
	// Each 2-D Poisson variant ran at log τ 20, did not converge, and ran
	// again at 16. The reasons say so.
	if reason, _ := m["nugget_reason"].(string); !strings.Contains(reason, "log τ 20 budget") || !strings.Contains(reason, "log τ 16 budget") {
		t.Errorf("nugget_reason %q", reason)
	}
	// The run is inaccurate, and its check residual says so: it is within a
	// factor of ten of the true error, which is above the 2-D target.
	rel, _ := m["rel_l2"].(float64)
	rho, _ := m["check_residual"].(float64)
	t.Logf("2 iterations: rel_l2 %.2e, check residual %.2e", rel, rho)
	if !(rel > 1e-4) || !(rho > rel/10 && rho < 10*rel) {
		t.Errorf("rel_l2 %v, check_residual %v: want an error above 1e-4 and a residual within 10× of it", m["rel_l2"], m["check_residual"])
	}
}

// Allen–Cahn on [0, 2π] has data that admit several solutions: the result
// says so (unstable_modes > 0 and a warning) while the run that found the
// wanted one is accurate and not flagged as another solution.
func TestGPSolveAllenCahnUniqueness(t *testing.T) {
	r, _ := runKindToEnd(t, "gp.solve",
		`{"pde": "allen_cahn1d", "exact": "sin(3*x)", "x_min": 0, "x_max": 6.283185307179586, "n": 60, "freq_scale": 2, "components": 8, "iterations": 40}`)
	m := r.Result.Metrics
	t.Logf("rel_l2 %v, check residual %v, unstable modes %v, warnings %q", m["rel_l2"], m["check_residual"], m["unstable_modes"], r.Result.Warnings)
	if rel, _ := m["rel_l2"].(float64); !(rel <= 1e-5) {
		t.Errorf("rel_l2 %v, want ≤ 1e-5", m["rel_l2"])
	}
	if m["other_solution"] != false {
		t.Errorf("other_solution %v", m["other_solution"])
	}
	k, ok := m["unstable_modes"].(int64)
	if !ok {
		if f, isF := m["unstable_modes"].(float64); isF {
			k, ok = int64(f), true
		}
	}
	if !ok || k < 1 {
		t.Errorf("unstable_modes %v (%T), want ≥ 1", m["unstable_modes"], m["unstable_modes"])
	}
	found := false
	for _, w := range r.Result.Warnings {
		found = found || strings.Contains(w, "other solutions")
	}
	if !found {
		t.Errorf("no warning about other solutions: %q", r.Result.Warnings)
	}
}
