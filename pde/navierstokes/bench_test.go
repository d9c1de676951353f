package navierstokes

import (
	"context"
	"fmt"
	"testing"
	"time"

	"eddy/fft"
)

// BenchmarkStep measures one RK4–CN step (five evaluations of F) for one
// trajectory of the forced GRF case, with 1 and 2 workers (ns/op covers the
// step and its floor; steps/s is the step alone).
// Reported metrics: steps/s, and x_floor = step time / FFT floor, where the
// floor is the time of the step's 20 real 2-D transforms alone (5 × a batch
// of 2 inverse + a batch of 2 forward) with full (untruncated) plans of the
// same worker count, measured in the same run. The solver skips the columns
// that the 2/3 rule discards (fft.Real.SetTruncation), so it can beat the
// floor.
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
				// FFT floor: full plans, the solver's buffers, timed between
				// the steps so that both see the same machine load.
				p := fft.NewReal(n, n)
				p.SetWorkers(w)
				p.Inverse(s.grid, s.spec)
				var step, floor time.Duration
				for b.Loop() {
					t0 := time.Now()
					s.Step()
					t1 := time.Now()
					for range 5 {
						p.Inverse(s.grid, s.spec)
						p.Forward(s.spec, s.grid)
					}
					step += t1.Sub(t0)
					floor += time.Since(t1)
				}
				// The solver's state is untouched by the floor transforms
				// (they only overwrite its scratch).
				b.ReportMetric(float64(b.N)/step.Seconds(), "steps/s")
				b.ReportMetric(step.Seconds()/floor.Seconds(), "x_floor")
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

// BenchmarkSimulateOne runs one RK4–CN trajectory of 20 steps with 3
// snapshots at n = 64, 256, 512 over GOMAXPROCS (for peak-memory
// measurements of a whole run: run one size at a time under /usr/bin/time).
func BenchmarkSimulateOne(b *testing.B) {
	for _, n := range []int{64, 256, 512} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			c := DefaultConfig()
			c.N, c.Scheme, c.TEnd, c.SnapshotDt = n, SchemeRK4CN, 0.02, 0.01
			for b.Loop() {
				if _, err := Simulate(context.Background(), c, nil); err != nil {
					b.Fatal(err)
				}
			}
			e := c.Estimate(1)
			b.ReportMetric(float64(e.MemoryBytes())/1e6, "est_MB")
		})
	}
}
