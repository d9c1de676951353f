package hyperspectral

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// brightScene returns a synthetic scene of three random spectra, one of
// them dark (a quarter of the others' level, like water beside soil and
// trees), whose pixels are scaled by a brightness 1 + spread·N(0, 1)
// (floored at 0.4), with the endmembers, the abundances and the
// brightness.
func brightScene(spread float64, seed uint64) (y, m, a *mat.Dense, bright []float64) {
	r := rand.New(rand.NewPCG(seed, 0xb41))
	m = mat.NewDense(40, 3, nil)
	for i := range 40 {
		for j := range 3 {
			v := 0.2 + r.Float64()
			if j == 2 {
				v *= 0.25
			}
			m.Set(i, j, v)
		}
	}
	y, a = Synthetic(m, 30, 30, 0.2, 35, seed)
	_, n := y.Dims()
	bright = make([]float64, n)
	for p := range n {
		bright[p] = max(0.4, 1+spread*r.NormFloat64())
		col := y.ColView(p).(*mat.VecDense)
		col.ScaleVec(bright[p], col)
	}
	return y, m, a, bright
}

// The scaled model recovers the endmembers and abundances of a scene whose
// pixels vary in brightness better than the sum-to-one model, for which the
// dark endmember serves as shade, and its brightness map follows the true
// one. Its objective is checked against the definition in
// TestObjectiveMatchesDefinition.
func TestScaledModelRecoversBrightness(t *testing.T) {
	y, m, a, bright := brightScene(0.25, 11)
	truth := &Truth{Endmembers: m, Abundances: a}
	run := func(method Method, mixing Mixing) *Result {
		cfg := DefaultConfig()
		cfg.Endmembers, cfg.Method, cfg.Mixing, cfg.Truth = 3, method, mixing, truth
		res, err := Unmix(t.Context(), y, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, method := range []Method{MethodNMF, MethodRRLbS} {
		one, scaled := run(method, MixingSumToOne), run(method, MixingScaled)
		t.Logf("%s: mean SAD sum-to-one %.4f, scaled %.4f; RMSE %.4f, %.4f", method, one.Metrics.MeanSAD, scaled.Metrics.MeanSAD, one.Metrics.MeanRMSE, scaled.Metrics.MeanRMSE)
		if one.Mixing != MixingSumToOne || one.Brightness != nil || scaled.Mixing != MixingScaled || scaled.Brightness == nil {
			t.Fatalf("%s: mixing %s (brightness %d values) and %s (%d)", method, one.Mixing, len(one.Brightness), scaled.Mixing, len(scaled.Brightness))
		}
		if !(scaled.Metrics.MeanSAD < 0.5*one.Metrics.MeanSAD) {
			t.Errorf("%s: scaled model's mean SAD %.4f, sum-to-one %.4f: want under half", method, scaled.Metrics.MeanSAD, one.Metrics.MeanSAD)
		}
		if !(scaled.Metrics.MeanRMSE < 0.5*one.Metrics.MeanRMSE) {
			t.Errorf("%s: scaled model's abundance RMSE %.4f, sum-to-one %.4f: want under half", method, scaled.Metrics.MeanRMSE, one.Metrics.MeanRMSE)
		}
		// With each endmember's mean brightness 1 (balanceBrightness) the
		// map follows the truth over the whole scene.
		if c := stat.Correlation(scaled.Brightness, bright, nil); !(c > 0.9) {
			t.Errorf("%s: the brightness correlates with the truth by %.3f, want > 0.9", method, c)
		}
		// And on the pure pixels of each endmember, where it is the
		// truth's up to that endmember's scale, closely.
		for j := range 3 {
			var got, want []float64
			for p, v := range a.RawRowView(j) {
				if v == 1 {
					got, want = append(got, scaled.Brightness[p]), append(want, bright[p])
				}
			}
			if c := stat.Correlation(got, want, nil); !(c > 0.95) {
				t.Errorf("%s: on the %d pure pixels of endmember %d the brightness correlates with the truth by %.3f, want > 0.95", method, len(got), j, c)
			}
		}
		if mean := stat.Mean(scaled.Brightness, nil); math.Abs(mean-1) > 1e-9 {
			t.Errorf("%s: mean brightness %v, want 1", method, mean)
		}
	}
}

// mixing auto: rrlbs runs the scaled model after its sum-to-one run when
// the endmembers it found are far apart, keeps the sum-to-one model when two
// differ mainly in brightness, and says why; the other methods keep the
// sum-to-one model; scaled is refused for vca_fcls, which does not iterate.
func TestMixingAuto(t *testing.T) {
	y, m, a, _ := brightScene(0.25, 11)
	cfg := DefaultConfig()
	cfg.Endmembers, cfg.Truth = 3, &Truth{Endmembers: m, Abundances: a}
	res, err := Unmix(t.Context(), y, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mixing != MixingScaled || !(res.MixingAngle > MixingAngle) || !strings.Contains(res.MixingReason, "scaled model") || res.Brightness == nil {
		t.Errorf("far-apart endmembers: mixing %s at angle %.3f (%s)", res.Mixing, res.MixingAngle, res.MixingReason)
	}
	cfg.Mixing = MixingScaled
	forced, err := Unmix(t.Context(), y, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The scaled run starts from the same (M₀, A₀) with the same choices.
	if i := firstBitDiff(res.Endmembers.RawMatrix().Data, forced.Endmembers.RawMatrix().Data); i >= 0 {
		t.Errorf("auto's scaled run differs from mixing scaled at %d", i)
	}

	// Two endmembers 0.12 rad apart, the second darker: the sum-to-one
	// model is kept.
	r := rand.New(rand.NewPCG(5, 6))
	m2 := mat.NewDense(40, 3, nil)
	for i := range 40 {
		v := 0.3 + r.Float64()
		m2.Set(i, 0, v)
		m2.Set(i, 1, 0.5*v*(1+0.12*r.NormFloat64()))
		m2.Set(i, 2, 0.3+r.Float64())
	}
	y2, a2 := Synthetic(m2, 30, 30, 0.3, 35, 3)
	cfg = DefaultConfig()
	cfg.Endmembers, cfg.Truth = 3, &Truth{Endmembers: m2, Abundances: a2}
	res, err = Unmix(t.Context(), y2, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mixing != MixingSumToOne || !(res.MixingAngle <= MixingAngle) || !strings.Contains(res.MixingReason, "kept") || res.Brightness != nil {
		t.Errorf("endmembers apart by brightness: mixing %s at angle %.3f (%s)", res.Mixing, res.MixingAngle, res.MixingReason)
	}

	// The param is checked without the data.
	validateAt(t, "scaled with vca_fcls", func(c *Config) { c.Method, c.Mixing = MethodVCAFCLS, MixingScaled }, "/mixing")
	validateAt(t, "unknown model", func(c *Config) { c.Mixing = "bright" }, "/mixing")
	validateAt(t, "empty mixing (auto)", func(c *Config) { c.Mixing = "" }, "")
	validateAt(t, "scaled with nmf", func(c *Config) { c.Method, c.Mixing = MethodNMF, MixingScaled }, "")

	cfg = DefaultConfig()
	cfg.Endmembers, cfg.Method = 3, MethodL12NMF
	res, err = Unmix(t.Context(), y, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mixing != MixingSumToOne || !math.IsNaN(res.MixingAngle) {
		t.Errorf("l12nmf with mixing auto: %s, angle %v", res.Mixing, res.MixingAngle)
	}
}
