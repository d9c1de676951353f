package navierstokes

import (
	"context"
	"fmt"
	"testing"
	"time"

	"eddy/fft"
)

// BenchmarkStep measures one RK4–CN step (five evaluations of F) for one
// trajectory of the forced GRF case, with 1 and 2 workers in the transforms.
// Reported metrics: steps/s, and x_floor = step time / FFT floor, where the
// floor is the time of the step's 25 real 2-D transforms alone (5 × a batch
// of 4 inverse + 1 forward) with full (untruncated) plans of the same worker
// count, measured in the same run. The solver skips the columns that the 2/3
// rule discards (fft.Real.SetTruncation), so it can beat the floor.
func BenchmarkStep(b *testing.B) {
	for _, n := range []int{64, 256, 512} {
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/workers=%d", n, w), func(b *testing.B) {
				c := DefaultConfig()
				c.N, c.Scheme = n, SchemeRK4CN
				s, err := NewSolver(c)
				if err != nil {
					b.Fatal(err)
				}
				s.SetWorkers(w)
				w0 := make([]float64, n*n)
				initialField(w0, c, 0)
				s.SetVorticity(w0)
				start := time.Now()
				for b.Loop() {
					s.Step()
				}
				step := time.Since(start).Seconds() / float64(b.N)
				// FFT floor: full plans, the solver's buffers.
				p := fft.NewReal(n, n)
				p.SetWorkers(w)
				p.Inverse(s.grid, s.spec)
				reps := max(1, b.N/4)
				t0 := time.Now()
				for range reps {
					for range 5 {
						p.Inverse(s.grid, s.spec)
						p.Forward(s.f1, s.prod)
					}
				}
				floor := time.Since(t0).Seconds() / float64(reps)
				b.ReportMetric(1/step, "steps/s")
				b.ReportMetric(step/floor, "x_floor")
			})
		}
	}
}

// BenchmarkSimulate16x64 runs the acceptance job of the issue: 16 GRF samples
// of the forced FNO case at 64² from t = 0 to 10 (IMEX Euler–CN, Δt = 1e-3,
// snapshots every 0.2), all samples in parallel over GOMAXPROCS.
func BenchmarkSimulate16x64(b *testing.B) {
	c := DefaultConfig()
	c.Samples = 16
	for b.Loop() {
		if _, err := Simulate(context.Background(), c, nil); err != nil {
			b.Fatal(err)
		}
	}
}
