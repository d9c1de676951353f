package nn

import (
	"fmt"
	"strconv"
)

// Layer is a differentiable map y = f(x; θ) with hand-written derivatives.
//
// Forward computes y for the batch x. Backward takes ∂L/∂y for the most
// recent Forward, adds ∂L/∂θ to the gradients of the non-frozen parameters
// and returns ∂L/∂x. Tensors returned by either method are owned by the
// layer: they stay valid until the next call of the same method and must not
// be modified by the caller. The layer keeps a reference to x until
// Backward, so the caller must not modify x in between.
type Layer interface {
	Forward(x *Tensor) *Tensor
	Backward(dy *Tensor) *Tensor
	Params() []*Param
}

// Sequential applies its layers in order: y = f_{n−1}(…f₁(f₀(x))).
// The parameters of layer i are named "i.<name>".
type Sequential struct {
	Layers []Layer
}

// NewSequential returns the composition of layers and prefixes their
// parameter names with their index.
func NewSequential(layers ...Layer) *Sequential {
	for i, l := range layers {
		prefixNames(strconv.Itoa(i), l.Params())
	}
	return &Sequential{Layers: layers}
}

// Forward applies the layers in order.
func (s *Sequential) Forward(x *Tensor) *Tensor {
	for _, l := range s.Layers {
		x = l.Forward(x)
	}
	return x
}

// Backward applies the layers' Backward in reverse order.
func (s *Sequential) Backward(dy *Tensor) *Tensor {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		dy = s.Layers[i].Backward(dy)
	}
	return dy
}

// Params returns the parameters of all layers in order.
func (s *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Sum applies its branches to the same input and adds their outputs:
// y = Σ_i f_i(x); all branches must produce the same shape. Backward
// returns ∂L/∂x = Σ_i J_iᵀ ∂L/∂y. The parameters of branch i are named
// "i.<name>". A residual block is Sum{Identity, F}.
type Sum struct {
	Branches []Layer
	y, dx    *Tensor
}

// NewSum returns the sum of branches and prefixes their parameter names
// with their index.
func NewSum(branches ...Layer) *Sum {
	if len(branches) == 0 {
		panic("nn: NewSum: no branches")
	}
	for i, l := range branches {
		prefixNames(strconv.Itoa(i), l.Params())
	}
	return &Sum{Branches: branches}
}

// NewResidual returns the residual block y = x + f(x). The parameters of f
// are named "1.<name>".
func NewResidual(f Layer) *Sum { return NewSum(Identity{}, f) }

// Forward returns Σ_i f_i(x).
func (s *Sum) Forward(x *Tensor) *Tensor {
	for i, b := range s.Branches {
		out := b.Forward(x)
		if i == 0 {
			s.y = reuse(s.y, out.Shape...)
			copy(s.y.Data, out.Data)
			continue
		}
		if !out.SameShape(s.y) {
			panic(fmt.Sprintf("nn: Sum: branch %d output %v differs from branch 0 output %v", i, out.Shape, s.y.Shape))
		}
		addTo(s.y.Data, out.Data)
	}
	return s.y
}

// Backward returns Σ_i J_iᵀ dy.
func (s *Sum) Backward(dy *Tensor) *Tensor {
	mustSameShape("Sum", dy, s.y.Shape)
	for i, b := range s.Branches {
		g := b.Backward(dy)
		if i == 0 {
			s.dx = reuse(s.dx, g.Shape...)
			copy(s.dx.Data, g.Data)
			continue
		}
		addTo(s.dx.Data, g.Data)
	}
	return s.dx
}

// Params returns the parameters of all branches in order.
func (s *Sum) Params() []*Param {
	var ps []*Param
	for _, b := range s.Branches {
		ps = append(ps, b.Params()...)
	}
	return ps
}

// Identity is the layer y = x. It returns its input and the incoming
// gradient unchanged.
type Identity struct{}

// Forward returns x.
func (Identity) Forward(x *Tensor) *Tensor { return x }

// Backward returns dy.
func (Identity) Backward(dy *Tensor) *Tensor { return dy }

// Params returns nil.
func (Identity) Params() []*Param { return nil }

// addTo sets dst[i] += src[i].
func addTo(dst, src []float64) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}
