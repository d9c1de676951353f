//go:build !purego

package wavelet

import "golang.org/x/sys/cpu"

// haveAVX reports whether the AVX2+FMA kernels may run. Tests switch it off
// to exercise the portable code.
var haveAVX = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// liftAVX32 sets dst[j] = k·(x[j] + c·(a[j] + b[j])) for j < n; dst may be x.
//
//go:noescape
func liftAVX32(dst, x, a, b *float32, n int, c, k float32)

// liftAVX64 is liftAVX32 for float64.
//
//go:noescape
func liftAVX64(dst, x, a, b *float64, n int, c, k float64)

// splitAVX32 sets s[i] = x[2i] and d[i] = x[2i+1] for i < n.
//
//go:noescape
func splitAVX32(s, d, x *float32, n int)

// splitAVX64 is splitAVX32 for float64.
//
//go:noescape
func splitAVX64(s, d, x *float64, n int)

// mergeAVX32 sets x[2i] = s[i] and x[2i+1] = d[i] for i < n.
//
//go:noescape
func mergeAVX32(x, s, d *float32, n int)

// mergeAVX64 is mergeAVX32 for float64.
//
//go:noescape
func mergeAVX64(x, s, d *float64, n int)
