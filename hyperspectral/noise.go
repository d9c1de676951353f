package hyperspectral

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// NoiseEstimate returns, per band, the standard deviation of the part of the
// band that the other bands cannot explain: band l of y (bands×pixels) is
// regressed by least squares on all the other bands, over the pixels, and
// σ_l² is the mean squared residual. This is the noise estimate of HySime
// (Bioucas-Dias & Nascimento, TGRS 2008): neighbouring bands are strongly
// correlated in the signal and nearly uncorrelated in the noise, so the
// residual is mostly noise. All L regressions come from one inverse: with
// G = Y Yᵀ, the residual of band l is (G⁻¹Y)ˡ / (G⁻¹)_ll, so its squared norm
// is 1/(G⁻¹)_ll. A small ridge (1e-9 of the mean diagonal) keeps G invertible
// when bands are collinear. Cost O(L²N + L³). It needs more pixels than
// bands.
func NoiseEstimate(y *mat.Dense) ([]float64, error) {
	l, n := y.Dims()
	if n <= l {
		return nil, fmt.Errorf("hyperspectral: noise estimate: %d pixels for %d bands; it needs more pixels than bands", n, l)
	}
	var g mat.SymDense
	g.SymOuterK(1, y)
	ridge := 1e-9 * mat.Trace(&g) / float64(l)
	for i := range l {
		g.SetSym(i, i, g.At(i, i)+ridge)
	}
	var ch mat.Cholesky
	if !ch.Factorize(&g) {
		return nil, fmt.Errorf("hyperspectral: noise estimate: the band Gram matrix is not positive definite")
	}
	var inv mat.SymDense
	if err := ch.InverseTo(&inv); err != nil {
		return nil, fmt.Errorf("hyperspectral: noise estimate: %w", err)
	}
	sigma := make([]float64, l)
	for i := range l {
		sigma[i] = math.Sqrt(1 / (inv.At(i, i) * float64(n)))
	}
	return sigma, nil
}
