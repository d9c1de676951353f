package walloc

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
)

// The rate–distortion benchmark against classical codecs is in
// bench/walloc, which runs them as external programs.

// BenchmarkCodec measures encoding (reflect padding, wavelet packet
// transform, 1×1 encoder, companding, range coding) and decoding (range
// decoding, decoder with its 32-wide 2-block CNN, inverse transform, 8-bit
// output) of the 512×512 astronaut with the linear PCA model at 16× and 4×,
// in megapixels per second of the thread's CPU time ("MP/s", what one core
// achieves even on a loaded machine) and of wall time ("wall-MP/s").
func BenchmarkCodec(b *testing.B) {
	img := loadImage(b, "astronaut.png")
	mp := float64(img.Bounds().Dx()*img.Bounds().Dy()) / 1e6
	for _, k := range []int{12, 48} {
		m := linearModel(b, k, 20)
		var file bytes.Buffer
		if err := Encode(&file, img, m); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("K=%d/encode", k), func(b *testing.B) {
			var w bytes.Buffer
			throughput(b, mp, func() {
				w.Reset()
				if err := Encode(&w, img, m); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(fmt.Sprintf("K=%d/decode", k), func(b *testing.B) {
			throughput(b, mp, func() {
				if _, err := Decode(bytes.NewReader(file.Bytes()), m); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// throughput runs f b.N times on a locked OS thread and reports megapixels
// per second of that thread's CPU time and of wall time.
func throughput(b *testing.B, mp float64, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f()
	c0 := threadCPU()
	for b.Loop() {
		f()
	}
	if cpu := threadCPU() - c0; c0 > 0 && cpu > 0 {
		b.ReportMetric(mp*float64(b.N)/cpu, "MP/s")
	}
	b.ReportMetric(mp*float64(b.N)/b.Elapsed().Seconds(), "wall-MP/s")
}
