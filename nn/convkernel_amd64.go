//go:build amd64 && !purego

package nn

import "golang.org/x/sys/cpu"

// hasConvKernel reports whether the AVX-512 direct-convolution kernels can
// run on this CPU (and operating system).
var hasConvKernel = cpu.X86.HasAVX512F

//go:noescape
func convKernel8x16(w *float64, x *float64, off *int64, k int, y *float64, ystride int)

//go:noescape
func convKernel8x8(w *float64, x *float64, off *int64, k int, y *float64, ystride int)

//go:noescape
func convGradKernel4x6(dy *float64, dystride int, x *float64, offs *int64, rows int, rowDy int, rowX int, nvec int, acc *float64)
