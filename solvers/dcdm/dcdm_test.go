package dcdm

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"eddy/hdf5io"
	"eddy/nn"
	"eddy/pde/poisson"
	"eddy/solvers/krylov"
)

func system(t testing.TB, scene string, dim, n int) *poisson.System {
	t.Helper()
	c, err := poisson.Scene(scene, dim, n, 7)
	if err != nil {
		t.Fatal(err)
	}
	return poisson.NewSystem(c)
}

// TestLossGradient checks ∂L/∂θ of network + loss against central
// differences, on a grid with obstacles (masked cells) in 2-D and 3-D.
func TestLossGradient(t *testing.T) {
	for _, dim := range []int{2, 3} {
		n := 8
		sys := system(t, "smoke", dim, n)
		c := Config{Dim: dim, Width: 4, PreBlocks: 1, CoarseBlocks: 1, PostBlocks: 1, Levels: 1}
		m, err := New(c, 3)
		if err != nil {
			t.Fatal(err)
		}
		shape := []int{2, 1, n, n}
		if dim == 3 {
			shape = []int{2, 1, n, n, n}
		}
		x := nn.NewTensor(shape...)
		rnd := rand.New(rand.NewPCG(1, 2))
		cells := sys.Len()
		for k := range 2 {
			b := x.Data[k*cells : (k+1)*cells]
			for i := range b {
				b[i] = rnd.NormFloat64()
			}
			sys.Project(b)
			s := math.Sqrt(dot(b, b))
			for i := range b {
				b[i] /= s
			}
		}
		loss := Loss{A: sys.A}
		eval := func() float64 {
			y := m.Forward(x)
			g := nn.NewTensor(y.Shape...)
			return loss.Eval(y, x, g, 0.5)
		}
		nn.ZeroGrad(m.Params())
		y := m.Forward(x)
		g := nn.NewTensor(y.Shape...)
		loss.Eval(y, x, g, 0.5)
		m.Backward(g)
		checked := 0
		for _, p := range m.Params() {
			for _, j := range []int{0, p.Value.Len() / 2, p.Value.Len() - 1} {
				v := p.Value.Data[j]
				const h = 1e-7
				p.Value.Data[j] = v + h
				lp := eval()
				p.Value.Data[j] = v - h
				lm := eval()
				p.Value.Data[j] = v
				fd := (lp - lm) / (2 * h)
				an := p.Grad.Data[j]
				if math.Abs(fd-an) > 1e-6+1e-4*math.Abs(fd) {
					t.Errorf("%d-D %s[%d]: analytic %.8g, finite difference %.8g", dim, p.Name, j, an, fd)
				}
				checked++
			}
		}
		if checked < 30 {
			t.Fatalf("checked only %d entries", checked)
		}
	}
}

// TestLossScaleInvariant checks that scaling the network output leaves the
// loss unchanged and that q = A⁻¹b gives zero loss.
func TestLossScaleInvariant(t *testing.T) {
	sys := system(t, "sphere", 2, 16)
	b := sys.RandomRHS(3)
	x := make([]float64, len(b))
	if _, err := krylov.CG(context.Background(), sys.A, b, x, krylov.Options{Tol: 1e-13}, nil); err != nil {
		t.Fatal(err)
	}
	loss := Loss{A: sys.A}
	bt := nn.TensorFrom(b, 1, 1, 16, 16)
	g := nn.NewTensor(1, 1, 16, 16)
	for _, s := range []float64{1, -3.5, 1e4} {
		q := make([]float64, len(x))
		for i := range q {
			q[i] = s * x[i]
		}
		if l := loss.Eval(nn.TensorFrom(q, 1, 1, 16, 16), bt, g, 1); l > 1e-20*dot(b, b) {
			t.Errorf("scale %g: loss of the exact inverse is %g", s, l)
		}
	}
}

// TestLanczosRitz checks the Ritz pairs against the operator: with as
// many steps as unknowns the Ritz values are A's eigenvalues, the Ritz
// vectors orthonormal eigenvectors, and a sample has unit norm.
func TestLanczosRitz(t *testing.T) {
	sys := system(t, "plate", 2, 8)
	active := 0
	for _, in := range sys.A.Inactive {
		if !in {
			active++
		}
	}
	r, err := Lanczos(context.Background(), sys.A, active, 5)
	if err != nil {
		t.Fatal(err)
	}
	if r.Steps != active || len(r.Values) != active {
		t.Fatalf("%d steps, %d Ritz values for %d unknowns", r.Steps, len(r.Values), active)
	}
	n := sys.Len()
	y, ay, z := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, th := range r.Values {
		r.Vector(y, i)
		sys.A.Apply(ay, y)
		axpy(ay, -th, y)
		if res := math.Sqrt(dot(ay, ay)); res > 1e-8*th || math.Abs(dot(y, y)-1) > 1e-10 {
			t.Fatalf("Ritz pair %d (θ = %g): ‖Ay − θy‖ = %g, ‖y‖² = %g", i, th, res, dot(y, y))
		}
		if i > 0 {
			r.Vector(z, i-1)
			if d := dot(y, z); math.Abs(d) > 1e-10 {
				t.Fatalf("Ritz vectors %d and %d: inner product %g", i-1, i, d)
			}
		}
	}
	if r.Values[0] <= 0 || r.Values[len(r.Values)-1] >= 8 {
		t.Errorf("Ritz values span [%g, %g], want inside (0, 8)", r.Values[0], r.Values[len(r.Values)-1])
	}
	coef := make([]float64, r.Steps)
	r.Sample(y, coef, rand.New(rand.NewPCG(1, 1)), r.Steps/2, 9)
	if math.Abs(dot(y, y)-1) > 1e-12 {
		t.Errorf("sample norm² %g", dot(y, y))
	}
	for i, in := range sys.A.Inactive {
		if in && y[i] != 0 {
			t.Fatalf("sample nonzero on inactive cell %d", i)
		}
	}
}

// TestIterateLimits checks the iteration with two direction maps whose
// behaviour is known: the identity gives conjugate gradients (in exact
// arithmetic the A-orthogonalisation against the last direction is CG's;
// rounding lets it drift by a few iterations), and the exact inverse
// (CG to 1e-13) converges in one step whatever its scale.
func TestIterateLimits(t *testing.T) {
	ctx := context.Background()
	sys := system(t, "smoke", 2, 32)
	b := sys.RandomRHS(2)
	x := make([]float64, len(b))
	cg, err := krylov.CG(ctx, sys.A, b, x, krylov.Options{Tol: 1e-6}, nil)
	if err != nil {
		t.Fatal(err)
	}
	clear(x)
	id, err := iterate(ctx, sys.A, b, x, Options{Options: krylov.Options{Tol: 1e-6}}, nil, func(dst, r []float64) { copy(dst, r) })
	if err != nil {
		t.Fatal(err)
	}
	if !id.Converged || id.Iterations > cg.Iterations+cg.Iterations/10 || id.Iterations < cg.Iterations-cg.Iterations/10 {
		t.Errorf("identity map: %d iterations (converged %v), CG %d", id.Iterations, id.Converged, cg.Iterations)
	}
	exact := func(dst, r []float64) {
		clear(dst)
		if _, err := krylov.CG(ctx, sys.A, r, dst, krylov.Options{Tol: 1e-13}, nil); err != nil {
			t.Fatal(err)
		}
		for i := range dst {
			dst[i] *= -7
		}
	}
	clear(x)
	ex, err := iterate(ctx, sys.A, b, x, Options{Options: krylov.Options{Tol: 1e-10}}, nil, exact)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Iterations != 1 || !(ex.TrueRelResidual <= 1e-10) {
		t.Errorf("exact inverse: %d iterations, residual %g", ex.Iterations, ex.TrueRelResidual)
	}
}

// TestResumeAndEnergyNorm checks that training resumed from a written state
// is bit-identical to training straight through, and that the DCDM
// iteration never increases the A-norm of the error, whatever the network
// (here a briefly trained tiny one), against a reference solved to 1e-13.
func TestResumeAndEnergyNorm(t *testing.T) {
	ctx := context.Background()
	sys := system(t, "open_top", 2, 8)
	c := Config{Dim: 2, Width: 4, PreBlocks: 1, CoarseBlocks: 1, PostBlocks: 1, Levels: 1}
	tc := TrainConfig{Epochs: 2, Samples: 12, Batch: 4, LR: 1e-3, LanczosSteps: 30, Theta: 3, Seed: 5}
	straight, err := NewTrainer(ctx, sys.A, c, tc, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := straight.RunEpoch(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	first, err := NewTrainer(ctx, sys.A, c, tc, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.RunEpoch(ctx, nil); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/state.h5"
	w, err := hdf5io.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.WriteState(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	resumed, err := NewTrainer(ctx, sys.A, c, tc, 2)
	if err != nil {
		t.Fatal(err)
	}
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	err = resumed.ReadState(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.RunEpoch(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for i, p := range straight.Model().Params() {
		q := resumed.Model().Params()[i]
		for j, v := range p.Value.Data {
			if q.Value.Data[j] != v {
				t.Fatalf("%s[%d]: straight %v, resumed %v", p.Name, j, v, q.Value.Data[j])
			}
		}
	}
	if h := resumed.History(); len(h) != 2 || h[1].Loss != straight.History()[1].Loss {
		t.Errorf("history %+v, straight %+v", h, straight.History())
	}

	smoke := system(t, "smoke", 2, 16)
	b := smoke.RandomRHS(4)
	ref := make([]float64, len(b))
	if _, err := krylov.CG(ctx, smoke.A, b, ref, krylov.Options{Tol: 1e-13}, nil); err != nil {
		t.Fatal(err)
	}
	m := straight.Model()
	in := nn.NewTensor(1, 1, 16, 16)
	x, e, ae := make([]float64, len(b)), make([]float64, len(b)), make([]float64, len(b))
	prev, e0 := math.Inf(1), 0.0
	steps := 0
	res, err := iterate(ctx, smoke.A, b, x, Options{Options: krylov.Options{Tol: 1e-8, MaxIter: 100}}, nil, func(dst, r []float64) {
		// The A-norm of the error of the current iterate x.
		for i := range e {
			e[i] = ref[i] - x[i]
		}
		smoke.A.Apply(ae, e)
		en := dot(e, ae)
		if en > prev*(1+1e-12) {
			t.Fatalf("iteration %d: ‖e‖²_A rose from %g to %g", steps, prev, en)
		}
		if steps == 0 {
			e0 = en
		}
		prev = en
		steps++
		copy(in.Data, r)
		copy(dst, m.Forward(in).Data)
	})
	if err != nil || steps != res.Iterations || !(prev < 0.1*e0) {
		t.Fatalf("%d iterations (%d inferences): ‖e‖²_A from %g to %g: %v", res.Iterations, steps, e0, prev, err)
	}
}
