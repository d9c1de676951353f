package hyperspectral

import (
	"math"
	"math/rand/v2"
	"testing"
)

// projectSimplexBrute returns the projection of x onto {h ≥ 0, Σh = s} by
// enumerating every support set S: on S the projection is x_S − τ with
// τ = (Σ_S x − s)/|S|; the candidate is admissible if x_i − τ ≥ 0 on S, and
// the closest admissible candidate is the projection (the set is convex, so
// the true projection is among them). Cost O(2ⁿ n).
func projectSimplexBrute(x []float64, s float64) []float64 {
	n := len(x)
	var best []float64
	bestD := math.Inf(1)
	cand := make([]float64, n)
	for mask := 1; mask < 1<<n; mask++ {
		var sum float64
		cnt := 0
		for i := range n {
			if mask&(1<<i) != 0 {
				sum += x[i]
				cnt++
			}
		}
		tau := (sum - s) / float64(cnt)
		ok := true
		var d float64
		for i := range n {
			cand[i] = 0
			if mask&(1<<i) != 0 {
				cand[i] = x[i] - tau
				if cand[i] < 0 {
					ok = false
				}
			}
			d += (cand[i] - x[i]) * (cand[i] - x[i])
		}
		if ok && d < bestD {
			bestD = d
			best = append(best[:0], cand...)
		}
	}
	return best
}

func TestProjectSimplexBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := range 500 {
		n := 1 + trial%9
		x := make([]float64, n)
		for i := range x {
			x[i] = 4 * rng.NormFloat64()
		}
		if trial%7 == 0 && n > 2 {
			x[1] = x[0] // ties
		}
		s := 0.1 + 10*rng.Float64()
		want := projectSimplexBrute(x, s)
		got := make([]float64, n)
		ProjectSimplex(got, x, s)
		var sum float64
		for i := range got {
			// Both are computed from the same few sums of O(10) numbers:
			// agreement to 1e-12 is rounding.
			if math.Abs(got[i]-want[i]) > 1e-12 || got[i] < 0 {
				t.Fatalf("x = %v, s = %v: got %v, brute force %v", x, s, got, want)
			}
			sum += got[i]
		}
		if math.Abs(sum-s) > 1e-12*s {
			t.Fatalf("x = %v: sum %v, want %v", x, sum, s)
		}
	}
}

func TestProjectSimplexLargeInPlace(t *testing.T) {
	// The h-step's use: 10⁴ entries, sum N, projected in place. The result is
	// checked against the optimality conditions instead of brute force: the
	// projection is max(x − τ, 0) with one τ, and sums to s.
	rng := rand.New(rand.NewPCG(2, 2))
	n := 10000
	x := make([]float64, n)
	for i := range x {
		x[i] = -rng.Float64() * 3
	}
	orig := append([]float64(nil), x...)
	ProjectSimplex(x, x, float64(n))
	var sum float64
	tau := math.NaN()
	for i, v := range x {
		sum += v
		if v > 0 {
			t0 := orig[i] - v
			if !math.IsNaN(tau) && math.Abs(t0-tau) > 1e-12 {
				t.Fatalf("entries imply different thresholds %v and %v", tau, t0)
			}
			tau = t0
		}
	}
	for i, v := range x {
		if v == 0 && orig[i] > tau+1e-12 {
			t.Fatalf("entry %d = %v above τ = %v was zeroed", i, orig[i], tau)
		}
	}
	if math.Abs(sum-float64(n)) > 1e-9 {
		t.Fatalf("sum %v, want %d", sum, n)
	}
}

func TestProjectSimplexPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"length": func() { ProjectSimplex(make([]float64, 2), make([]float64, 3), 1) },
		"empty":  func() { ProjectSimplex(nil, nil, 1) },
		"sum":    func() { ProjectSimplex(make([]float64, 2), make([]float64, 2), 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
