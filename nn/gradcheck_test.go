package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gradCheck compares a layer's Backward with central finite differences of
// the scalar L(x, θ) = Σ_i y_i·R_i for a fixed random R, so that ∂L/∂y = R.
//
// For every input element and every parameter element it evaluates
// (L(v+h) − L(v−h))/(2h) with h = 1e-5 and reports, per tensor, the
// relative error ‖g_analytic − g_fd‖₂/‖g_fd‖₂. For layers linear in the
// perturbed variable the central difference is exact up to rounding
// (about ε·|L|/h ≈ 1e-11 relative); for smooth nonlinear layers the
// truncation error is O(h²) ≈ 1e-10 relative. Both are far below the
// acceptance bound tol = 1e-6, which a wrong derivative (a missing term, a
// transposed index) exceeds by orders of magnitude.
func gradCheck(t *testing.T, name string, l Layer, x *Tensor, r *rand.Rand, tol float64) {
	t.Helper()
	y := l.Forward(x)
	R := NewTensor(y.Shape...)
	R.FillUniform(r, -1, 1)
	loss := func() float64 {
		y := l.Forward(x)
		var s float64
		for i, v := range y.Data {
			s += v * R.Data[i]
		}
		return s
	}
	ZeroGrad(l.Params())
	l.Forward(x)
	dx := l.Backward(R).Clone()
	analytic := map[string][]float64{"input": dx.Data}
	for _, p := range l.Params() {
		analytic[p.Name] = append([]float64(nil), p.Grad.Data...)
	}
	const h = 1e-5
	fd := func(v []float64) []float64 {
		g := make([]float64, len(v))
		for i := range v {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			g[i] = (lp - lm) / (2 * h)
		}
		return g
	}
	check := func(what string, a, n []float64) {
		var num, den float64
		for i := range a {
			num += (a[i] - n[i]) * (a[i] - n[i])
			den += n[i] * n[i]
		}
		if den == 0 {
			if num != 0 {
				t.Errorf("%s: %s: finite differences are 0 but the analytic gradient has norm %g", name, what, math.Sqrt(num))
			}
			return
		}
		rel := math.Sqrt(num / den)
		if rel > tol || math.IsNaN(rel) {
			t.Errorf("%s: %s: relative gradient error %.3g > %g", name, what, rel, tol)
		} else if testing.Verbose() {
			t.Logf("%s: %s: relative gradient error %.3g", name, what, rel)
		}
	}
	check("input", analytic["input"], fd(x.Data))
	for _, p := range l.Params() {
		check(p.Name, analytic[p.Name], fd(p.Value.Data))
	}
}

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	t := NewTensor(shape...)
	t.FillUniform(r, -1, 1)
	return t
}

func TestGradDense(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 1))
	gradCheck(t, "Dense rank 2", NewDense(5, 3, true, r), randTensor(r, 4, 5), r, 1e-6)
	gradCheck(t, "Dense 1x1 conv 2-D", NewDense(3, 4, true, r), randTensor(r, 2, 3, 5, 3), r, 1e-6)
	gradCheck(t, "Dense no bias 1-D", NewDense(3, 2, false, r), randTensor(r, 3, 3, 7), r, 1e-6)
}

func TestGradConv(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	gradCheck(t, "Conv1d k3", NewConv(1, 2, 3, 3, true, r), randTensor(r, 2, 2, 7), r, 1e-6)
	gradCheck(t, "Conv2d k3", NewConv(2, 3, 2, 3, true, r), randTensor(r, 2, 3, 5, 6), r, 1e-6)
	gradCheck(t, "Conv2d k5 small grid", NewConv(2, 2, 2, 5, false, r), randTensor(r, 1, 2, 3, 4), r, 1e-6)
	gradCheck(t, "Conv3d k3", NewConv(3, 2, 3, 3, true, r), randTensor(r, 2, 2, 3, 4, 5), r, 1e-6)
}

// TestGradConvBlocks forces several im2col blocks per image (of 1 and of 2
// grid rows, the last one partial) so that block boundaries are covered.
func TestGradConvBlocks(t *testing.T) {
	defer func(old int) { colsTarget = old }(colsTarget)
	r := rand.New(rand.NewPCG(12, 1))
	for _, target := range []int{1, 2 * 54 * 5} {
		colsTarget = target
		c := NewConv(3, 2, 2, 3, true, r)
		x := randTensor(r, 2, 2, 3, 3, 5)
		if _, g := c.geometry(x); g.rows != max(1, target/(54*5)) {
			t.Fatalf("colsTarget %d: %d rows per block", target, g.rows)
		}
		gradCheck(t, "Conv3d blocks", c, x, r, 1e-6)
	}
}

func TestGradActivations(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 1))
	for _, k := range []ActivationKind{ActReLU, ActGELU, ActGELUTanh, ActSiLU, ActIdentity} {
		x := randTensor(r, 3, 4, 5)
		for i := range x.Data {
			x.Data[i] *= 3
		}
		gradCheck(t, string(k), NewActivation(k), x, r, 1e-6)
	}
}

func TestGradPoolUpsample(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	gradCheck(t, "AvgPool1d", NewAvgPool(1, 2), randTensor(r, 2, 2, 6), r, 1e-6)
	gradCheck(t, "AvgPool2d", NewAvgPool(2, 2), randTensor(r, 2, 2, 4, 6), r, 1e-6)
	gradCheck(t, "AvgPool3d f3", NewAvgPool(3, 3), randTensor(r, 1, 2, 3, 6, 3), r, 1e-6)
	for _, m := range []UpsampleMode{UpsampleNearest, UpsampleLinear} {
		gradCheck(t, "Upsample1d "+string(m), NewUpsample(1, 3, m), randTensor(r, 2, 2, 5), r, 1e-6)
		gradCheck(t, "Upsample2d "+string(m), NewUpsample(2, 2, m), randTensor(r, 2, 2, 3, 5), r, 1e-6)
		gradCheck(t, "Upsample3d "+string(m), NewUpsample(3, 2, m), randTensor(r, 1, 2, 3, 2, 4), r, 1e-6)
	}
}

func TestGradGroupNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 1))
	g := NewGroupNorm(2, 4)
	g.Gamma.Value.FillUniform(r, 0.5, 1.5)
	g.Beta.Value.FillUniform(r, -1, 1)
	gradCheck(t, "GroupNorm(2,4) 2-D", g, randTensor(r, 2, 4, 3, 5), r, 1e-6)
	gradCheck(t, "LayerNorm 3-D", NewLayerNorm(3), randTensor(r, 2, 3, 2, 3, 2), r, 1e-6)
	gradCheck(t, "InstanceNorm rank 2", NewGroupNorm(3, 3), randTensor(r, 2, 3, 4), r, 1e-6)
}

func TestGradContainers(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 1))
	block := NewSequential(
		NewConv(2, 3, 4, 3, true, r),
		NewGroupNorm(2, 4),
		NewActivation(ActSiLU),
		NewResidual(NewSequential(NewConv(2, 4, 4, 3, true, r), NewActivation(ActGELU))),
		NewSum(NewDense(4, 2, true, r), NewSequential(NewAvgPool(2, 2), NewConv(2, 4, 2, 3, false, r), NewUpsample(2, 2, UpsampleNearest))),
	)
	gradCheck(t, "Sequential/Sum/Residual", block, randTensor(r, 2, 3, 4, 6), r, 1e-6)
	names := map[string]bool{}
	for _, p := range block.Params() {
		if names[p.Name] {
			t.Errorf("duplicate parameter name %q", p.Name)
		}
		names[p.Name] = true
	}
	for _, want := range []string{"0.weight", "1.bias", "3.1.0.weight", "4.0.weight", "4.1.1.weight"} {
		if !names[want] {
			t.Errorf("missing parameter name %q in %v", want, names)
		}
	}
}
