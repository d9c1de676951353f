package navierstokes

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkEstimator measures Eval on T = 10 frames of the forced FNO case
// at n = 64 (one worker), for both residual modes, without and with the
// gradient. Reported: ns/frame. The FFT counts per frame are 6 and 12
// (trajectory_bdf2), 11 and 26 (solver_micro_step).
func BenchmarkEstimator(b *testing.B) {
	const n, T = 64, 10
	c := DefaultConfig()
	c.N = n
	rng := rand.New(rand.NewPCG(1, 2))
	nn := n * n
	frames := make([]float64, (T+2)*nn)
	for j := range T + 2 {
		GaussianRandomField(frames[j*nn:(j+1)*nn], n, 1, 2.5, 7, rng)
	}
	hist, w := frames[:2*nn], frames[2*nn:]
	grad := make([]float64, T*nn)
	for _, mode := range []ResidualMode{ResidualTrajectoryBDF2, ResidualSolverMicroStep} {
		for _, withGrad := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/grad=%v", mode, withGrad), func(b *testing.B) {
				e, err := NewEstimator(EstimatorConfig{N: c.N, Flow: c.Flow, FrameDt: 0.2, Mode: mode})
				if err != nil {
					b.Fatal(err)
				}
				var g []float64
				if withGrad {
					g = grad
				}
				for b.Loop() {
					e.Eval(hist, w, T, g)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*T), "ns/frame")
			})
		}
	}
}
