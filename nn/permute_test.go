package nn

import (
	"math/rand/v2"
	"testing"
)

// TestPermute checks permute against index arithmetic on random shapes and
// permutations, and that the inverse permutation restores the input.
func TestPermute(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 1))
	for trial := 0; trial < 50; trial++ {
		rank := 1 + r.IntN(5)
		shape := make([]int, rank)
		for i := range shape {
			shape[i] = 1 + r.IntN(4)
		}
		perm := r.Perm(rank)
		src := randTensor(r, shape...).Data
		dst := make([]float64, len(src))
		idx := make([]int, rank)
		permute(dst, src, shape, perm, idx)
		// check every element by explicit index computation
		dshape := make([]int, rank)
		for i, p := range perm {
			dshape[i] = shape[p]
		}
		for o := range dst {
			di := unravel(o, dshape)
			si := make([]int, rank)
			for i, p := range perm {
				si[p] = di[i]
			}
			if dst[o] != src[ravel(si, shape)] {
				t.Fatalf("shape %v perm %v: element %d wrong", shape, perm, o)
			}
		}
		back := make([]float64, len(src))
		permute(back, dst, dshape, inversePerm(perm), idx)
		for i := range back {
			if back[i] != src[i] {
				t.Fatalf("shape %v perm %v: inverse does not restore", shape, perm)
			}
		}
	}
}

func unravel(o int, shape []int) []int {
	idx := make([]int, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		idx[i] = o % shape[i]
		o /= shape[i]
	}
	return idx
}

func ravel(idx, shape []int) int {
	o := 0
	for i := range shape {
		o = o*shape[i] + idx[i]
	}
	return o
}
