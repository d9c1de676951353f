package walloc

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLatents measures writing and reading .wlc files of synthetic
// latents with both codings, on one goroutine: the latents of a 512×512 RGB
// image at 16× (K = 12 channels of 64×64). MB/s counts latents (one byte
// each). The size metrics are those of the whole file: bits per latent, bpp
// of the 512×512 image, and the zeroth-order entropy of the latents per
// channel for comparison. Latents: companded i.i.d. Laplacian of scale b
// (in the encoder's units; the latents' mean magnitude is about 1.48·b),
// structured ones (structuredLatents) and linear WaLLoC on a synthetic
// image (linearLatents).
func BenchmarkLatents(b *testing.B) {
	const k, rows, cols = 12, 64, 64 // a 512×512 RGB image at 16×
	for _, tc := range []struct {
		name string
		q    []int8
	}{
		{"laplacian/b=0.5", iidLaplacian(rand.New(rand.NewPCG(1, 1)), k*rows*cols, 0.5)},
		{"laplacian/b=2", iidLaplacian(rand.New(rand.NewPCG(1, 2)), k*rows*cols, 2)},
		{"laplacian/b=8", iidLaplacian(rand.New(rand.NewPCG(1, 3)), k*rows*cols, 8)},
		{"structured/b=2", structuredLatents(rand.New(rand.NewPCG(1, 4)), k, rows, cols, 2)},
		{"linear-walloc", linearLatents(rand.New(rand.NewPCG(1, 5)), 8*rows, k, 20)},
	} {
		for _, coding := range []Coding{CodingRange, CodingPNG} {
			h := Header{Signal: Image, Coding: coding, Levels: 3, LatentChannels: k, Channels: 3, Height: 8 * rows, Width: 8 * cols}
			var buf bytes.Buffer
			if err := WriteLatents(&buf, h, tc.q); err != nil {
				b.Fatal(err)
			}
			file := buf.Bytes()
			size := func(b *testing.B) {
				b.ReportMetric(8*float64(len(file))/float64(len(tc.q)), "bits/latent")
				b.ReportMetric(BitsPerPixel(len(file), h), "bpp")
				b.ReportMetric(entropy0(tc.q, rows*cols), "H0-bits/latent")
			}
			b.Run(fmt.Sprintf("%s/%s/encode", tc.name, coding), func(b *testing.B) {
				b.SetBytes(int64(len(tc.q)))
				var w bytes.Buffer
				for b.Loop() {
					w.Reset()
					if err := WriteLatents(&w, h, tc.q); err != nil {
						b.Fatal(err)
					}
				}
				size(b)
			})
			b.Run(fmt.Sprintf("%s/%s/decode", tc.name, coding), func(b *testing.B) {
				b.SetBytes(int64(len(tc.q)))
				for b.Loop() {
					if _, _, err := ReadLatents(bytes.NewReader(file)); err != nil {
						b.Fatal(err)
					}
				}
				size(b)
			})
		}
	}
}
