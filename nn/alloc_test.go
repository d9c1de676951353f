package nn

import (
	"math/rand/v2"
	"testing"
)

// TestNoAllocAfterWarmup checks the package promise that a forward and
// backward pass through every layer kind allocates nothing once the buffers
// for the batch shape exist.
func TestNoAllocAfterWarmup(t *testing.T) {
	r := rand.New(rand.NewPCG(50, 1))
	net2 := NewSequential(
		NewConv(2, 2, 4, 3, true, r),
		NewGroupNorm(2, 4),
		NewActivation(ActSiLU),
		NewResidual(NewSequential(NewConv(2, 4, 4, 3, false, r), NewActivation(ActGELU))),
		NewSum(NewSpectralConv(4, 4, []int{2, 3}, true, r), NewDense(4, 4, true, r)),
		NewSum(Identity{}, NewSequential(NewAvgPool(2, 2), NewUpsample(2, 2, UpsampleLinear))),
		NewDense(4, 1, true, r),
	)
	net3 := NewSequential(
		NewConv(3, 1, 2, 3, true, r),
		NewAvgPool(3, 2),
		NewUpsample(3, 2, UpsampleNearest),
		NewSpectralConv(2, 2, []int{1, 2, 2}, false, r),
	)
	for _, c := range []struct {
		name string
		net  Layer
		x    *Tensor
	}{
		{"2-D", net2, randTensor(r, 2, 2, 8, 10)},
		{"3-D", net3, randTensor(r, 2, 1, 4, 6, 6)},
	} {
		y := c.net.Forward(c.x)
		dy := randTensor(r, y.Shape...)
		step := func() {
			c.net.Forward(c.x)
			c.net.Backward(dy)
		}
		step()
		if n := testing.AllocsPerRun(10, step); n != 0 {
			t.Errorf("%s: %v allocations per step after warm-up", c.name, n)
		}
	}
}
