//go:build !amd64 || purego

package wavelet

// haveAVX is false where no vector kernels exist.
var haveAVX = false

func liftAVX32(dst, x, a, b *float32, n int, c, k float32) { panic("wavelet: no vector kernel") }
func liftAVX64(dst, x, a, b *float64, n int, c, k float64) { panic("wavelet: no vector kernel") }
func splitAVX32(s, d, x *float32, n int)                   { panic("wavelet: no vector kernel") }
func splitAVX64(s, d, x *float64, n int)                   { panic("wavelet: no vector kernel") }
func mergeAVX32(x, s, d *float32, n int)                   { panic("wavelet: no vector kernel") }
func mergeAVX64(x, s, d *float64, n int)                   { panic("wavelet: no vector kernel") }
