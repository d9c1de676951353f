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
}
