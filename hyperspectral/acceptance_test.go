package hyperspectral

import (
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestShippedScenesRRLbSNoWorseThanNMF is the acceptance of the unmixing
// issue on every shipped scene with ground truth (Samson, Jasper Ridge): from
// the same start, VCA seed 0 and the shipped initial endmembers (Samson's M1,
// Jasper's M0 scaled to the data), RRLbS's mean SAD is at most NMF's, and on
// Jasper from M0 at most 0.085 rad (the start itself scores 0.093). Both run
// with the default parameters (stop rule, at most 1000 iterations). Measured
// (mean SAD, RRLbS / NMF, iterations): Samson VCA 0.0757 (900) / 0.1075
// (1000), Samson M1 0.0761 (850) / 0.1097 (1000), Jasper VCA 0.2112 (1000) /
// 0.3268 (1000), Jasper M0 0.0718 (1000) / 0.1523 (1000). The eight runs take
// about 25 s on two cores.
func TestShippedScenesRRLbSNoWorseThanNMF(t *testing.T) {
	if testing.Short() {
		t.Skip("eight runs on the shipped scenes")
	}
	samson := loadScene(t, "samson_dataset.mat")
	jy, jtruth, m0 := jasperSetup(t)
	for _, c := range []struct {
		name  string
		y     *mat.Dense
		truth *Truth
		init  *mat.Dense
		bound float64 // on RRLbS's mean SAD, 0 for none
	}{
		{"Samson, VCA seed 0", samson.Y, samson.Truth, nil, 0},
		{"Samson, shipped M1", samson.Y, samson.Truth, samson.Init, 0},
		{"Jasper, VCA seed 0", jy, jtruth, nil, 0},
		{"Jasper, shipped M0", jy, jtruth, m0, 0.085},
	} {
		sad := map[Method]float64{}
		for _, method := range []Method{MethodNMF, MethodRRLbS} {
			cfg := DefaultConfig()
			_, cfg.Endmembers = c.truth.Endmembers.Dims()
			cfg.Method = method
			cfg.Truth = c.truth
			if c.init != nil {
				cfg.Init, cfg.InitEndmembers = InitUpload, c.init
			}
			res := runUnmix(t, c.y, cfg)
			sad[method] = res.Metrics.MeanSAD
			t.Logf("%s, %s: mean SAD %.4f after %d iterations (%s)", c.name, method, res.Metrics.MeanSAD, res.Iterations, res.StoppedBy)
		}
		if sad[MethodRRLbS] > sad[MethodNMF] {
			t.Errorf("%s: RRLbS mean SAD %.4f > NMF's %.4f", c.name, sad[MethodRRLbS], sad[MethodNMF])
		}
		if c.bound > 0 && sad[MethodRRLbS] > c.bound {
			t.Errorf("%s: RRLbS mean SAD %.4f > %.3f", c.name, sad[MethodRRLbS], c.bound)
		}
	}
}
