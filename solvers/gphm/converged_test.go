package gphm

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"eddy/progress"
)

// A run reports whether it converged, with its final loss: a small 1-D
// problem given many iterations stops improving; the same problem cut off
// after two iterations has not. The last progress report is the result's.
func TestConvergedAndFinalLoss(t *testing.T) {
	c := Config{PDE: "poisson1d", Exact: "sin(3*x) + x^2", XMax: 2, N: 40, Kernel: "gm", Components: 4,
		FreqScale: 2, Iterations: 400, LambdaB: 200, Nugget: NuggetAbsolute}
	var last progress.Update
	long, err := Solve(context.Background(), c, func(u progress.Update) { last = u })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(last.Message, "done:") || last.Fraction != 1 ||
		last.Metrics["check_residual"] != long.CheckResidual || last.Metrics["rel_l2_grid"] != long.RelL2Grid {
		t.Errorf("last report %+v; the result's check residual %g, rel_l2_grid %g", last, long.CheckResidual, long.RelL2Grid)
	}
	t.Logf("%d iterations, loss %g, change %g, rel_l2 %.2e", long.Iterations, long.FinalLoss, long.LossChange, long.RelL2)
	if !(long.RelL2 <= 1e-5) {
		t.Errorf("%d iterations: rel_l2 %.3e, want ≤ 1e-5", long.Iterations, long.RelL2)
	}
	if !long.Converged {
		t.Errorf("%d iterations: converged %v, loss change %g", long.Iterations, long.Converged, long.LossChange)
	}
	if last := long.Loss[len(long.Loss)-1]; long.LossEvery == 1 && long.FinalLoss != last {
		t.Errorf("final loss %g, last of the history %g", long.FinalLoss, last)
	}

	c.Iterations = 2
	short, err := Solve(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2 iterations: rel_l2 %.2e, check residual %.2e", short.RelL2, short.CheckResidual)
	if !(short.RelL2 <= 1e-5) {
		t.Errorf("2 iterations: rel_l2 %.3e, want ≤ 1e-5", short.RelL2)
	}
	if short.Converged || !(short.LossChange > ConvergedTol) {
		t.Errorf("2 iterations: converged %v, loss change %g", short.Converged, short.LossChange)
	}
	if math.IsNaN(short.FinalLoss) || short.FinalLoss != short.Loss[1] {
		t.Errorf("final loss %g, history %v", short.FinalLoss, short.Loss)
	}
}

// A source that is not finite on the grid is a data error: it says which
// field is at fault, and that retrying cannot help.
func TestNonFiniteSourceIsPermanent(t *testing.T) {
	c := DefaultConfig()
	c.Preset, c.PDE, c.Exact = "", "poisson1d", ""
	c.Source, c.Boundary = "1/(x-x)", "0"
	c.N, c.Iterations = 20, 1
	_, err := Solve(context.Background(), c, nil)
	if err == nil {
		t.Fatal("a NaN source was solved")
	}
	var p interface{ Permanent() bool }
	if !errors.As(err, &p) || !p.Permanent() {
		t.Fatalf("error %v (%T) is not marked permanent", err, err)
	}
}

// The stop rules on the check residual: a rise stops only after patience
// accepted steps above riseFactor × the least; a failed line search stops
// at once (1-D) or, with retry (2-D), only when another has failed since ρ
// last improved (the noise floor).
func TestResidualWatch(t *testing.T) {
	w := residualWatch{best: 1e-2, patience: 3}
	for i, c := range []struct {
		rho    float64
		least  bool
		rising bool
	}{
		{5e-3, true, false}, {6e-3, false, false}, {1.1e-2, false, false}, {1.2e-2, false, false},
		{9e-3, false, false}, // within the factor: the count starts again
		{1.1e-2, false, false}, {1.1e-2, false, false}, {1.1e-2, false, true},
	} {
		if least := w.accepted(c.rho); least != c.least || w.rising() != c.rising {
			t.Fatalf("step %d (ρ %g): least %v rising %v, want %v %v", i, c.rho, least, w.rising(), c.least, c.rising)
		}
	}

	w = residualWatch{best: math.NaN(), patience: 20, retry: true}
	if !w.accepted(1) {
		t.Fatal("the first finite ρ after NaN is not the least")
	}
	if w.searchFailed() {
		t.Fatal("the first failed search stops the run")
	}
	w.accepted(2) // no improvement
	if !w.searchFailed() {
		t.Fatal("a second failed search without improvement of ρ between them does not stop the run")
	}
	w = residualWatch{best: 1, patience: 20, retry: true}
	w.searchFailed()
	w.accepted(0.5) // improved: the next failure is a first one again
	if w.searchFailed() {
		t.Fatal("a failed search after ρ improved stops the run")
	}
	w = residualWatch{best: 1, patience: 20}
	if !w.searchFailed() {
		t.Fatal("without retry the first failed search does not stop the run")
	}
}
