package hyperspectral

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// A run resumed from the state saved at iteration 37 ends bit-identical to
// an uninterrupted one, for every iterative method; for rrlbs also on a
// scene where the automatic guidance takes h ≡ 1 at the start, resumed
// from two iterations (these with the sum-to-one model); and with mixing
// auto, which runs the scaled model after the sum-to-one run on both
// scenes, from states saved in either run (the 157th and 197th saves: 119
// in the sum-to-one run of 120 iterations, then 38 and 78 in the scaled
// one).
func TestResumeIsBitIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := mat.NewDense(30, 3, nil)
	for i := range 30 {
		for j := range 3 {
			m.Set(i, j, 0.1+r.Float64())
		}
	}
	y, _ := Synthetic(m, 10, 12, 0.2, 40, 5)
	_, scaled := guidanceScenes()
	type resumeCase struct {
		method     Method
		y          *mat.Dense
		rows, cols int
		at         int
		mixing     Mixing
	}
	var cases []resumeCase
	for _, method := range []Method{MethodNMF, MethodL21NMF, MethodL12NMF, MethodRRLbS} {
		cases = append(cases, resumeCase{method, y, 10, 12, 37, MixingSumToOne})
	}
	cases = append(cases, resumeCase{MethodRRLbS, scaled, 20, 20, 37, MixingSumToOne}, resumeCase{MethodRRLbS, scaled, 20, 20, 77, MixingSumToOne},
		resumeCase{MethodRRLbS, y, 10, 12, 37, MixingAuto}, resumeCase{MethodRRLbS, y, 10, 12, 157, MixingAuto},
		resumeCase{MethodRRLbS, scaled, 20, 20, 197, MixingAuto})
	for _, tc := range cases {
		method, y, at := tc.method, tc.y, tc.at
		cfg := DefaultConfig()
		cfg.Method, cfg.Endmembers, cfg.Rows, cfg.Cols, cfg.Mixing = method, 3, tc.rows, tc.cols, tc.mixing
		cfg.Iterations, cfg.Tol = 120, 0
		whole, err := Unmix(context.Background(), y, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var saved *IterState
		it := 0
		_, err = UnmixWith(context.Background(), y, cfg, nil, Options{
			Due:  func() bool { it++; return it == at },
			Save: func(s *IterState) error { saved = s; return nil },
		})
		want := at
		if at >= cfg.Iterations {
			want = at - (cfg.Iterations - 1) // saved in the scaled run
		}
		if err != nil || saved == nil || saved.Iteration != want {
			t.Fatalf("%s: saved %+v, %v", method, saved, err)
		}
		resumed, err := UnmixWith(context.Background(), y, cfg, nil, Options{Resume: saved})
		if err != nil {
			t.Fatal(err)
		}
		same := func(name string, a, b []float64) {
			if len(a) != len(b) {
				t.Fatalf("%s %s: %d and %d values", method, name, len(a), len(b))
			}
			if i := firstBitDiff(a, b); i >= 0 {
				t.Fatalf("%s %s[%d]: resumed %v, uninterrupted %v", method, name, i, b[i], a[i])
			}
		}
		same("endmembers", whole.Endmembers.RawMatrix().Data, resumed.Endmembers.RawMatrix().Data)
		same("abundances", whole.Abundances.RawMatrix().Data, resumed.Abundances.RawMatrix().Data)
		same("objective", whole.ObjectiveHistory, resumed.ObjectiveHistory)
		same("guidance", whole.GuidanceMap, resumed.GuidanceMap)
		if whole.Guidance != resumed.Guidance || whole.GuidanceReason != resumed.GuidanceReason ||
			math.Float64bits(whole.MisfitRatio) != math.Float64bits(resumed.MisfitRatio) {
			t.Fatalf("%s from %d: resumed guidance %s (%s, %v), uninterrupted %s (%s, %v)", method, at,
				resumed.Guidance, resumed.GuidanceReason, resumed.MisfitRatio, whole.Guidance, whole.GuidanceReason, whole.MisfitRatio)
		}
		same("brightness", whole.Brightness, resumed.Brightness)
		if whole.Mixing != resumed.Mixing || whole.MixingReason != resumed.MixingReason ||
			math.Float64bits(whole.MixingAngle) != math.Float64bits(resumed.MixingAngle) {
			t.Fatalf("%s from %d: resumed mixing %s (%s), uninterrupted %s (%s)", method, at, resumed.Mixing, resumed.MixingReason, whole.Mixing, whole.MixingReason)
		}
		if tc.mixing == MixingAuto && whole.Mixing != MixingScaled {
			t.Fatalf("rrlbs kept the sum-to-one model (%s): the scaled run's resume is not exercised", whole.MixingReason)
		}
		if y == scaled && tc.mixing == MixingSumToOne && whole.Guidance != GuidanceUniform {
			t.Fatalf("the scene with model error kept guidance %s (%s): the switch is not exercised", whole.Guidance, whole.GuidanceReason)
		}
	}
}

// firstBitDiff returns the first index at which a and b differ bit for bit,
// or −1 when they agree up to the shorter one's length.
func firstBitDiff(a, b []float64) int {
	for i := range min(len(a), len(b)) {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}
