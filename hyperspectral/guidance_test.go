package hyperspectral

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// guidanceScenes returns a synthetic scene that the linear mixing model
// explains to its noise (40 dB), and the same scene with every pixel scaled
// by an illumination factor 1 + 0.15 N(0, 1), which it cannot explain.
func guidanceScenes() (fits, scaled *mat.Dense) {
	r := rand.New(rand.NewPCG(3, 4))
	m := mat.NewDense(30, 3, nil)
	for i := range 30 {
		for j := range 3 {
			m.Set(i, j, 0.1+r.Float64())
		}
	}
	fits, _ = Synthetic(m, 20, 20, 0.3, 40, 5)
	scaled = mat.DenseCopyOf(fits)
	illuminate(scaled, 0.15, 7)
	return fits, scaled
}

// rrlbs with guidance auto keeps the learned map on a scene the mixing model
// explains to its noise (misfit ratio near 1) and takes h ≡ 1 where model
// error dominates (ratio above MisfitUniform), and says so; learned and
// uniform are honoured as requested, without a ratio.
func TestGuidanceAuto(t *testing.T) {
	fits, scaled := guidanceScenes()
	iters := 120
	run := func(y *mat.Dense, g Guidance) *Result {
		cfg := DefaultConfig()
		cfg.Endmembers, cfg.Rows, cfg.Cols = 3, 20, 20
		cfg.Iterations, cfg.Tol, cfg.Guidance = iters, 0, g
		res, err := Unmix(context.Background(), y, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	allOnes := func(h []float64) bool {
		for _, v := range h {
			if v != 1 {
				return false
			}
		}
		return true
	}
	if r := run(fits, GuidanceAuto); r.Guidance != GuidanceLearned || !(r.MisfitRatio > 0.5 && r.MisfitRatio < 2) || allOnes(r.GuidanceMap) {
		t.Errorf("scene fitted to its noise: guidance %s (%s), misfit ratio %.3g; want learned, ratio near 1", r.Guidance, r.GuidanceReason, r.MisfitRatio)
	}
	r := run(scaled, GuidanceAuto)
	if r.Guidance != GuidanceUniform || !(r.MisfitRatio > MisfitUniform) || !allOnes(r.GuidanceMap) {
		t.Errorf("scene with model error: guidance %s (%s), misfit ratio %.3g; want uniform, ratio above %g, h ≡ 1", r.Guidance, r.GuidanceReason, r.MisfitRatio, MisfitUniform)
	}
	t.Logf("auto on the scene with model error: %s", r.GuidanceReason)
	if r := run(scaled, GuidanceLearned); r.Guidance != GuidanceLearned || !math.IsNaN(r.MisfitRatio) || allOnes(r.GuidanceMap) {
		t.Errorf("requested learned: guidance %s, ratio %v", r.Guidance, r.MisfitRatio)
	}
	if r := run(fits, GuidanceUniform); r.Guidance != GuidanceUniform || !math.IsNaN(r.MisfitRatio) || !allOnes(r.GuidanceMap) {
		t.Errorf("requested uniform: guidance %s, ratio %v", r.Guidance, r.MisfitRatio)
	}
	// The choice is made at the start, before the first h-step: a run of
	// one iteration has it, and its map is h ≡ 1.
	iters = 1
	if r1 := run(scaled, GuidanceAuto); r1.Guidance != GuidanceUniform || math.Float64bits(r1.MisfitRatio) != math.Float64bits(r.MisfitRatio) || !allOnes(r1.GuidanceMap) {
		t.Errorf("one iteration: guidance %s (%s), ratio %v (the long run's %v)", r1.Guidance, r1.GuidanceReason, r1.MisfitRatio, r.MisfitRatio)
	}
	// Without a sparsity term the guidance has no effect, and says so.
	nc := DefaultConfig()
	nc.Endmembers, nc.Iterations, nc.Lambda = 3, 60, Kappa(0)
	if r, err := Unmix(context.Background(), scaled, nc, nil); err != nil || !strings.Contains(r.GuidanceReason, "no sparsity term") {
		t.Errorf("lambda 0: %v, %+v", err, r)
	}
	// Fewer pixels than bands: no noise estimate, so no choice, and the
	// reason says so.
	small := mat.DenseCopyOf(scaled.Slice(0, 30, 0, 25))
	sc := DefaultConfig()
	sc.Endmembers, sc.Iterations, sc.Tol = 3, 120, 0
	if r, err := Unmix(context.Background(), small, sc, nil); err != nil {
		t.Error(err)
	} else if r.Guidance != GuidanceLearned || !strings.Contains(r.GuidanceReason, "noise estimate") {
		t.Errorf("25 pixels, 30 bands: guidance %s (%s)", r.Guidance, r.GuidanceReason)
	}
	validateAt(t, "guidance learned with l12nmf", func(c *Config) { c.Method, c.Guidance = MethodL12NMF, GuidanceLearned }, "/guidance")
	validateAt(t, "guidance uniform with a fixed map", func(c *Config) { c.Guidance, c.FixedGuidance = GuidanceUniform, make([]float64, 400) }, "/guidance")
	validateAt(t, "empty guidance (auto)", func(c *Config) { c.Guidance = "" }, "")
}

// A state saved before the automatic guidance existed (no guidance in it),
// or by a run that had not yet made its choice (the rule once chose after 50
// iterations; the ratio is NaN in such a state), resumes with the learned
// map, as the run that saved it had.
func TestGuidanceLegacyResume(t *testing.T) {
	_, scaled := guidanceScenes()
	cfg := DefaultConfig()
	cfg.Endmembers, cfg.Rows, cfg.Cols, cfg.Iterations, cfg.Tol = 3, 20, 20, 120, 0
	cfg.Guidance = GuidanceLearned
	cfg.Mixing = MixingSumToOne // as before the mixing choice existed
	var saved *IterState
	it := 0
	whole, err := UnmixWith(context.Background(), scaled, cfg, nil, Options{
		Due:  func() bool { it++; return it == 37 },
		Save: func(s *IterState) error { saved = s; return nil },
	})
	if err != nil || saved == nil {
		t.Fatal(err)
	}
	cfg.Guidance, cfg.Mixing = GuidanceAuto, MixingAuto
	for _, tc := range []struct {
		name, reason string
		edit         func(map[string][]float64)
	}{
		{"no guidance in the state", "saved before the automatic guidance:", func(a map[string][]float64) {
			delete(a, "guidance")
			delete(a, "misfit_ratio")
			delete(a, "mixing")
		}},
		{"no choice yet", "saved before the automatic guidance chose", func(a map[string][]float64) {
			a["misfit_ratio"] = []float64{math.NaN()}
			delete(a, "mixing")
		}},
	} {
		st := &IterState{Iteration: saved.Iteration, History: saved.History, Arrays: maps.Clone(saved.Arrays)}
		tc.edit(st.Arrays)
		resumed, err := UnmixWith(context.Background(), scaled, cfg, nil, Options{Resume: st})
		if err != nil {
			t.Fatal(err)
		}
		if resumed.Mixing != MixingSumToOne || !strings.Contains(resumed.MixingReason, "before the mixing model could be chosen") {
			t.Errorf("%s: mixing %s (%s), want the sum-to-one model kept", tc.name, resumed.Mixing, resumed.MixingReason)
		}
		if resumed.Guidance != GuidanceLearned || !strings.Contains(resumed.GuidanceReason, tc.reason) {
			t.Errorf("%s: guidance %s (%s), want learned", tc.name, resumed.Guidance, resumed.GuidanceReason)
		}
		if i := firstBitDiff(whole.GuidanceMap, resumed.GuidanceMap); i >= 0 {
			t.Fatalf("%s: guidance map differs at %d from the learned run's", tc.name, i)
		}
	}
}
