package nn

import (
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"eddy/blas"
)

// cpuTime returns the user + system CPU time of the process. Benchmarks
// report it per operation next to the wall time because the machine is
// shared: CPU time is what the computation costs whatever else runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// referenceFNO is the benchmark configuration of the issue: width 32,
// 12×12 modes, 4 Fourier layers, on 64² grids with inputs (u, x, y).
var referenceFNO = FNOConfig{In: 3, Out: 1, Width: 32, Modes: []int{12, 12}, Layers: 4, ProjWidth: 128, Activation: ActGELU}

func benchFNOStep(b *testing.B, cfg FNOConfig, workers int) {
	b.Logf("gemm engine: %s, workers %d", blas.Engine(), workers)
	r := rand.New(rand.NewPCG(60, 1))
	dp := NewDataParallel(workers, func() Layer {
		m, err := NewFNO(cfg, rand.New(rand.NewPCG(61, 1)))
		if err != nil {
			b.Fatal(err)
		}
		return m
	})
	x := randTensor(r, 8, 3, 64, 64)
	y := randTensor(r, 8, 1, 64, 64)
	opt := NewAdam(ParamGroup{Params: dp.Params(), LR: 1e-3})
	step := func() {
		if _, err := dp.LossAndGrad(x, y, RelL2{}); err != nil {
			b.Fatal(err)
		}
		opt.Step()
	}
	step()
	c0 := cpuTime()
	for b.Loop() {
		step()
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/step")
	b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N), "cpu-s/step")
}

// BenchmarkFNOTrainStep is one training step (forward, backward, Adam) of
// the reference FNO on a batch of 8 samples of 64², data-parallel over
// GOMAXPROCS goroutines. Goal of the issue: ≤ 0.3 s on 2 cores.
func BenchmarkFNOTrainStep(b *testing.B) {
	b.Run("parallel", func(b *testing.B) { benchFNOStep(b, referenceFNO, runtime.GOMAXPROCS(0)) })
	b.Run("serial", func(b *testing.B) { benchFNOStep(b, referenceFNO, 1) })
	for _, act := range []ActivationKind{ActGELUTanh, ActReLU} {
		cfg := referenceFNO
		cfg.Activation = act
		b.Run("serial/"+string(act), func(b *testing.B) { benchFNOStep(b, cfg, 1) })
	}
}

// gemmPeak returns the engine's single-call GFLOP/s on a 512³ product, the
// reference for the convolution benchmarks.
func gemmPeak(b *testing.B) float64 {
	const n = 512
	r := rand.New(rand.NewPCG(62, 1))
	a, c := randTensor(r, n, n), NewTensor(n, n)
	blas.Dgemm(false, false, n, n, n, 1, a.Data, n, a.Data, n, 0, c.Data, n)
	best := 0.0
	for range 5 {
		t0 := time.Now()
		blas.Dgemm(false, false, n, n, n, 1, a.Data, n, a.Data, n, 0, c.Data, n)
		best = max(best, 2*n*n*n/time.Since(t0).Seconds()/1e9)
	}
	return best
}

func benchConv(b *testing.B, dims int, shape []int) {
	r := rand.New(rand.NewPCG(63, 1))
	c := NewConv(dims, 16, 16, 3, true, r)
	x := randTensor(r, shape...)
	dy := randTensor(r, shape...)
	step := func() {
		c.Forward(x)
		c.Backward(dy)
	}
	step()
	peak := gemmPeak(b)
	k := 1
	for range dims {
		k *= 3
	}
	flops := 3 * 2 * float64(x.Len()) * 16 * float64(k) // forward, dW and dx
	c0 := cpuTime()
	for b.Loop() {
		step()
	}
	cpu := (cpuTime() - c0).Seconds() / float64(b.N)
	b.ReportMetric(flops/(b.Elapsed().Seconds()/float64(b.N))/1e9, "GFLOP/s")
	b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
	b.ReportMetric(peak, "peak-GFLOP/s")
}

// BenchmarkConv is forward + backward (input and weight gradients) of a
// single-threaded 16→16 convolution: 3×3 on 8×64² and 3×3×3 on 1×32³.
// GFLOP/s counts 3 × 2·N·S·16·16·k^d flops per pass; peak-GFLOP/s is the
// GEMM engine's 512³ rate measured in the same run (goal: conv ≥ 60% of it).
func BenchmarkConv(b *testing.B) {
	b.Run("3x3/8x16x64x64", func(b *testing.B) { benchConv(b, 2, []int{8, 16, 64, 64}) })
	b.Run("3x3x3/1x16x32x32x32", func(b *testing.B) { benchConv(b, 3, []int{1, 16, 32, 32, 32}) })
}

// BenchmarkSpectralConvMethods times Forward + Backward of a spectral
// convolution by truncated DFT matrices and by FFT on the shapes of the
// method families (per worker), and reports which one SpectralAuto picks.
// It calibrates fftFlopCost.
func BenchmarkSpectralConvMethods(b *testing.B) {
	for _, c := range []struct {
		name        string
		batch, ch   int
		grid, modes []int
	}{
		{"FNO-2d/4x32x64x64/m12", 4, 32, []int{64, 64}, []int{12, 12}},
		{"STFNO/2x20x64x64x10/m12-12-5", 2, 20, []int{64, 64, 10}, []int{12, 12, 5}},
		{"refiner/1x1x64x64x22/m21-21-6", 1, 1, []int{64, 64, 22}, []int{21, 21, 6}},
		{"refiner/1x1x256x256x22/m64-64-6", 1, 1, []int{256, 256, 22}, []int{64, 64, 6}},
		{"FNO-1d/8x16x1024/m16", 8, 16, []int{1024}, []int{16}},
		{"FNO-2d/4x32x256x256/m32", 4, 32, []int{256, 256}, []int{32, 32}},
	} {
		for _, m := range []SpectralMethod{SpectralDFT, SpectralFFT} {
			b.Run(c.name+"/"+string(m), func(b *testing.B) {
				r := rand.New(rand.NewPCG(64, 1))
				s := NewSpectralConv(c.ch, c.ch, c.modes, true, r)
				s.Method = m
				x := randTensor(r, append([]int{c.batch, c.ch}, c.grid...)...)
				y := s.Forward(x)
				dy := randTensor(r, y.Shape...)
				auto := NewSpectralConv(c.ch, c.ch, c.modes, true, r)
				auto.Forward(x)
				if m == SpectralDFT {
					p := auto.last
					var dft float64
					for _, st := range append(append([]*dftStep(nil), p.fwd...), p.inv...) {
						dft += 2 * float64(st.m) * float64(st.n) * float64(st.k)
					}
					if p.fft != nil {
						dft = -1 // stages dropped
					}
					ff := fftFlops(p.in, auto.Modes, p.batch*auto.In) + fftFlops(p.out, auto.Modes, p.batch*auto.Out)
					b.Logf("auto picks fft: %v; transform Mflop: dft %.1f, fft %.1f", p.fft != nil, dft/1e6, ff/1e6)
				}
				c0 := cpuTime()
				for b.Loop() {
					s.Forward(x)
					s.Backward(dy)
				}
				b.ReportMetric((cpuTime()-c0).Seconds()/float64(b.N)*1e3, "cpu-ms/op")
			})
		}
	}
}

// BenchmarkConvKernel is the AVX-512 direct-convolution kernel alone on
// cache-resident data (8 output channels × 16 points, 144 taps): the
// arithmetic ceiling of the convolution layers.
func BenchmarkConvKernel(b *testing.B) {
	if !hasConvKernel {
		b.Skip("no AVX-512 kernel in this build or on this CPU")
	}
	const K = 144
	w := make([]float64, K*8)
	x := make([]float64, 2048)
	offs := make([]int64, K)
	for q := range offs {
		offs[q] = int64(8 * (q%3 + 66*(q/3%3)))
	}
	y := make([]float64, 8*256)
	for b.Loop() {
		convKernel8x16(&w[0], &x[0], &offs[0], K, &y[0], 256*8)
	}
	b.ReportMetric(2*K*8*16*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
