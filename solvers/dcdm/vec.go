package dcdm

import "gonum.org/v1/gonum/floats"

// dot returns xᵀy.
func dot(x, y []float64) float64 { return floats.Dot(x, y) }

// axpy sets y += a·x.
func axpy(y []float64, a float64, x []float64) { floats.AddScaled(y, a, x) }

// mask zeroes v on the inactive cells (solid, air and grounded), where the
// unknowns of a pressure system do not live.
func mask(v []float64, inactive []bool) {
	inactive = inactive[:len(v)]
	for i, in := range inactive {
		if in {
			v[i] = 0
		}
	}
}
