package stfno

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"eddy/nn"
)

// quadratic is the estimator-shaped loss ‖frames − target‖²/‖target‖².
type quadratic struct{ target []float64 }

func (q quadratic) Eval(history, frames []float64, T int, grad []float64) float64 {
	var s, tt float64
	for i, v := range frames {
		d := v - q.target[i]
		s += d * d
		tt += q.target[i] * q.target[i]
	}
	for i, v := range frames {
		if grad != nil {
			grad[i] = 2 * (v - q.target[i]) / tt
		}
	}
	return s / tt
}

// TestRefineMachinery checks the Spectral-Refiner on a quadratic loss
// whose minimiser the widened layer can reach (the prediction plus a
// field constant in time made of modes |k| ≤ 5 that the trained layer,
// keeping |k| < 2, cannot produce): the widened layer reproduces the
// unrefined prediction at iteration 0 (to rounding: the wider transform
// sums more, zero, terms; bound 1e-12 relative), the loss falls at least
// 10× in 60 iterations, and the model is unchanged.
func TestRefineMachinery(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	m, err := New(tinyConfig(), 5)
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, r)
	const tIn, tOut, n = 4, 3, 16
	input := bandLimited(r, tIn, n, 4)
	x := nn.TensorFrom(slices.Clone(input), 1, tIn, n, n)
	before := m.Forward(x, tOut).Clone()
	params := make([][]float64, 0)
	for _, p := range m.Params() {
		params = append(params, slices.Clone(p.Value.Data))
	}

	phi := bandLimited(r, 1, n, 5)
	target := slices.Clone(before.Data)
	for k := 0; k < tOut; k++ {
		for p := 0; p < n*n; p++ {
			target[k*n*n+p] += 0.3 * phi[p]
		}
	}
	est := quadratic{target}
	ctx := context.Background()
	rc := RefineConfig{Iterations: 0, BiasLR: 50, WeightLR: 1e-4} // bias steps of 50/N_out ≈ 2e-2
	res0, err := m.Refine(ctx, input, tIn, tOut, n, est, input, rc)
	if err != nil {
		t.Fatal(err)
	}
	if d := relDiff(res0.After, before.Data); !(d < 1e-12) {
		t.Errorf("widened layer at iteration 0 differs from the prediction by %.3g", d)
	}
	if d := relDiff(res0.Before, before.Data); d != 0 {
		t.Errorf("Before differs from Forward by %.3g", d)
	}
	if res0.Modes != [3]int{6, 6, 5} {
		t.Errorf("default modes %v, want [6 6 5] (2/3 rule on 16²; t limited by the output length T_out+T_lat+2 = 9)", res0.Modes)
	}

	rc.Iterations = 60
	res, err := m.Refine(ctx, input, tIn, tOut, n, est, input, rc)
	if err != nil {
		t.Fatal(err)
	}
	ratio := res.EstimatorBefore / res.EstimatorAfter
	t.Logf("loss %.3g → %.3g (%.1f×) in %d iterations, %.3f s", res.EstimatorBefore, res.EstimatorAfter, ratio, rc.Iterations, res.Seconds)
	if !(ratio >= 10) || len(res.Loss) != rc.Iterations+1 {
		t.Errorf("loss fell %.3g× (want ≥ 10), %d values", ratio, len(res.Loss))
	}
	if got := est.Eval(nil, res.After, tOut, nil); math.Abs(got-res.EstimatorAfter) > 1e-15 {
		t.Errorf("EstimatorAfter %v is not the loss of After, %v", res.EstimatorAfter, got)
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.Value.Data, params[i]) {
			t.Errorf("Refine changed parameter %s", p.Name)
		}
	}
	if y := m.Forward(x, tOut); !slices.Equal(y.Data, before.Data) {
		t.Error("Refine changed the model's output")
	}
}
