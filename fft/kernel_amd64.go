//go:build !purego

package fft

import "golang.org/x/sys/cpu"

// haveAVX reports whether the AVX2+FMA stage kernels may run. Tests switch it
// off to exercise the portable kernels.
var haveAVX = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func radix4AVX(y, x, tw *complex128, m, s, xp, xj, yp, yk, ts int, mask *[4]float64)

//go:noescape
func radix2AVX(y, x, tw *complex128, m, s, xp, xj, yp, yk, ts int)

//go:noescape
func realPostAVX(spec, z, tw *complex128, m, v, h int)

//go:noescape
func realPreAVX(z, spec, tw *complex128, m, v, h int, hf float64)

//go:noescape
func transposeToRows(dst *complex128, ld int, src *complex128, v, n int)

//go:noescape
func transposeFromRows(dst, src *complex128, ld, v, n int)
