package hyperspectral

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestOutlierRowSmall is the benchmark's outlier row at CI size: the §7.2
// synthetic scene (Jasper spectra, 40% pure pixels, 30 dB) on 40×40 pixels,
// 20 of its 198 bands made outliers (dead |N(0, 0.01²)| and hot
// |y + N(0, 1)|), every method from the same VCA start with its defaults.
// RRLbS (the data-driven λ, the Huber loss) must have the smallest mean SAD
// over the clean bands (measured: rrlbs 0.037, l21nmf 0.058, the start
// 0.063, l12nmf 0.146, nmf 0.180).
func TestOutlierRowSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("five unmixing runs of up to 1000 iterations")
	}
	m := jasperEndmembers(t)
	y, a := Synthetic(m, 40, 40, 0.4, 30, 2)
	y.Scale(1/mat.Max(y), y)
	bands := InjectOutlierBands(y, 20, 0.01, 1, 7)
	truth := &Truth{Endmembers: m, Abundances: a}
	sad := map[Method]float64{}
	for _, method := range Methods {
		cfg := DefaultConfig()
		cfg.Endmembers = 4
		cfg.Method = method
		cfg.Seed = 1
		cfg.Truth = truth
		cfg.OutlierBands = bands
		res := runUnmix(t, y, cfg)
		sad[method] = res.Metrics.MeanSAD
		if method == MethodRRLbS && res.LambdaRule != LambdaDiscrepancy {
			t.Errorf("rrlbs λ rule %q, want %q", res.LambdaRule, LambdaDiscrepancy)
		}
	}
	t.Logf("mean SAD: %v", sad)
	for method, v := range sad {
		if method != MethodRRLbS && sad[MethodRRLbS] >= v {
			t.Errorf("rrlbs mean SAD %.4f, %s %.4f", sad[MethodRRLbS], method, v)
		}
	}
}
