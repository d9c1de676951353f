//go:build !amd64 || purego

package nn

const hasConvKernel = false

func convKernel8x16(w *float64, x *float64, off *int64, k int, y *float64, ystride int) {
	panic("nn: no direct convolution kernel in this build")
}

func convKernel8x8(w *float64, x *float64, off *int64, k int, y *float64, ystride int) {
	panic("nn: no direct convolution kernel in this build")
}

func convGradKernel4x6(dy *float64, dystride int, x *float64, offs *int64, rows int, rowDy int, rowX int, nvec int, acc *float64) {
	panic("nn: no direct convolution kernel in this build")
}
