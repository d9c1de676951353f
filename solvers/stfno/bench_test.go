package stfno

import (
	"context"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"eddy/nn"
	"eddy/pde/navierstokes"
)

// cpuTime returns the CPU time (user + system) of the process so far. On a
// shared machine cpu-ms/op is steadier than ns/op; with all cores busy
// the wall time of a step is about cpu-ms/op divided by the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchShape is one benchmark setting: the network, batch, grid and
// window.
type benchShape struct {
	name      string
	c         Config
	batch, n  int
	tIn, tOut int
}

func benchShapes() []benchShape {
	mini := DefaultConfig()
	mini.Activation = nn.ActGELU
	ref := Config{Width: 20, ModesX: 12, ModesY: 12, ModesT: 5, Layers: 4, TLat: 10, Expansion: 4,
		Activation: nn.ActGELU, Beta: 1e-2, Delta: 0.1}
	return []benchShape{
		{"fno-mini", mini, 4, 32, 10, 10},
		{"reference", ref, 4, 64, 10, 40},
	}
}

// BenchmarkTrainStep is one training step as Trainer takes it: forward,
// relative L² loss and backward data-parallel over GOMAXPROCS replicas,
// then an Adam step. fno-mini: batch 4, 32², width 8, modes (8, 8, 4),
// T 10 → 10, expansion 4, GELU; reference (spec §2, FNO data): batch 4,
// 64², width 20, modes (12, 12, 5), T 10 → 40, 4 layers, expansion 4.
func BenchmarkTrainStep(b *testing.B) {
	for _, s := range benchShapes() {
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			m, err := New(s.c, 1)
			if err != nil {
				b.Fatal(err)
			}
			frames := s.tIn + s.tOut
			data := make([]float64, s.batch*frames*s.n*s.n)
			for i := range data {
				data[i] = r.NormFloat64()
			}
			tc := TrainConfig{TIn: s.tIn, TOut: s.tOut, Epochs: 1, Batch: s.batch, LR: 1e-3, Seed: 1}
			split := Split{Train: []int{0, 1, 2, 3}[:s.batch]}
			tr, err := NewTrainer(m, data, s.batch, frames, s.n, split, tc)
			if err != nil {
				b.Fatal(err)
			}
			x, y := tr.load(split.Train, make([]int, s.batch))
			step := func() {
				if _, err := tr.dp.LossAndGrad(x, y, nn.RelL2{}); err != nil {
					b.Fatal(err)
				}
				tr.adam.Step()
			}
			step()
			b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
			b.ResetTimer()
			c0 := cpuTime()
			for range b.N {
				step()
			}
			b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N)*1e3, "cpu-ms/op")
		})
	}
}

// BenchmarkPredict is one forward pass of a batch, data-parallel.
func BenchmarkPredict(b *testing.B) {
	for _, s := range benchShapes() {
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			m, err := New(s.c, 1)
			if err != nil {
				b.Fatal(err)
			}
			x := nn.NewTensor(s.batch, s.tIn, s.n, s.n)
			x.FillNormal(r, 1)
			first := true
			dp := nn.NewDataParallel(runtime.GOMAXPROCS(0), func() nn.Layer {
				if first {
					first = false
					return &window{m, s.tOut}
				}
				r, _ := New(s.c, 0)
				return &window{r, s.tOut}
			})
			dp.Predict(x)
			b.ResetTimer()
			c0 := cpuTime()
			for range b.N {
				dp.Predict(x)
			}
			b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N)*1e3, "cpu-ms/op")
		})
	}
}

// BenchmarkRefineIteration is one Spectral-Refiner iteration of the
// fno-mini network at 64² (T 10 → 10, widened to modes (22, 22, 6)) with
// the H⁻¹ estimator of the BDF2 residual of the forced FNO flow: output
// operator forward and backward, estimator with gradient, Adam step. Each
// op is a refinement of 20 iterations; the metric ns/iter subtracts a
// refinement of 0 iterations (the latent, computed once per refinement).
func BenchmarkRefineIteration(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	m, err := New(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	const tIn, tOut, n, iters = 10, 10, 64, 20
	input := bandLimited(r, tIn, n, 8)
	flow := navierstokes.DefaultConfig().Flow
	est, err := navierstokes.NewEstimator(navierstokes.EstimatorConfig{N: n, Flow: flow, FrameDt: 0.2})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	refine := func(it int) float64 {
		res, err := m.Refine(ctx, input, tIn, tOut, n, est, input, RefineConfig{Iterations: it, BiasLR: 20, WeightLR: 1e-4})
		if err != nil {
			b.Fatal(err)
		}
		return res.Seconds
	}
	refine(iters)
	b.ResetTimer()
	var per float64
	for range b.N {
		per += (refine(iters) - refine(0)) / iters
	}
	b.ReportMetric(per/float64(b.N)*1e9, "ns/iter")
}

// BenchmarkWindow compares the two ways to get the next 10 frames (2 time
// units) of one forced-flow trajectory at 64² from its state (spec §6 F):
// the pseudo-spectral solver (IMEX Euler–CN, dt = 1e-3, the data's scheme:
// 2000 steps), one ST-FNO evaluation of the fno-mini network, and the
// evaluation plus 100 refinement iterations. Both run on one core
// (GOMAXPROCS is not changed; the solver is set to one worker and the
// network runs one sample).
func BenchmarkWindow(b *testing.B) {
	const n, tIn, tOut = 64, 10, 10
	cfg := navierstokes.DefaultConfig()
	cfg.N = n
	b.Run("solver", func(b *testing.B) {
		s, err := navierstokes.NewSolver(cfg)
		if err != nil {
			b.Fatal(err)
		}
		s.SetWorkers(1)
		b.ResetTimer()
		for range b.N {
			for range 2000 {
				s.Step()
			}
		}
	})
	r := rand.New(rand.NewPCG(1, 1))
	m, err := New(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	input := bandLimited(r, tIn, n, 8)
	b.Run("stfno", func(b *testing.B) {
		x := nn.TensorFrom(append([]float64(nil), input...), 1, tIn, n, n)
		m.Forward(x, tOut)
		b.ResetTimer()
		for range b.N {
			m.Forward(x, tOut)
		}
	})
	b.Run("stfno+refine100", func(b *testing.B) {
		est, err := navierstokes.NewEstimator(navierstokes.EstimatorConfig{N: n, Flow: cfg.Flow, FrameDt: 0.2})
		if err != nil {
			b.Fatal(err)
		}
		rc := RefineConfig{Iterations: 100, BiasLR: 20, WeightLR: 1e-4}
		for range b.N {
			x := nn.TensorFrom(append([]float64(nil), input...), 1, tIn, n, n)
			m.Forward(x, tOut)
			if _, err := m.Refine(context.Background(), input, tIn, tOut, n, est, input, rc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
