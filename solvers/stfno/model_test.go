package stfno

import (
	"math"
	"math/rand/v2"
	"testing"

	"eddy/nn"
)

// tinyConfig is a network small enough for finite differences.
func tinyConfig() Config {
	return Config{Width: 5, ModesX: 2, ModesY: 3, ModesT: 2, Layers: 3, TLat: 4, Expansion: 2,
		Activation: nn.ActGELU, Beta: 1e-2, Delta: 0.1}
}

// randomize gives every parameter (biases of the spectral operators
// included, which start at 0) a generic value, so that no gradient is
// trivially zero.
func randomize(m *Model, r *rand.Rand) {
	for _, p := range m.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] += 0.1 * r.NormFloat64()
		}
	}
}

// TestGradient compares Backward with fourth-order central differences of
// L = Σ w ⊙ Forward(x) for every parameter tensor (6 entries each) and the
// input. With step h the difference errs by O(h⁴·f⁽⁵⁾) + O(ε·|L|/h); the
// second term dominates for the spectral weights, whose gradients are as
// small as 4e-5 (the forward transform carries 1/N) against |L| ≈ 20, so h
// is large, 1e-2: the largest error measured is 6e-8 (3e-7 with h = 3e-3,
// 6e-7 with 1e-3). The test allows 1e-6 per parameter tensor
// (‖fd − grad‖/‖grad‖ over the sampled entries).
func TestGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m, err := New(tinyConfig(), 3)
	if err != nil {
		t.Fatal(err)
	}
	randomize(m, r)
	const b, tIn, tOut, n = 2, 4, 3, 8
	x := nn.NewTensor(b, tIn, n, n)
	x.FillNormal(r, 1)
	w := nn.NewTensor(b, tOut, n, n)
	w.FillNormal(r, 1)
	loss := func() float64 {
		y := m.Forward(x, tOut)
		var s float64
		for i, v := range y.Data {
			s += w.Data[i] * v
		}
		return s
	}
	nn.ZeroGrad(m.Params())
	loss()
	dx := m.Backward(w).Clone()

	const h = 1e-2
	check := func(name string, vals, grads []float64) {
		var num, den float64
		for k := 0; k < 6; k++ {
			i := r.IntN(len(vals))
			if k == 0 {
				i = 0
			}
			old := vals[i]
			at := func(d float64) float64 { vals[i] = old + d; return loss() }
			fd := (8*(at(h)-at(-h)) - (at(2*h) - at(-2*h))) / (12 * h)
			vals[i] = old
			num += (fd - grads[i]) * (fd - grads[i])
			den += grads[i] * grads[i]
		}
		rel := math.Sqrt(num / den)
		if !(rel <= 1e-6) {
			t.Errorf("%s: relative gradient error %.3g", name, rel)
		}
		if testing.Verbose() {
			t.Logf("%-24s rel. error %.2e  |g| %.2e", name, rel, math.Sqrt(den))
		}
	}
	for _, p := range m.Params() {
		check(p.Name, p.Value.Data, p.Grad.Data)
	}
	check("input", x.Data, dx.Data)
}
