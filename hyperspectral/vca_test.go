package hyperspectral

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestVCANoiseFree: with pure pixels and no noise, the vertices of the data
// simplex are exactly the endmembers, so VCA must return them (SAD ≈ 0, up to
// the rounding of the eigen-decomposition) and pick pure pixels.
func TestVCANoiseFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	l, k := 40, 5
	m := mat.NewDense(l, k, nil)
	for i := range l {
		for j := range k {
			m.Set(i, j, 0.1+rng.Float64())
		}
	}
	y, a := Synthetic(m, 30, 30, 0.1, 400, 9) // 400 dB: noise at rounding level
	for seed := range uint64(5) {
		est, pixels, err := VCA(context.Background(), y, k, seed)
		if err != nil {
			t.Fatal(err)
		}
		met, err := Evaluate(est, nil, &Truth{Endmembers: m}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if met.MeanSAD > 1e-6 {
			t.Errorf("seed %d: mean SAD %v, want ≈ 0", seed, met.MeanSAD)
		}
		for _, p := range pixels {
			if slices.Max(mat.Col(nil, p, a)) < 1-1e-12 {
				t.Errorf("seed %d: pixel %d is not pure: %v", seed, p, mat.Col(nil, p, a))
			}
		}
	}
}

// TestVCANoisyJasper: on the synthetic Jasper data (30 dB) every seed must
// find all four endmembers. A found endmember is within a few hundredths of a
// radian; a missed one (two picks of the same material) has an angle above
// 0.5 rad, so 0.1 rad separates the two cases.
func TestVCANoisyJasper(t *testing.T) {
	m := jasperEndmembers(t)
	for seed := uint64(1); seed <= 6; seed++ {
		y, _ := Synthetic(m, 60, 60, 0.4, 30, seed)
		est, _, err := VCA(context.Background(), y, 4, seed)
		if err != nil {
			t.Fatal(err)
		}
		met, err := Evaluate(est, nil, &Truth{Endmembers: m}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Max(met.SAD) > 0.1 {
			t.Errorf("seed %d: SAD per endmember %.3f, want all < 0.1", seed, met.SAD)
		}
	}
}

func TestVCADeterministicAndErrors(t *testing.T) {
	y := mat.NewDense(5, 20, nil)
	rng := rand.New(rand.NewPCG(6, 6))
	for i := range 5 {
		for j := range 20 {
			y.Set(i, j, rng.Float64())
		}
	}
	_, p1, err1 := VCA(context.Background(), y, 3, 42)
	_, p2, err2 := VCA(context.Background(), y, 3, 42)
	if err1 != nil || err2 != nil || !slices.Equal(p1, p2) {
		t.Errorf("same seed: %v %v (%v, %v)", p1, p2, err1, err2)
	}
	if _, _, err := VCA(context.Background(), y, 6, 0); err == nil {
		t.Errorf("K > bands: no error")
	}
	if _, _, err := VCA(context.Background(), y, 1, 0); err != nil {
		t.Errorf("K = 1: %v", err)
	}
}
