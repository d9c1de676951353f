package fft

import (
	"fmt"
	"sync"
)

// Blocking. Every transform of a batch runs as v interleaved vectors: a block
// of v lines of length n is gathered into contiguous scratch with element j of
// line c at j·v + c, transformed by the Stockham stages (each butterfly then
// streams over ≥ v contiguous values with one twiddle factor, the form the
// vector kernels need), and scattered back. Lines along a strided axis are v
// adjacent columns; contiguous lines (rows) are v consecutive rows, so the
// gather is a small transpose. The block, n·v complex values, stays in cache
// through all stages.
const (
	maxBlock    = 16   // largest v
	blockBudget = 8192 // largest n·v (complex values, 128 KiB)
)

// blockWidth returns v for lines of length n: at most maxBlock, at least 2
// (the vector kernels work on pairs) unless a pair of lines alone exceeds the
// budget.
func blockWidth(n int) int {
	return max(1, min(maxBlock, max(2, blockBudget/n), 2*blockBudget/n))
}

// scratch is the work memory of one worker.
type scratch struct {
	work    []complex128 // line.run work
	in, out []complex128 // gathered blocks
	row     []complex128 // one row (odd-length real transforms)
	row2    []complex128
}

// axisPass describes complex transforms along the middle axis of an array
// viewed as [outer][n][inner].
type axisPass struct {
	l            *line
	n            int
	outer, inner int
	v            int // block width
	h, cols      int // truncation: only columns c with c mod h < cols, others zeroed
	dst, src     []complex128
	inverse      bool
	scale        float64 // multiplies the result when ≠ 1
}

// engine runs axis passes on a set of workers; Complex and Real embed it.
type engine struct {
	workers int
	scr     []scratch
	wg      sync.WaitGroup
	pass    axisPass
	passFn  func(w, lo, hi int)
	// scratch sizes per worker
	workLen, blockLen, rowLen int
}

func (e *engine) init(workers int) {
	e.passFn = e.runPass
	e.setWorkers(workers)
}

func (e *engine) setWorkers(w int) {
	if w < 1 {
		panic(fmt.Sprintf("fft: workers = %d < 1", w))
	}
	e.workers = w
	for len(e.scr) < w {
		e.scr = append(e.scr, scratch{
			work: make([]complex128, e.workLen),
			in:   make([]complex128, e.blockLen),
			out:  make([]complex128, e.blockLen),
			row:  make([]complex128, e.rowLen),
			row2: make([]complex128, e.rowLen),
		})
	}
}

// need records the scratch that blocked transforms of length l.n need.
func (e *engine) need(l *line) {
	v := blockWidth(l.n)
	e.blockLen = max(e.blockLen, l.n*v)
	e.workLen = max(e.workLen, l.workLen(v))
}

// axis transforms along axis a of an array of the given shape and batch.
// If cols < shape[d−1], only the lines whose last-axis index is below cols
// are transformed, and the others are set to zero in dst (a < d−1).
func (e *engine) axis(l *line, dst, src []complex128, shape []int, batch, a int, inverse bool, scale float64, cols int) {
	outer := batch
	for _, n := range shape[:a] {
		outer *= n
	}
	inner := 1
	for _, n := range shape[a+1:] {
		inner *= n
	}
	v := blockWidth(shape[a])
	h := shape[len(shape)-1]
	e.pass = axisPass{l: l, n: shape[a], outer: outer, inner: inner, v: v, h: h, cols: cols,
		dst: dst, src: src, inverse: inverse, scale: scale}
	var tasks int
	switch {
	case inner == 1:
		tasks = (outer + v - 1) / v
	case cols < h:
		tasks = outer * (inner / h) * ((cols + v - 1) / v)
	default:
		tasks = outer * ((inner + v - 1) / v)
	}
	parallel(workersFor(e.workers, outer*shape[a]*inner), tasks, e.passFn, &e.wg)
	e.pass.dst, e.pass.src = nil, nil
}

// runPass runs tasks [lo, hi) of the current pass on worker w.
func (e *engine) runPass(w, lo, hi int) {
	p := &e.pass
	sc := &e.scr[w]
	n, inner, bw := p.n, p.inner, p.v
	if inner == 1 {
		// Blocks of bw consecutive rows, transposed into the block.
		for t := lo; t < hi; t++ {
			r0 := t * bw
			v := min(bw, p.outer-r0)
			if v == 1 {
				d := p.dst[r0*n : (r0+1)*n]
				p.l.run(d, p.src[r0*n:(r0+1)*n], sc.work, 1, p.inverse)
				if p.scale != 1 {
					scale(d, p.scale)
				}
				continue
			}
			in := sc.in[:n*v]
			out := sc.out[:n*v]
			fromRows(in, p.src[r0*n:(r0+v)*n], n, v, n)
			p.l.run(out, in, sc.work, v, p.inverse)
			if p.scale != 1 {
				scale(out, p.scale)
			}
			toRows(p.dst[r0*n:(r0+v)*n], n, out, v, n)
		}
		return
	}
	mid := inner / p.h // rows of length h inside inner
	nb := (inner + bw - 1) / bw
	trunc := p.cols < p.h
	if trunc {
		nb = mid * ((p.cols + bw - 1) / bw)
	}
	for t := lo; t < hi; t++ {
		o, b := t/nb, t%nb
		var c0, c1 int
		if trunc {
			// Block b of the truncated columns: mid row i, columns from i·h.
			per := (p.cols + bw - 1) / bw
			i, bb := b/per, b%per
			c0 = i*p.h + bb*bw
			c1 = i*p.h + min((bb+1)*bw, p.cols)
			if bb == 0 {
				base := o * n * inner
				for j := range n {
					clear(p.dst[base+j*inner+i*p.h+p.cols : base+j*inner+(i+1)*p.h])
				}
			}
		} else {
			c0 = b * bw
			c1 = min(c0+bw, inner)
		}
		v := c1 - c0
		base := o * n * inner
		if p.scale == 1 && p.l.vectorOK(v) {
			p.l.runStrided(p.dst[base+c0:], inner, p.src[base+c0:], inner, sc.in, sc.out, v, p.inverse)
			continue
		}
		in := sc.in[:n*v]
		out := sc.out[:n*v]
		for j := range n {
			copy(in[j*v:(j+1)*v], p.src[base+j*inner+c0:base+j*inner+c1])
		}
		p.l.run(out, in, sc.work, v, p.inverse)
		if p.scale != 1 {
			scale(out, p.scale)
		}
		for j := range n {
			copy(p.dst[base+j*inner+c0:base+j*inner+c1], out[j*v:(j+1)*v])
		}
	}
}

func scale(x []complex128, f float64) {
	for i, z := range x {
		x[i] = complex(real(z)*f, imag(z)*f)
	}
}

func checkShape(shape []int) int {
	if len(shape) == 0 {
		panic("fft: empty shape")
	}
	size := 1
	for _, n := range shape {
		if n < 1 {
			panic(fmt.Sprintf("fft: shape %v has a length < 1", shape))
		}
		size *= n
	}
	return size
}

func batchOf(length, size int, what string) int {
	if length == 0 || length%size != 0 {
		panic(fmt.Sprintf("fft: len(%s) = %d is not a positive multiple of the grid size %d", what, length, size))
	}
	return length / size
}
