package wavelet

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// throughput runs f b.N times on a locked OS thread and reports its rate in
// units (MP or MS) per second twice: "<unit>/s" from the CPU time of that
// thread, which on a shared, loaded machine excludes the time spent waiting
// for a core, and "wall-<unit>/s" from the wall time.
func throughput(b *testing.B, per float64, unit string, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f()
	c0 := threadCPU()
	for b.Loop() {
		f()
	}
	work := per * float64(b.N)
	if cpu := threadCPU() - c0; c0 > 0 && cpu > 0 {
		b.ReportMetric(work/cpu, unit+"/s")
	}
	b.ReportMetric(work/b.Elapsed().Seconds(), "wall-"+unit+"/s")
}

// BenchmarkPacket2D measures the transform of an RGB image on one goroutine
// (one core), forward and inverse separately. MP counts image pixels (H·W,
// the three channels together), as the codec's throughput does.
func BenchmarkPacket2D(b *testing.B) {
	for _, tc := range []struct {
		size, levels int
		f64          bool
	}{{256, 3, false}, {512, 3, false}, {1024, 3, false}, {512, 4, false}, {512, 3, true}} {
		name := fmt.Sprintf("f32/%dx%d/RGB/J=%d", tc.size, tc.size, tc.levels)
		if tc.f64 {
			name = "f64" + name[3:]
			b.Run(name, func(b *testing.B) { benchPacket2D[float64](b, tc.size, tc.levels) })
		} else {
			b.Run(name, func(b *testing.B) { benchPacket2D[float32](b, tc.size, tc.levels) })
		}
	}
}

func benchPacket2D[T Float](b *testing.B, size, levels int) {
	p := NewPacket2D[T](size, size, levels)
	x := naturalImage[T](rand.New(rand.NewPCG(1, 1)), 3, size, size)
	y := make([]T, len(x))
	p.Forward(y, x)
	mp := float64(size*size) / 1e6
	b.Run("forward", func(b *testing.B) { throughput(b, mp, "MP", func() { p.Forward(y, x) }) })
	b.Run("inverse", func(b *testing.B) { throughput(b, mp, "MP", func() { p.Inverse(x, y) }) })
}

// BenchmarkPacket1D measures the J = 8 transform of stereo audio; MS counts
// the samples of both channels, as the paper's audio throughput does.
func BenchmarkPacket1D(b *testing.B) {
	for _, n := range []int{1 << 16, 1 << 19} {
		p := NewPacket1D[float32](n, 8)
		x := randSlice[float32](rand.New(rand.NewPCG(2, 2)), 2*n)
		y := make([]float32, len(x))
		p.Forward(y, x)
		ms := float64(2*n) / 1e6
		b.Run(fmt.Sprintf("f32/stereo/L=%d/J=8/forward", n), func(b *testing.B) {
			throughput(b, ms, "MS", func() { p.Forward(y, x) })
		})
		b.Run(fmt.Sprintf("f32/stereo/L=%d/J=8/inverse", n), func(b *testing.B) {
			throughput(b, ms, "MS", func() { p.Inverse(x, y) })
		})
	}
}
