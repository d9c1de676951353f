package dcdm

import (
	"context"
	"testing"
	"time"

	"eddy/solvers/krylov"
)

// TestTrainingHelps trains the authors' layout for 100 Adam steps (one
// epoch of 1000 vectors from 500 Lanczos steps) on the open_top scene at
// 32² and checks that the loss falls well below 1 (α = 0) and that the
// network, applied to the smoke scene (unseen obstacles) at 32², then
// reaches 1e-4 within 400 iterations, which the untrained network does not.
// This is all a CI-sized training reaches: measured at 230 iterations, more
// than CG's 130. The acceptance of the issue (fewer iterations than IC(0) at
// 64² and 128² with weights trained at 32²) needs far longer training; it is
// measured, not asserted, by BenchmarkDCDMTable (bench/results/poisson.md).
func TestTrainingHelps(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a network for about 20 s")
	}
	ctx := context.Background()
	train := system(t, "open_top", 2, 32)
	tc := TrainConfig{Epochs: 1, Samples: 1000, Batch: 10, LR: 1e-3, LanczosSteps: 500, Theta: 25, Seed: 1}
	start := time.Now()
	tr, err := NewTrainer(ctx, train.A, DefaultConfig(2), tc, 2)
	if err != nil {
		t.Fatal(err)
	}
	smoke := system(t, "smoke", 2, 32)
	b := smoke.RandomRHS(1)
	solve := func() Result {
		x := make([]float64, len(b))
		res, err := Solve(ctx, tr.Model(), smoke.A, b, x, Options{Options: krylov.Options{Tol: 1e-4, MaxIter: 400}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	before := solve()
	st, err := tr.RunEpoch(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	after := solve()
	x := make([]float64, len(b))
	cg, err := krylov.CG(ctx, smoke.A, b, x, krylov.Options{Tol: 1e-4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loss %.3g after %d steps (%.1f s); iterations to 1e-4 on smoke 32²: untrained %d, trained %d, CG %d", st.Loss, tr.StepsPerEpoch(), time.Since(start).Seconds(), before.Iterations, after.Iterations, cg.Iterations)
	if !(st.Loss < 0.4) {
		t.Errorf("mean loss of the epoch %g, want < 0.4", st.Loss)
	}
	if !after.Converged || after.TrueRelResidual > 1e-4 {
		t.Errorf("trained: %d iterations (converged %v, residual %g), want 1e-4 within 400", after.Iterations, after.Converged, after.TrueRelResidual)
	}
	if before.Converged {
		t.Errorf("untrained: converged in %d iterations: the test would not show what training does", before.Iterations)
	}
}
