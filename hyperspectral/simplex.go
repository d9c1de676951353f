package hyperspectral

import "fmt"

// ProjectSimplex stores in dst the Euclidean projection of x onto the scaled
// simplex {h : h ≥ 0, Σ h = s}, that is h = argmin ‖h − x‖₂ over that set. The
// solution is h_i = max(0, x_i − τ), with τ the unique threshold at which the
// entries sum to s. dst and x may be the same slice.
//
// τ is found by Michelot's algorithm (Michelot 1986): starting from all
// entries, τ is the mean excess of the current support, and entries at or
// below τ leave the support until it no longer changes. Each pass costs O(n)
// and no memory is allocated; the support only shrinks, so there are at most
// n passes (O(n²) in the worst case), and typically a handful.
//
// ProjectSimplex panics if len(dst) != len(x), if x is empty, or if s ≤ 0.
func ProjectSimplex(dst, x []float64, s float64) {
	n := len(x)
	if len(dst) != n {
		panic(fmt.Sprintf("hyperspectral: ProjectSimplex: len(dst) = %d, len(x) = %d", len(dst), n))
	}
	if n == 0 {
		panic("hyperspectral: ProjectSimplex: empty input")
	}
	if !(s > 0) {
		panic(fmt.Sprintf("hyperspectral: ProjectSimplex: sum s = %v must be positive", s))
	}
	var sum float64
	for _, v := range x {
		sum += v
	}
	tau := (sum - s) / float64(n)
	count := n
	for pass := 0; pass < n; pass++ {
		// The support of the next pass: entries above the current τ.
		var sumActive float64
		active := 0
		for _, v := range x {
			if v > tau {
				sumActive += v
				active++
			}
		}
		if active == count || active == 0 {
			break
		}
		count = active
		tau = (sumActive - s) / float64(active)
	}
	for i, v := range x {
		dst[i] = max(v-tau, 0)
	}
}
