package hyperspectral

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// MinCostAssignment solves the linear assignment problem for the r×c cost
// matrix: it returns match, of length r, such that the rows i with match[i] ≥ 0
// are paired with distinct columns match[i], min(r, c) pairs in all, and the
// total cost Σ cost[i, match[i]] is minimal. When r > c, the r − c rows left
// unpaired have match[i] = −1.
//
// The method is the Hungarian algorithm (Kuhn 1955; Munkres 1957) in its
// shortest-augmenting-path form with dual potentials, O(r²c) time for r ≤ c.
// MinCostAssignment panics if the matrix is empty or holds a NaN or infinity.
func MinCostAssignment(cost mat.Matrix) (match []int, total float64) {
	r, c := cost.Dims()
	if r == 0 || c == 0 {
		panic("hyperspectral: MinCostAssignment: empty cost matrix")
	}
	for i := range r {
		for j := range c {
			if v := cost.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				panic(fmt.Sprintf("hyperspectral: MinCostAssignment: cost[%d,%d] = %v", i, j, v))
			}
		}
	}
	if r > c {
		colMatch, t := MinCostAssignment(cost.T())
		match = make([]int, r)
		for i := range match {
			match[i] = -1
		}
		for j, i := range colMatch {
			match[i] = j
		}
		return match, t
	}

	// Rows 1..r and columns 1..c; column 0 is a virtual start column.
	// owner[j] is the row assigned to column j (0: none). u and v are the
	// dual potentials of rows and columns: cost[i,j] − u[i] − v[j] ≥ 0, with
	// equality on assigned pairs.
	u := make([]float64, r+1)
	v := make([]float64, c+1)
	owner := make([]int, c+1)
	prev := make([]int, c+1)
	slack := make([]float64, c+1)
	done := make([]bool, c+1)
	for i := 1; i <= r; i++ {
		// Grow a tree of tight edges from row i until it reaches a free
		// column, adjusting potentials by the least slack (Dijkstra on
		// reduced costs), then flip the augmenting path.
		owner[0] = i
		col := 0
		for j := range slack {
			slack[j] = math.Inf(1)
			done[j] = false
		}
		for owner[col] != 0 {
			done[col] = true
			row := owner[col]
			delta, next := math.Inf(1), 0
			for j := 1; j <= c; j++ {
				if done[j] {
					continue
				}
				red := cost.At(row-1, j-1) - u[row] - v[j]
				if red < slack[j] {
					slack[j] = red
					prev[j] = col
				}
				if slack[j] < delta {
					delta, next = slack[j], j
				}
			}
			for j := 0; j <= c; j++ {
				if done[j] {
					u[owner[j]] += delta
					v[j] -= delta
				} else {
					slack[j] -= delta
				}
			}
			col = next
		}
		for col != 0 {
			p := prev[col]
			owner[col] = owner[p]
			col = p
		}
	}
	match = make([]int, r)
	for j := 1; j <= c; j++ {
		if owner[j] != 0 {
			match[owner[j]-1] = j - 1
		}
	}
	for i, j := range match {
		total += cost.At(i, j)
	}
	return match, total
}
