package stfno

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"eddy/nn"
	"eddy/pde/navierstokes"
)

// fnoMiniScale is the size of the fno-mini benchmark (spec §6 B–D).
type fnoMiniScale struct {
	train, val, test int
	dt, warmup       float64
	frames, epochs   int
	refineIters      int
}

// The default run uses a reduced scale; EDDY_LONG=1 runs the spec's.
var (
	fnoMiniReduced = fnoMiniScale{train: 24, val: 4, test: 2, dt: 2e-3, warmup: 2, frames: 24, epochs: 10, refineIters: 100}
	fnoMiniFull    = fnoMiniScale{train: 64, val: 8, test: 4, dt: 1e-3, warmup: 5, frames: 30, epochs: 10, refineIters: 100}
)

// TestFNOMini is the fno-mini benchmark of spec §6: trajectories of the
// forced FNO flow (ν = 1e-3, GRF initial vorticity, IMEX Euler–CN at 64²,
// frames every 0.2), training and validation on 32² by spectral
// truncation (Downsample), an ST-FNO of DefaultConfig trained on windows of
// 10 → 10 frames, then on the test trajectories at 64² zero-shot
// prediction and the Spectral-Refiner with the H⁻¹ estimator of the BDF2
// residual. Criteria: validation relative L² ≤ persistence/3; zero-shot
// 64² error ≤ 1.5 × the 32² error of the same windows; refinement lowers
// η at least 10× and raises the true error by at most 1%.
func TestFNOMini(t *testing.T) {
	sc := fnoMiniReduced
	if os.Getenv("EDDY_LONG") != "" {
		sc = fnoMiniFull
	}
	const n, nc, tIn, tOut = 64, 32, 10, 10
	ctx := context.Background()
	cfg := navierstokes.DefaultConfig()
	cfg.Dt = sc.dt
	cfg.TWarmup = sc.warmup
	cfg.TEnd = sc.warmup + 0.2*float64(sc.frames-1)
	cfg.Samples = sc.train + sc.val + sc.test
	start := time.Now()
	tr, err := navierstokes.Simulate(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	simTime := time.Since(start).Seconds()
	S, F := tr.Samples, tr.Frames
	coarse := make([]float64, S*F*nc*nc)
	Downsample(coarse, tr.Vorticity, S*F, n, nc)

	split := Split{}
	for i := 0; i < sc.train+sc.val; i++ {
		if i < sc.train {
			split.Train = append(split.Train, i)
		} else {
			split.Val = append(split.Val, i)
		}
	}
	test := make([]int, 0, sc.test)
	for i := sc.train + sc.val; i < S; i++ {
		test = append(test, i)
	}
	valStart := F - tIn - tOut
	tc := TrainConfig{TIn: tIn, TOut: tOut, Epochs: sc.epochs, Batch: 4, LR: 1e-2, Seed: 1, ValStart: valStart}
	m, err := New(DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	trainer, err := NewTrainer(m, coarse, S, F, nc, split, tc)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	var last EpochStats
	for e := 0; e < sc.epochs; e++ {
		if last, err = trainer.RunEpoch(ctx, nil); err != nil {
			t.Fatal(err)
		}
		t.Logf("epoch %2d: train %.4f  val %.4f  (%.1f s)", last.Epoch, last.TrainRelL2, last.ValRelL2, last.Seconds)
	}
	trainTime := time.Since(start).Seconds()

	// Persistence: every output frame is the last input frame.
	persistence := func(data []float64, samples []int, nn int) float64 {
		var total float64
		g := nn * nn
		for _, s := range samples {
			o := (s*F + valStart) * g
			last := data[o+(tIn-1)*g : o+tIn*g]
			pred := make([]float64, tOut*g)
			for k := 0; k < tOut; k++ {
				copy(pred[k*g:], last)
			}
			total += RelL2(pred, data[o+tIn*g:o+(tIn+tOut)*g], tOut, nn)
		}
		return total / float64(len(samples))
	}
	valPersist := persistence(coarse, split.Val, nc)
	t.Logf("fno-mini (%d/%d/%d trajectories, %d frames, dt %v): simulation %.1f s, training %.1f s (%d epochs × %d steps, %d cores)",
		sc.train, sc.val, sc.test, F, sc.dt, simTime, trainTime, sc.epochs, trainer.StepsPerEpoch(), runtime.GOMAXPROCS(0))
	t.Logf("validation 32²: ST-FNO %.4f, persistence %.4f (%.1f×)", last.ValRelL2, valPersist, valPersist/last.ValRelL2)
	if !(last.ValRelL2*3 <= valPersist) {
		t.Errorf("validation error %.4f is not 3× below persistence %.4f", last.ValRelL2, valPersist)
	}

	// Zero-shot: the test windows at 32² and at 64².
	err32 := trainer.Evaluate(test, valStart)
	var err64 float64
	g := n * n
	est, err := navierstokes.NewEstimator(navierstokes.EstimatorConfig{N: n, Flow: cfg.Flow, FrameDt: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	// Learning rates in the authors' units (see RefineConfig): on 64² the
	// bias rate 20 is an amplitude step of 20/(64²·22) ≈ 2e-4 per mode, the
	// paper's 2e-1 at 256² is 1e-7; 2e-1 here lowers η only 1.3× in 100
	// iterations.
	rc := RefineConfig{Iterations: sc.refineIters, BiasLR: 20, WeightLR: 1e-4}
	for _, s := range test {
		o := (s*F + valStart) * g
		input := tr.Vorticity[o : o+tIn*g]
		truth := tr.Vorticity[o+tIn*g : o+(tIn+tOut)*g]
		pred := m.Forward(nn.TensorFrom(append([]float64(nil), input...), 1, tIn, n, n), tOut)
		e64 := RelL2(pred.Data, truth, tOut, n)
		err64 += e64 / float64(len(test))

		res, err := m.Refine(ctx, input, tIn, tOut, n, est, input, rc)
		if err != nil {
			t.Fatal(err)
		}
		before, after := RelL2(res.Before, truth, tOut, n), RelL2(res.After, truth, tOut, n)
		etaTruth := est.Eval(input, truth, tOut, nil)
		t.Logf("test %d at 64²: rel. L2 %.4f → %.4f; η %.3g → %.3g (%.1f×, truth %.3g); %d iterations, modes %v, %.2f s",
			s, before, after, res.EstimatorBefore, res.EstimatorAfter, res.EstimatorBefore/res.EstimatorAfter, etaTruth, rc.Iterations, res.Modes, res.Seconds)
		if !(res.EstimatorBefore >= 10*res.EstimatorAfter) {
			t.Errorf("test %d: η fell only %.2f×", s, res.EstimatorBefore/res.EstimatorAfter)
		}
		if !(after <= 1.01*before) {
			t.Errorf("test %d: refinement raised the error from %.4f to %.4f", s, before, after)
		}
	}
	t.Logf("zero-shot: 32² %.4f, 64² %.4f (ratio %.2f)", err32, err64, err64/err32)
	if !(err64 <= 1.5*err32) {
		t.Errorf("zero-shot 64² error %.4f exceeds 1.5 × the 32² error %.4f", err64, err32)
	}
}
