package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Tensor is a dense row-major float64 array. The element at index
// (i₀, …, i_{r−1}) is Data[((i₀·Shape[1] + i₁)·Shape[2] + …) + i_{r−1}], and
// len(Data) equals the product of Shape.
type Tensor struct {
	Shape []int
	Data  []float64
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	sh := make([]int, len(shape)) // a copy that does not make shape escape
	copy(sh, shape)
	return &Tensor{Shape: sh, Data: make([]float64, numel(shape))}
}

// TensorFrom returns a tensor of the given shape that uses data as its
// storage. It panics if len(data) does not match the shape.
func TensorFrom(data []float64, shape ...int) *Tensor {
	if len(data) != numel(shape) {
		panic(fmt.Sprintf("nn: TensorFrom: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: slices.Clone(shape), Data: data}
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Rank returns the number of axes.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Fill sets every element to v.
func (t *Tensor) Fill(v float64) {
	for i := range t.Data {
		t.Data[i] = v
	}
}

// FillUniform sets every element to an independent draw from U[lo, hi).
func (t *Tensor) FillUniform(r *rand.Rand, lo, hi float64) {
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*r.Float64()
	}
}

// FillNormal sets every element to an independent draw from N(0, σ²).
func (t *Tensor) FillNormal(r *rand.Rand, sigma float64) {
	for i := range t.Data {
		t.Data[i] = sigma * r.NormFloat64()
	}
}

// SameShape reports whether t and u have identical shapes.
func (t *Tensor) SameShape(u *Tensor) bool { return slices.Equal(t.Shape, u.Shape) }

// Slice returns the sub-tensor of samples [i, j) along axis 0, sharing
// storage with t.
func (t *Tensor) Slice(i, j int) *Tensor {
	if len(t.Shape) == 0 || i < 0 || j < i || j > t.Shape[0] {
		panic(fmt.Sprintf("nn: Slice [%d, %d) of shape %v", i, j, t.Shape))
	}
	inner := numel(t.Shape[1:])
	shape := slices.Clone(t.Shape)
	shape[0] = j - i
	return &Tensor{Shape: shape, Data: t.Data[i*inner : j*inner]}
}

// String returns the shape, for messages.
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.Shape) }

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		if s < 0 {
			panic(fmt.Sprintf("nn: negative dimension %d in a shape", s))
		}
		n *= s
	}
	return n
}

// reuse returns t when it already has the given shape and a fresh zero
// tensor otherwise. Layers keep their output and gradient buffers with it.
// The returned tensor's contents are unspecified when t is reused.
func reuse(t *Tensor, shape ...int) *Tensor {
	if t != nil && slices.Equal(t.Shape, shape) {
		return t
	}
	if t != nil && cap(t.Data) >= numel(shape) {
		t.Shape = append(t.Shape[:0], shape...)
		t.Data = t.Data[:numel(shape)]
		return t
	}
	return NewTensor(shape...)
}

// grow returns buf resized to n elements, reallocating only when its
// capacity is too small. Contents are unspecified.
func grow(buf []float64, n int) []float64 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]float64, n)
}

// withChannels appends n, c and the spatial sizes to buf and returns it;
// with a stack array as buf it builds an output shape without allocating.
func withChannels(buf []int, n, c int, spatial []int) []int {
	return append(append(buf, n, c), spatial...)
}

// mustSameShape panics with the layer name when a gradient's shape is not
// the output shape it belongs to.
func mustSameShape(layer string, got *Tensor, want []int) {
	if !slices.Equal(got.Shape, want) {
		panic(fmt.Sprintf("nn: %s: gradient shape %v does not match output shape %v", layer, got.Shape, want))
	}
}
