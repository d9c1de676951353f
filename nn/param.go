package nn

import (
	"fmt"
	"math"
)

// Param is a trainable tensor with its gradient.
//
// Name is the parameter's path in its model ("2.0.weight"), unique within
// the model; containers prefix their children's names with the child's
// index. Layers read Value on every Forward, so replacing Value (as the
// data-parallel trainer does to share weights between replicas) takes effect
// at once. Backward adds to Grad; a frozen parameter keeps its value in the
// optimisers, and layers skip computing its gradient.
type Param struct {
	Name   string
	Value  *Tensor
	Grad   *Tensor
	Frozen bool
}

func newParam(name string, shape ...int) *Param {
	return &Param{Name: name, Value: NewTensor(shape...), Grad: NewTensor(shape...)}
}

// ZeroGrad sets the gradients of all params to zero.
func ZeroGrad(params []*Param) {
	for _, p := range params {
		p.Grad.Zero()
	}
}

// CountParams returns the number of scalar parameters.
func CountParams(params []*Param) int {
	n := 0
	for _, p := range params {
		n += p.Value.Len()
	}
	return n
}

// SetFrozen sets Frozen on every parameter in params.
func SetFrozen(params []*Param, frozen bool) {
	for _, p := range params {
		p.Frozen = frozen
	}
}

// GradNorm returns the Euclidean norm of the gradients of the parameters
// that are not frozen.
func GradNorm(params []*Param) float64 {
	var s float64
	for _, p := range params {
		if p.Frozen {
			continue
		}
		for _, g := range p.Grad.Data {
			s += g * g
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm rescales the gradients of the non-frozen parameters so that
// their joint Euclidean norm is at most maxNorm, and returns the norm before
// clipping. A non-finite norm is returned as an error and leaves the
// gradients unchanged.
func ClipGradNorm(params []*Param, maxNorm float64) (float64, error) {
	if !(maxNorm > 0) {
		panic(fmt.Sprintf("nn: ClipGradNorm: maxNorm %v must be positive", maxNorm))
	}
	norm := GradNorm(params)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("nn: gradient norm is %v", norm)
	}
	if norm <= maxNorm {
		return norm, nil
	}
	s := maxNorm / norm
	for _, p := range params {
		if p.Frozen {
			continue
		}
		for i := range p.Grad.Data {
			p.Grad.Data[i] *= s
		}
	}
	return norm, nil
}

// prefixNames prepends prefix + "." to the names of params.
func prefixNames(prefix string, params []*Param) {
	for _, p := range params {
		p.Name = prefix + "." + p.Name
	}
}
