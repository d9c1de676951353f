package fft

import (
	"fmt"
	"slices"
)

// Complex is a plan for complex-to-complex transforms of a grid of a fixed
// shape, batched over leading axes. See the package documentation for the
// conventions.
type Complex struct {
	shape []int
	size  int
	lines []*line
	engine
}

// NewComplex returns a plan for complex transforms on a grid of the given
// shape (one length per axis, row-major, any number of axes, each length ≥ 1).
// The plan uses one worker; see SetWorkers.
func NewComplex(shape ...int) *Complex {
	p := &Complex{shape: slices.Clone(shape), size: checkShape(shape)}
	byLen := map[int]*line{}
	for _, n := range shape {
		l := byLen[n]
		if l == nil {
			l = newLine(n)
			byLen[n] = l
		}
		p.lines = append(p.lines, l)
		p.need(l)
	}
	p.init(1)
	return p
}

// Shape returns the grid shape.
func (p *Complex) Shape() []int { return slices.Clone(p.shape) }

// Len returns the number of values of one grid.
func (p *Complex) Len() int { return p.size }

// SetWorkers sets the number of goroutines (≥ 1) that share the work of one call.
func (p *Complex) SetWorkers(w int) { p.setWorkers(w) }

// Forward sets dst to the unnormalised forward transform of src,
// X[k] = Σ_j x[j] exp(−2πi Σ_a j_a k_a/n_a), for each grid of the batch.
// len(src) must be a positive multiple of Len and len(dst) = len(src); dst may
// be src. src is not modified otherwise. Cost O(N log N) per grid.
func (p *Complex) Forward(dst, src []complex128) { p.transform(dst, src, false) }

// Inverse sets dst to the inverse transform of src with the factor 1/N,
// x[j] = (1/N) Σ_k X[k] exp(+2πi Σ_a j_a k_a/n_a), so that Inverse undoes
// Forward. Sizes and aliasing as for Forward.
func (p *Complex) Inverse(dst, src []complex128) { p.transform(dst, src, true) }

func (p *Complex) transform(dst, src []complex128, inverse bool) {
	batch := batchOf(len(src), p.size, "src")
	if len(dst) != len(src) {
		panic(fmt.Sprintf("fft: len(dst) = %d, want %d", len(dst), len(src)))
	}
	in := src
	d := len(p.shape)
	for a := d - 1; a >= 0; a-- {
		s := 1.0
		if inverse && a == 0 {
			s = 1 / float64(p.size)
		}
		p.axis(p.lines[a], dst, in, p.shape, batch, a, inverse, s, p.shape[d-1])
		in = dst
	}
}
