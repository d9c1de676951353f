//go:build amd64 && !purego

package mixed

import "golang.org/x/sys/cpu"

// haveMixedKernels reports whether the AVX2+FMA kernels of Upper may run,
// have512 whether their AVX-512 forms may. Tests switch them off to exercise
// the others and the portable loops.
var (
	haveMixedKernels = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	have512          = haveMixedKernels && cpu.X86.HasAVX512F
)

// axpy32Vec and dot32Vec run the widest kernels available.
func axpy32Vec(alpha float64, x *float32, y *float64, n int) {
	if have512 {
		axpy32AVX512(alpha, x, y, n)
		return
	}
	axpy32AVX(alpha, x, y, n)
}

func dot32Vec(x *float32, y *float64, n int) float64 {
	if have512 {
		return dot32AVX512(x, y, n)
	}
	return dot32AVX(x, y, n)
}

// axpy32AVX sets y[j] += α x[j] for j < n, n a multiple of 4.
//
//go:noescape
func axpy32AVX(alpha float64, x *float32, y *float64, n int)

// dot32AVX returns Σ_{j<n} x[j] y[j], n a multiple of 4.
//
//go:noescape
func dot32AVX(x *float32, y *float64, n int) float64

// axpy32AVX512 is axpy32AVX on AVX-512 registers.
//
//go:noescape
func axpy32AVX512(alpha float64, x *float32, y *float64, n int)

// dot32AVX512 is dot32AVX on AVX-512 registers.
//
//go:noescape
func dot32AVX512(x *float32, y *float64, n int) float64
