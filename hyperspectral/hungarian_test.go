package hyperspectral

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// assignBrute returns the least total cost of matching min(r, c) distinct
// rows and columns, by trying every injection of the smaller side.
func assignBrute(cost *mat.Dense) float64 {
	r, c := cost.Dims()
	if r > c {
		return assignBrute(mat.DenseCopyOf(cost.T()))
	}
	best := math.Inf(1)
	used := make([]bool, c)
	var rec func(i int, acc float64)
	rec = func(i int, acc float64) {
		if i == r {
			best = min(best, acc)
			return
		}
		for j := range c {
			if !used[j] {
				used[j] = true
				rec(i+1, acc+cost.At(i, j))
				used[j] = false
			}
		}
	}
	rec(0, 0)
	return best
}

func TestMinCostAssignmentBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for trial := range 400 {
		r, c := 1+rng.IntN(6), 1+rng.IntN(6)
		cost := mat.NewDense(r, c, nil)
		for i := range r {
			for j := range c {
				if trial%3 == 0 {
					cost.Set(i, j, float64(rng.IntN(4))) // many ties
				} else {
					cost.Set(i, j, rng.Float64()*math.Pi)
				}
			}
		}
		match, total := MinCostAssignment(cost)
		if len(match) != r {
			t.Fatalf("len(match) = %d, want %d", len(match), r)
		}
		seen := map[int]bool{}
		var sum float64
		pairs := 0
		for i, j := range match {
			if j < 0 {
				continue
			}
			if j >= c || seen[j] {
				t.Fatalf("cost %v: invalid match %v", mat.Formatted(cost), match)
			}
			seen[j] = true
			sum += cost.At(i, j)
			pairs++
		}
		if pairs != min(r, c) {
			t.Fatalf("%d pairs for %d×%d", pairs, r, c)
		}
		// Sums of at most six numbers below π: 1e-12 covers rounding.
		if want := assignBrute(cost); math.Abs(sum-want) > 1e-12 || math.Abs(total-sum) > 1e-12 {
			t.Fatalf("cost\n%v\nmatch %v total %v (recomputed %v), brute force %v", mat.Formatted(cost), match, total, sum, want)
		}
	}
}

func TestMinCostAssignmentKnown(t *testing.T) {
	// The greedy choice (row 0 → column 0, cost 1) is wrong here: the optimum
	// pairs 0→1 and 1→0 for a total of 2 + 2 = 4 < 1 + 100.
	cost := mat.NewDense(2, 2, []float64{1, 2, 2, 100})
	match, total := MinCostAssignment(cost)
	if match[0] != 1 || match[1] != 0 || total != 4 {
		t.Errorf("match %v total %v, want [1 0] 4", match, total)
	}
}
