//go:build !amd64 || purego

package mixed

// haveMixedKernels and have512 are false where no vector kernels exist.
var haveMixedKernels, have512 = false, false

func axpy32Vec(alpha float64, x *float32, y *float64, n int) { panic("mixed: no vector kernel") }

func dot32Vec(x *float32, y *float64, n int) float64 { panic("mixed: no vector kernel") }
