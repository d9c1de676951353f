//go:build !amd64 || purego

package fft

// haveAVX is false where no vector kernels exist.
var haveAVX = false

func radix4AVX(y, x, tw *complex128, m, s, xp, xj, yp, yk, ts int, mask *[4]float64) {
	panic("fft: no vector kernel")
}

func radix2AVX(y, x, tw *complex128, m, s, xp, xj, yp, yk, ts int) { panic("fft: no vector kernel") }

func realPostAVX(spec, z, tw *complex128, m, v, h int) { panic("fft: no vector kernel") }

func realPreAVX(z, spec, tw *complex128, m, v, h int, hf float64) { panic("fft: no vector kernel") }

func transposeToRows(dst *complex128, ld int, src *complex128, v, n int) {
	panic("fft: no vector kernel")
}

func transposeFromRows(dst, src *complex128, ld, v, n int) { panic("fft: no vector kernel") }
