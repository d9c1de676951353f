package hyperspectral

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// objectiveBrute evaluates F of the solver's current state from its
// definition (Unmix documentation), forming E = Y − MA explicitly.
func objectiveBrute(s *mmSolver) (f float64, rowNorms []float64) {
	y := mat.NewDense(s.l, s.n, s.y)
	m := mat.NewDense(s.l, s.k, s.m)
	a := mat.NewDense(s.k, s.n, s.a)
	c := mat.DenseCopyOf(a)
	if s.bright != nil {
		// The scaled model: C = A diag(b).
		for p, b := range s.bright {
			for k := range s.k {
				c.Set(k, p, b*c.At(k, p))
			}
		}
	}
	var e mat.Dense
	e.Mul(m, c)
	e.Sub(y, &e)
	rowNorms = make([]float64, s.l)
	for l := range s.l {
		r := floats.Norm(e.RawRowView(l), 2)
		rowNorms[l] = r
		switch {
		case s.opt.robust && s.tau > 0 && r <= s.tau:
			f += r * r / (2 * s.tau)
		case s.opt.robust:
			f += r - s.tau/2
		default:
			f += r * r / 2
		}
	}
	if s.sparse {
		for p := range s.n {
			var c float64
			for k := range s.k {
				c += math.Pow(a.At(k, p), s.opt.p)
			}
			f += s.opt.lambda * s.h[p] * c
			if s.opt.guidance == guidanceLearned {
				f += s.opt.lambda * s.beta / 2 * s.h[p] * s.h[p]
			}
		}
	}
	return f, rowNorms
}

// projectShiftedBrute minimises Σ_k (a_k − u_k b_k)²/u_k over
// {a ≥ ε, 1ᵀa = 1} by enumerating the set S of entries above the floor: on S,
// a_k = u_k (b_k − τ) with τ fixed by the sum; the admissible candidate with
// the least objective wins.
func projectShiftedBrute(u, b []float64) []float64 {
	k := len(u)
	var best []float64
	bestF := math.Inf(1)
	cand := make([]float64, k)
	for mask := 1; mask < 1<<k; mask++ {
		var num, den float64
		free := 0
		for j := range k {
			if mask&(1<<j) != 0 {
				num += u[j] * b[j]
				den += u[j]
				free++
			}
		}
		tau := (num + float64(k-free)*epsilon - 1) / den
		ok := true
		var f float64
		for j := range k {
			cand[j] = epsilon
			if mask&(1<<j) != 0 {
				cand[j] = u[j] * (b[j] - tau)
				if cand[j] < epsilon {
					ok = false
				}
			}
			d := cand[j] - u[j]*b[j]
			f += d * d / u[j]
		}
		if ok && f < bestF {
			bestF = f
			best = append(best[:0], cand...)
		}
	}
	return best
}

func TestProjectShiftedBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 2000 {
		k := 1 + trial%7
		u := make([]float64, k)
		b := make([]float64, k)
		for j := range k {
			u[j] = math.Exp(2 * rng.NormFloat64())
			b[j] = rng.NormFloat64()
		}
		got := make([]float64, k)
		projectShifted(got, u, b)
		want := projectShiftedBrute(u, b)
		var sum float64
		for j := range k {
			sum += got[j]
			// The same closed form from the same sums: rounding only.
			if math.Abs(got[j]-want[j]) > 1e-12 || got[j] < epsilon {
				t.Fatalf("u = %v, b = %v: got %v, brute force %v", u, b, got, want)
			}
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("sum %v", sum)
		}
	}
}

// TestL21ValueAndWeights checks the ℓ2,1 norm and the reweighting on a case
// worked by hand: M = 1 (3×1), A = [1 1], Y = [[4 5] [1 1] [2 1]], so that
// E = [[3 4] [0 0] [1 0]] with row norms 5, 0, 1, ‖E‖₂,₁ = 6 and weights
// d = 1/(2·5), 1/(2ε), 1/(2·1).
func TestL21ValueAndWeights(t *testing.T) {
	y := mat.NewDense(3, 2, []float64{4, 5, 1, 1, 2, 1})
	m := mat.NewDense(3, 1, []float64{1, 1, 1})
	a := mat.NewDense(1, 2, []float64{1, 1})
	s := newMMSolver(y, m, a, mmOptions{robust: true, p: 0.5})
	if got := s.objective(); math.Abs(got-6) > 1e-12 {
		t.Errorf("ℓ2,1 objective = %v, want 6", got)
	}
	wantR := []float64{5, 0, 1}
	for i, w := range wantR {
		// r² = ‖y‖² − 2m·(YAᵀ) + mGmᵀ for small integers: exact but for
		// the square root of a rounding-level zero.
		if math.Abs(s.r[i]-w) > 1e-7 {
			t.Errorf("row norm %d = %v, want %v", i, s.r[i], w)
		}
	}
	s.reweight()
	wantD := []float64{0.1, 1 / (2 * epsilon), 0.5}
	for i, w := range wantD {
		if i == 1 {
			// The zero row: the floor ε, up to the rounding of r above.
			if s.d[i] < 0.5/1e-7 {
				t.Errorf("weight of the zero row = %v, want ≥ 5e6", s.d[i])
			}
			continue
		}
		if math.Abs(s.d[i]-w) > 1e-12 {
			t.Errorf("weight %d = %v, want %v", i, s.d[i], w)
		}
	}
}

// TestObjectiveMatchesDefinition runs a few iterations of every variant and
// compares the solver's objective (computed from Gram matrices) and channel
// norms with the definition evaluated on explicit residuals (for the scaled
// model with the brightness, whose mean must stay 1). The Gram form
// loses about ‖y‖²/‖e‖² ≈ 10³ in relative accuracy, so 1e-9 is ample.
func TestObjectiveMatchesDefinition(t *testing.T) {
	m := jasperEndmembers(t)
	y, _ := Synthetic(m, 20, 20, 0.4, 30, 3)
	y.Scale(1/mat.Max(y), y)
	InjectOutlierBands(y, 19, 0.01, 0.3, 7)
	y.Scale(1/mat.Max(y), y)
	m0 := mat.DenseCopyOf(m)
	m0.Scale(0.8, m0)
	a0 := mat.NewDense(4, 400, nil)
	for k := range 4 {
		for p := range 400 {
			a0.Set(k, p, 0.25)
		}
	}
	for name, opt := range map[string]mmOptions{
		"nmf":          {p: 0.5},
		"l21nmf":       {robust: true, p: 0.5},
		"l12nmf":       {p: 0.5, lambda: 0.05, guidance: guidanceOnes},
		"rrlbs":        {robust: true, p: 0.5, lambda: 0.05, guidance: guidanceLearned},
		"p=0.7":        {robust: true, p: 0.7, lambda: 0.05, guidance: guidanceLearned},
		"huber":        {robust: true, huber: 1, p: 0.5, lambda: 0.05, guidance: guidanceLearned},
		"scaled nmf":   {p: 0.5, scaled: true},
		"scaled rrlbs": {robust: true, huber: 1, p: 0.5, lambda: 0.05, guidance: guidanceLearned, scaled: true},
	} {
		s := newMMSolver(y, m0, a0, opt)
		for it := range 6 {
			f, norms := objectiveBrute(s)
			if got := s.objective(); math.Abs(got-f) > 1e-9*f {
				t.Errorf("%s iteration %d: objective %v, definition %v", name, it, got, f)
			}
			for l := range norms {
				if math.Abs(s.r[l]-norms[l]) > 1e-9*math.Max(norms[l], 1e-3) {
					t.Errorf("%s iteration %d: ‖e^%d‖ = %v, explicit %v", name, it, l, s.r[l], norms[l])
					break
				}
			}
			if s.bright != nil {
				if mean := floats.Sum(s.bright) / float64(s.n); math.Abs(mean-1) > 1e-12 {
					t.Errorf("%s iteration %d: mean brightness %v", name, it, mean)
				}
			}
			prev := s.objective()
			s.iterate()
			if f := s.objective(); f > prev*(1+1e-12) {
				t.Errorf("%s iteration %d: F rose from %v to %v", name, it, prev, f)
			}
		}
	}
}

// TestOutlierBandsGetSmallestWeights: the ℓ2,1 reweighting must down-weight
// the "hot" bands (|Y + N(0, 0.3²)|) below every clean band. ("Dead" bands,
// |N(0, 0.01²)|, are fitted by a constant row of M and have small residuals;
// they are not expected to be down-weighted.)
func TestOutlierBandsGetSmallestWeights(t *testing.T) {
	m := jasperEndmembers(t)
	y, _ := Synthetic(m, 30, 30, 0.4, 30, 4)
	y.Scale(1/mat.Max(y), y)
	bands := InjectOutlierBands(y, 19, 0.01, 0.3, 7)
	var hot []int
	for i := 1; i < len(bands); i += 2 {
		hot = append(hot, bands[i])
	}
	for _, method := range []Method{MethodL21NMF, MethodRRLbS} {
		cfg := DefaultConfig()
		cfg.Endmembers = 4
		cfg.Method = method
		cfg.Iterations = 20
		res, err := Unmix(t.Context(), y, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		order := make([]int, len(res.ChannelWeights))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(i, j int) int {
			return int(math.Copysign(1, res.ChannelWeights[i]-res.ChannelWeights[j]))
		})
		smallest := slices.Clone(order[:len(hot)])
		slices.Sort(smallest)
		slices.Sort(hot)
		if !slices.Equal(smallest, hot) {
			t.Errorf("%s: smallest weights on bands %v, hot bands %v", method, smallest, hot)
		}
		if mean := floats.Sum(res.ChannelWeights) / float64(len(res.ChannelWeights)); math.Abs(mean-1) > 1e-12 {
			t.Errorf("%s: channel weights have mean %v, want 1", method, mean)
		}
	}
}

// One iteration allocates nothing, for every variant of the solver (a
// per-pixel array that escapes to the heap once cost an allocation per
// block of pixels).
func TestIterationAllocatesNothing(t *testing.T) {
	m := jasperEndmembers(t)
	y, _ := Synthetic(m, 30, 30, 0.4, 30, 3)
	y.Scale(1/mat.Max(y), y)
	a0, err := FCLS(t.Context(), y, m)
	if err != nil {
		t.Fatal(err)
	}
	for name, opt := range map[string]mmOptions{
		"nmf":          {p: 0.5},
		"l21nmf":       {robust: true, p: 0.5},
		"l12nmf":       {p: 0.5, lambda: 0.05, guidance: guidanceOnes},
		"rrlbs":        {robust: true, huber: 1, p: 0.5, lambda: 0.05, guidance: guidanceLearned},
		"rrlbs scaled": {robust: true, huber: 1, p: 0.5, lambda: 0.05, guidance: guidanceLearned, scaled: true},
	} {
		s := newMMSolver(y, m, a0, opt)
		if n := testing.AllocsPerRun(5, s.iterate); n != 0 {
			t.Errorf("%s: %v allocations per iteration", name, n)
		}
	}
}
