package hyperspectral

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestNoiseEstimate: a rank-4 mixture plus white noise whose standard
// deviation differs per band (from 0.005 to 0.02), and one band far noisier
// (0.3, an outlier band): the regression residuals recover every band's σ
// within −5% … +15%, although the signal is up to 100 times larger than the
// noise. The estimate errs upwards: the regressors carry noise too, and some
// of it enters the residual (more so for a quiet band among loud ones).
func TestNoiseEstimate(t *testing.T) {
	const l, n, k = 120, 4000, 4
	rng := rand.New(rand.NewPCG(1, 2))
	m := mat.NewDense(l, k, nil)
	m.Apply(func(_, _ int, _ float64) float64 { return rng.Float64() }, m)
	a := mat.NewDense(k, n, nil)
	a.Apply(func(_, _ int, _ float64) float64 { return rng.Float64() }, a)
	y := mat.NewDense(l, n, nil)
	y.Mul(m, a)
	want := make([]float64, l)
	for i := range l {
		want[i] = 0.005 * math.Pow(4, float64(i)/(l-1))
		if i == 17 {
			want[i] = 0.3
		}
		row := y.RawRowView(i)
		for j := range row {
			row[j] += want[i] * rng.NormFloat64()
		}
	}
	got, err := NoiseEstimate(y)
	if err != nil {
		t.Fatal(err)
	}
	for i := range l {
		if r := got[i] / want[i]; r < 0.95 || r > 1.15 {
			t.Errorf("band %d: σ %.4g, want %.4g (ratio %.3f)", i, got[i], want[i], r)
		}
	}
	if _, err := NoiseEstimate(mat.NewDense(5, 5, nil)); err == nil {
		t.Error("5 pixels for 5 bands: no error")
	}
}
