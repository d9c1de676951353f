package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdamConstantGradient uses the closed form of Adam under a constant
// gradient g: the bias-corrected moments are exactly g and g², so each step
// moves θ by −η·g/(|g| + ε). Parameter groups with their own rates move by
// their own η; frozen parameters do not move.
func TestAdamConstantGradient(t *testing.T) {
	a, b, c := newParam("a", 3), newParam("b", 2), newParam("c", 2)
	a.Grad.Data = []float64{0.5, -2, 1e-3}
	b.Grad.Data = []float64{3, -3}
	c.Grad.Data = []float64{1, 1}
	c.Frozen = true
	opt := NewAdam(ParamGroup{Params: []*Param{a}, LR: 0.1}, ParamGroup{Params: []*Param{b, c}, LR: 0.01})
	const steps = 7
	for range steps {
		opt.Step()
	}
	for i, g := range a.Grad.Data {
		want := -steps * 0.1 * g / (math.Abs(g) + 1e-8)
		// Rounding: 7 steps of O(1) values, bound 1e-14.
		if math.Abs(a.Value.Data[i]-want) > 1e-14 {
			t.Errorf("a[%d] = %v, want %v", i, a.Value.Data[i], want)
		}
	}
	for i, g := range b.Grad.Data {
		want := -steps * 0.01 * g / (math.Abs(g) + 1e-8)
		if math.Abs(b.Value.Data[i]-want) > 1e-14 {
			t.Errorf("b[%d] = %v, want %v", i, b.Value.Data[i], want)
		}
	}
	if c.Value.Data[0] != 0 || c.Value.Data[1] != 0 {
		t.Errorf("frozen parameter moved to %v", c.Value.Data)
	}
	if opt.Steps() != steps {
		t.Errorf("Steps() = %d", opt.Steps())
	}
}

// TestAdamTwoSteps follows the update formula by hand for two steps with
// different gradients, for Adam with L2 decay and for AdamW.
func TestAdamTwoSteps(t *testing.T) {
	for _, decoupled := range []bool{false, true} {
		p := newParam("p", 1)
		p.Value.Data[0] = 2
		opt := NewAdam(ParamGroup{Params: []*Param{p}, LR: 0.1, WeightDecay: 0.05})
		opt.Decoupled = decoupled
		opt.Schedule = Warmup{Steps: 1, Start: 0.5} // factor 0.5 then 1
		th, m, v := 2.0, 0.0, 0.0
		for t1, g0 := range []float64{0.3, -0.7} {
			lr := 0.1 * []float64{0.5, 1}[t1]
			g := g0
			if decoupled {
				th -= lr * 0.05 * th
			} else {
				g += 0.05 * th
			}
			m = 0.9*m + 0.1*g
			v = 0.999*v + 0.001*g*g
			n := float64(t1 + 1)
			th -= lr * (m / (1 - math.Pow(0.9, n))) / (math.Sqrt(v/(1-math.Pow(0.999, n))) + 1e-8)
			p.Grad.Data[0] = g0
			opt.Step()
		}
		if math.Abs(p.Value.Data[0]-th) > 1e-15 {
			t.Errorf("decoupled=%v: θ = %.17g, want %.17g", decoupled, p.Value.Data[0], th)
		}
	}
}

func TestSchedules(t *testing.T) {
	const tol = 1e-15
	o := OneCycle{Total: 100}
	for _, c := range []struct {
		t    int
		want float64
	}{{0, 1.0 / 25}, {29, 1}, {99, 1.0 / 25e4}, {500, 1.0 / 25e4}} {
		if got := o.Factor(c.t); math.Abs(got-c.want) > tol {
			t.Errorf("OneCycle.Factor(%d) = %v, want %v", c.t, got, c.want)
		}
	}
	// With Total = 70 the rise ends at step 0.3·70 − 1 = 20; at step 10 the
	// half cosine is at the mean of start and peak, at step 20 + 49/2 at the
	// mean of peak and end.
	o = OneCycle{Total: 70}
	if got, want := o.Factor(10), (1.0/25+1)/2; math.Abs(got-want) > tol {
		t.Errorf("OneCycle.Factor(10) = %v, want %v", got, want)
	}
	o = OneCycle{Total: 71, PctStart: 0.3} // rise ends at 20.3, fall at 70
	if got, want := o.Factor(0), 1.0/25; math.Abs(got-want) > tol {
		t.Errorf("OneCycle{71}.Factor(0) = %v, want %v", got, want)
	}
	c := Cosine{Total: 10, Min: 0.1}
	for _, cs := range []struct {
		t    int
		want float64
	}{{0, 1}, {5, 0.55}, {10, 0.1}, {20, 0.1}} {
		if got := c.Factor(cs.t); math.Abs(got-cs.want) > tol {
			t.Errorf("Cosine.Factor(%d) = %v, want %v", cs.t, got, cs.want)
		}
	}
	w := Warmup{Steps: 4, Start: 0.2, Then: c}
	for _, cs := range []struct {
		t    int
		want float64
	}{{0, 0.2}, {2, 0.6}, {4, 1}, {9, 0.55}} {
		if got := w.Factor(cs.t); math.Abs(got-cs.want) > tol {
			t.Errorf("Warmup.Factor(%d) = %v, want %v", cs.t, got, cs.want)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	a, b := newParam("a", 2), newParam("b", 1)
	a.Grad.Data = []float64{3, 0}
	b.Grad.Data = []float64{4}
	n, err := ClipGradNorm([]*Param{a, b}, 1)
	if err != nil || n != 5 {
		t.Fatalf("norm %v, %v; want 5", n, err)
	}
	if got := GradNorm([]*Param{a, b}); math.Abs(got-1) > 1e-15 {
		t.Errorf("norm after clipping %v, want 1", got)
	}
	if math.Abs(a.Grad.Data[0]-0.6) > 1e-15 || math.Abs(b.Grad.Data[0]-0.8) > 1e-15 {
		t.Errorf("clipped gradients %v %v, want direction kept", a.Grad.Data, b.Grad.Data)
	}
	b.Grad.Data[0] = math.NaN()
	if _, err := ClipGradNorm([]*Param{a, b}, 1); err == nil {
		t.Error("NaN gradient not reported")
	}
}

// TestDataParallelMatchesSerial compares the gradients and loss of a
// 3-worker data-parallel evaluation (with an uneven split, 7 samples) with
// one model on the whole batch. They differ only in the order of the sums,
// so they agree to about 1e-15 relative; the bound is 1e-12.
func TestDataParallelMatchesSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(70, 1))
	cfg := FNOConfig{In: 2, Out: 1, Width: 5, Modes: []int{3, 2}, Layers: 2, ProjWidth: 6, Activation: ActGELU}
	build := func() Layer {
		m, _ := NewFNO(cfg, rand.New(rand.NewPCG(71, 1)))
		return m
	}
	serial := build()
	dp := NewDataParallel(3, build)
	dp.Params()[3].Frozen = true
	serial.Params()[3].Frozen = true
	x, y := randTensor(r, 7, 2, 6, 5), randTensor(r, 7, 1, 6, 5)
	for _, loss := range []Loss{MSE{}, RelL2{}} {
		ZeroGrad(serial.Params())
		pred := serial.Forward(x)
		g := NewTensor(pred.Shape...)
		want := loss.Eval(pred, y, g, 1.0/7)
		serial.Backward(g)
		got, err := dp.LossAndGrad(x, y, loss)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("%T: loss %v, serial %v", loss, got, want)
		}
		for i, p := range dp.Params() {
			q := serial.Params()[i]
			var num, den float64
			for j := range p.Grad.Data {
				num += (p.Grad.Data[j] - q.Grad.Data[j]) * (p.Grad.Data[j] - q.Grad.Data[j])
				den += q.Grad.Data[j] * q.Grad.Data[j]
			}
			if p.Frozen {
				if num+den != 0 {
					t.Errorf("%T: frozen %s has a gradient", loss, p.Name)
				}
				continue
			}
			if math.Sqrt(num) > 1e-12*math.Sqrt(den) {
				t.Errorf("%T: %s: gradient differs by %.3g relative", loss, p.Name, math.Sqrt(num/den))
			}
		}
	}
	pred := dp.Predict(x)
	want := serial.Forward(x)
	for i := range want.Data {
		if math.Abs(pred.Data[i]-want.Data[i]) > 1e-13 {
			t.Fatalf("Predict[%d] = %v, serial %v", i, pred.Data[i], want.Data[i])
		}
	}
}

// TestLossGradients checks the gradients written by the losses against
// central differences of the returned value (h = 1e-6; the losses are
// smooth at the random points, truncation O(h²) ≈ 1e-12 relative).
func TestLossGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(72, 1))
	pred, target := randTensor(r, 3, 2, 5), randTensor(r, 3, 2, 5)
	for _, loss := range []Loss{MSE{}, RelL2{}} {
		g := NewTensor(pred.Shape...)
		scratch := NewTensor(pred.Shape...)
		loss.Eval(pred, target, g, 0.25)
		const h = 1e-6
		var num, den float64
		for i := range pred.Data {
			old := pred.Data[i]
			pred.Data[i] = old + h
			lp := loss.Eval(pred, target, scratch, 0.25)
			pred.Data[i] = old - h
			lm := loss.Eval(pred, target, scratch, 0.25)
			pred.Data[i] = old
			fd := (lp - lm) / (2 * h)
			num += (fd - g.Data[i]) * (fd - g.Data[i])
			den += fd * fd
		}
		if rel := math.Sqrt(num / den); rel > 1e-6 {
			t.Errorf("%T: relative gradient error %.3g", loss, rel)
		}
	}
	// RelL2 and RelL2Error agree on the value.
	g := NewTensor(pred.Shape...)
	if a, b := (RelL2{}).Eval(pred, target, g, 1.0/3), RelL2Error(pred, target); math.Abs(a-b) > 1e-15 {
		t.Errorf("RelL2 mean %v, RelL2Error %v", a, b)
	}
}
