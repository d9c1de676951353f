package nn

import (
	"math"
	"testing"
)

// TestNormCDF compares the table polynomials with erfc and exp on a fine
// grid across all intervals and beyond: absolute errors below 4e-16 for
// Φ and φ (the erf-based formula's own rounding is about 1e-16).
func TestNormCDF(t *testing.T) {
	var worstC, worstD float64
	for x := -10.0; x <= 10; x += 1.0 / 1024 {
		for _, v := range []float64{x, x + 1e-9, math.Nextafter(x, -20)} {
			c, d := normCDF(v)
			wc := 0.5 * math.Erfc(-v/math.Sqrt2)
			wd := math.Exp(-0.5*v*v) / math.Sqrt(2*math.Pi)
			worstC = max(worstC, math.Abs(c-wc))
			worstD = max(worstD, math.Abs(d-wd))
		}
	}
	if worstC > 4e-16 || worstD > 4e-16 {
		t.Errorf("largest errors: Φ %.3g, φ %.3g", worstC, worstD)
	}
	for _, v := range []float64{math.Inf(1), math.Inf(-1)} {
		if c, d := normCDF(v); c != math.Max(0, math.Copysign(1, v)) || d != 0 {
			t.Errorf("normCDF(%v) = %v, %v", v, c, d)
		}
	}
	if c, d := normCDF(math.NaN()); !math.IsNaN(c) || !math.IsNaN(d) {
		t.Errorf("normCDF(NaN) = %v, %v", c, d)
	}
}

func BenchmarkGELU(b *testing.B) {
	x := NewTensor(1 << 16)
	for i := range x.Data {
		x.Data[i] = float64(i%4096)/512 - 4
	}
	a := NewActivation(ActGELU)
	b.SetBytes(8 << 16)
	for range b.N {
		a.Forward(x)
	}
}

func BenchmarkGELUErf(b *testing.B) {
	x := make([]float64, 1<<16)
	y := make([]float64, 1<<16)
	d := make([]float64, 1<<16)
	for i := range x {
		x[i] = float64(i%4096)/512 - 4
	}
	for range b.N {
		for i, v := range x {
			phi := 0.5 * (1 + math.Erf(v*invSqrt2))
			y[i] = v * phi
			d[i] = phi + v*invSqrt2Pi*math.Exp(-0.5*v*v)
		}
	}
}
