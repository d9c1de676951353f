package wavelet

import (
	"fmt"
	"unsafe"
)

// Subbands of one 2-D level, in the order of the packet channels. The first
// letter is the filter along x (the width, the contiguous axis), the second
// along y (the height): LH is lowpass along x and highpass along y
// (PyWavelets' horizontal detail cH, pytorch_wavelets' yh[…, 0, …, …]).
const (
	LL = 0 // lowpass along x and y (PyWavelets cA)
	LH = 1 // lowpass along x, highpass along y (cH)
	HL = 2 // highpass along x, lowpass along y (cV)
	HH = 3 // highpass along x and y (cD)
)

// Packet2D is a plan for the J-level 2-D bior4.4 wavelet packet transform of
// images of a fixed size H×W with periodic boundary, batched over image
// channels (see the package documentation for the mathematics and the channel
// order). An image of C channels is a row-major (C, H, W) array; its transform
// is a (C·4^J, H/2^J, W/2^J) array of the same length.
//
// The plan holds its work buffers (H·W values plus a few rows): calls allocate
// nothing. A plan is not safe for concurrent use; use one plan per goroutine.
type Packet2D[T Float] struct {
	h, w, levels int
	c            coefs[T]
	work         []T   // one channel: the levels of the other parity
	rows         [][]T // 6 rows of length w for the column pipeline
	free         [][]T // rows not in use (a stack over rows)
	ext          []T   // analyzeLine scratch, w+8
	es, ed       []T   // synthesizeLine scratch, w/2+4 each
}

// NewPacket2D returns a plan for J = levels levels on H×W images. Panics
// unless levels ≥ 1 and 2^levels divides both height and width (pad the image
// beforehand, e.g. by reflection as the reference codec does).
func NewPacket2D[T Float](height, width, levels int) *Packet2D[T] {
	checkSize("height", height, levels)
	checkSize("width", width, levels)
	p := &Packet2D[T]{h: height, w: width, levels: levels, c: newCoefs[T]()}
	p.work = make([]T, height*width)
	p.rows = make([][]T, 6)
	for i := range p.rows {
		p.rows[i] = make([]T, width)
	}
	p.free = make([][]T, 0, len(p.rows))
	p.ext = make([]T, width+8)
	p.es = make([]T, width/2+4)
	p.ed = make([]T, width/2+4)
	return p
}

// checkSize panics unless levels ≥ 1 and n is a positive multiple of 2^levels.
func checkSize(name string, n, levels int) {
	if levels < 1 || levels > 30 {
		panic(fmt.Sprintf("wavelet: levels = %d outside [1, 30]", levels))
	}
	if n < 1 || n%(1<<levels) != 0 {
		panic(fmt.Sprintf("wavelet: %s %d is not a positive multiple of 2^%d = %d", name, n, levels, 1<<levels))
	}
}

// Height, Width and Levels return the plan's image size and J.
func (p *Packet2D[T]) Height() int { return p.h }
func (p *Packet2D[T]) Width() int  { return p.w }
func (p *Packet2D[T]) Levels() int { return p.levels }

// Len returns H·W, the number of values of one image channel and of its
// 4^J packet channels together.
func (p *Packet2D[T]) Len() int { return p.h * p.w }

// Bands returns 4^J, the number of packet channels per image channel.
func (p *Packet2D[T]) Bands() int { return 1 << (2 * p.levels) }

// BandShape returns the shape (H/2^J, W/2^J) of one packet channel.
func (p *Packet2D[T]) BandShape() (rows, cols int) { return p.h >> p.levels, p.w >> p.levels }

// Index returns the packet channel c·4^J + f₁·4^(J−1) + … + f_J that holds
// image channel c filtered by subband f₁ (one of LL, LH, HL, HH) at level 1,
// f₂ at level 2, …, f_J at level J. Panics unless len(bands) = J.
func (p *Packet2D[T]) Index(c int, bands ...int) int {
	return packetIndex(c, 4, p.levels, bands)
}

// packetIndex is c·b^J + Σ f_l b^(J−l) for the subbands f_l of a b-band level.
func packetIndex(c, b, levels int, bands []int) int {
	if len(bands) != levels {
		panic(fmt.Sprintf("wavelet: %d subbands for %d levels", len(bands), levels))
	}
	k := c
	for _, f := range bands {
		if f < 0 || f >= b {
			panic(fmt.Sprintf("wavelet: subband %d outside [0, %d)", f, b))
		}
		k = k*b + f
	}
	return k
}

// Forward sets dst to the J-level wavelet packet transform of the images in
// src: len(src) must be a positive multiple C of H·W and len(dst) = len(src).
// dst may be src (in place; for odd J this costs one extra copy per channel);
// other overlaps panic. src is not modified unless it is dst.
func (p *Packet2D[T]) Forward(dst, src []T) { p.run(dst, src, false) }

// Inverse sets dst to the images whose J-level packet transform is src (it
// undoes Forward). Sizes and overlaps as for Forward.
func (p *Packet2D[T]) Inverse(dst, src []T) { p.run(dst, src, true) }

// run transforms channel by channel. In place with odd J, level 1 of the
// forward transform (and level J−1 of the inverse) would be written over its
// own input, so the channel is first copied to the work buffer, which at
// that point holds nothing else.
func (p *Packet2D[T]) run(dst, src []T, inverse bool) {
	hw := p.h * p.w
	same := checkBatch(dst, src, hw)
	for c := 0; c < len(src); c += hw {
		out, in := dst[c:c+hw], src[c:c+hw]
		if same && p.levels%2 == 1 {
			copy(p.work, in)
			in = p.work
		}
		if inverse {
			p.inverse(out, in, 1, 0, p.h, p.w)
		} else {
			p.forward(out, in, 1, 0, p.h, p.w)
		}
	}
}

// forwardBuf returns the buffer that holds level l of the forward transform:
// level J is in out, J−1 in work, J−2 in out, …
func (p *Packet2D[T]) forwardBuf(out []T, l int) []T {
	if (p.levels-l)%2 == 0 {
		return out
	}
	return p.work
}

// forward computes level l (of size hh×ww at its input) of the region at
// offset off, from in, then the levels below it, depth first.
func (p *Packet2D[T]) forward(out, in []T, l, off, hh, ww int) {
	o := p.forwardBuf(out, l)[off : off+hh*ww]
	p.analyze(o, in, hh, ww)
	if l == p.levels {
		return
	}
	q := hh * ww / 4
	for f := range 4 {
		p.forward(out, o[f*q:(f+1)*q], l+1, off+f*q, hh/2, ww/2)
	}
}

// inverseBuf returns the buffer that holds level l < J of the inverse
// transform: level 0 (the image) is in out, level 1 in work, level 2 in out, …
func (p *Packet2D[T]) inverseBuf(out []T, l int) []T {
	if l%2 == 0 {
		return out
	}
	return p.work
}

// inverse rebuilds level l−1 (of size hh×ww) of the region at offset off
// from level l, which it first rebuilds from the levels below, depth first.
// A region's descendants occupy the same index range, so writing level l−1
// over level l+1 (the same buffer) only overwrites values already used.
func (p *Packet2D[T]) inverse(out, in []T, l, off, hh, ww int) {
	var from []T
	if l == p.levels {
		from = in[off : off+hh*ww]
	} else {
		q := hh * ww / 4
		for f := range 4 {
			p.inverse(out, in, l+1, off+f*q, hh/2, ww/2)
		}
		from = p.inverseBuf(out, l)[off : off+hh*ww]
	}
	p.synthesize(p.inverseBuf(out, l-1)[off:off+hh*ww], from, hh, ww)
}

// checkBatch panics unless len(dst) = len(src) is a positive multiple of n
// and the two are either the same slice or disjoint; it reports which.
func checkBatch[T Float](dst, src []T, n int) (same bool) {
	if len(src) == 0 || len(src)%n != 0 {
		panic(fmt.Sprintf("wavelet: len(src) = %d is not a positive multiple of %d", len(src), n))
	}
	if len(dst) != len(src) {
		panic(fmt.Sprintf("wavelet: len(dst) = %d, want %d", len(dst), len(src)))
	}
	if &dst[0] == &src[0] {
		return true
	}
	if overlap(dst, src) {
		panic("wavelet: dst and src overlap without being the same slice")
	}
	return false
}

// overlap reports whether two non-empty slices share memory.
func overlap[T Float](a, b []T) bool {
	size := unsafe.Sizeof(a[0])
	pa, pb := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return pa < pb+uintptr(len(b))*size && pb < pa+uintptr(len(a))*size
}

// pop takes a row of length n from the free rows.
func (p *Packet2D[T]) pop(n int) []T {
	r := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return r[:n]
}

// push returns a row to the free rows.
func (p *Packet2D[T]) push(r []T) { p.free = append(p.free, r) }

// reset makes every row free.
func (p *Packet2D[T]) reset() {
	p.free = p.free[:0]
	for _, r := range p.rows {
		p.free = append(p.free, r)
	}
}

// analyze computes one 2-D level: src is an h×w plane, dst receives its four
// subband planes LL, LH, HL, HH of (h/2)×(w/2) each, one after the other.
// The columns are lifted first (the steps of lifting.go with whole rows as
// the samples) and each finished row is then split along x by analyzeLine;
// the two 1-D transforms commute, so the order only changes rounding. Step
// i = 0 … n makes d¹ᵢ and s¹ᵢ from input rows 2i, 2i+1, 2i+2 and finishes
// dᵢ₋₁ and sᵢ₋₁; input rows are taken modulo h, so the prologue (d¹₋₂, d¹₋₁,
// s¹₋₁) and step n read rows from the other end again for the periodic wrap,
// and d₋₁ only serves s₀. Five rows are live at a time. dst and src must not
// overlap.
func (p *Packet2D[T]) analyze(dst, src []T, h, w int) {
	n, m := h/2, w/2
	q := n * m
	row := func(k int) []T { // k ∈ [−4, h+2]
		for k < 0 {
			k += h
		}
		for k >= h {
			k -= h
		}
		return src[k*w : (k+1)*w]
	}
	out := func(f, i int) []T { return dst[f*q+i*m : f*q+(i+1)*m] }
	c := &p.c
	p.reset()
	dm2, d1p, s1p := p.pop(w), p.pop(w), p.pop(w)
	lift(dm2, row(-3), row(-4), row(-2), c.a1, 1)
	lift(d1p, row(-1), row(-2), row(0), c.a1, 1)
	lift(s1p, row(-2), dm2, d1p, c.b1, 1)
	p.push(dm2)
	var dpp []T // d_{i−2}
	for i := 0; i <= n; i++ {
		d1, s1 := p.pop(w), p.pop(w)
		lift(d1, row(2*i+1), row(2*i), row(2*i+2), c.a1, 1)
		lift(s1, row(2*i), d1p, d1, c.b1, 1)
		lift(d1p, d1p, s1p, s1, c.g1, c.kd) // d_{i−1}
		if i >= 1 {
			lift(s1p, s1p, dpp, d1p, c.e1, c.ks) // s_{i−1}
			analyzeLine(out(LL, i-1), out(HL, i-1), s1p, p.ext, c)
			if i >= 2 {
				analyzeLine(out(LH, i-2), out(HH, i-2), dpp, p.ext, c)
			}
			p.push(dpp)
		}
		p.push(s1p)
		dpp, d1p, s1p = d1p, d1, s1
	}
	analyzeLine(out(LH, n-1), out(HH, n-1), dpp, p.ext, c)
}

// synthesize inverts analyze: src holds the four subband planes of
// (h/2)×(w/2), dst receives the h×w plane. The columns are unlifted first on
// rows [LL | HL] (the lowpass rows sᵢ, lowpass and highpass along x side by
// side) and [LH | HH] (the highpass rows dᵢ), and each finished row is then
// merged along x. Step i = 0 … n makes s¹ᵢ₊₁ and d¹ᵢ, finishes row 2i and
// then row 2i−1 of the column transform, and merges rows 2i−2 and 2i−1 into
// dst; plane rows are taken modulo n for the periodic wrap. dst and src must
// not overlap.
func (p *Packet2D[T]) synthesize(dst, src []T, h, w int) {
	n, m := h/2, w/2
	q := n * m
	in := func(f, i int) []T { // i ∈ [−1, n+1]
		for i < 0 {
			i += n
		}
		for i >= n {
			i -= n
		}
		return src[f*q+i*m : f*q+(i+1)*m]
	}
	c := &p.c
	p.reset()
	// s¹ᵢ = (1/ζ)(sᵢ + ie(dᵢ₋₁ + dᵢ)) on both halves.
	s1 := func(r []T, i int) {
		lift(r[:m], in(LL, i), in(LH, i-1), in(LH, i), c.ie, c.is)
		lift(r[m:], in(HL, i), in(HH, i-1), in(HH, i), c.ie, c.is)
	}
	// d¹ᵢ = (1/kd)(dᵢ + ig(s¹ᵢ + s¹ᵢ₊₁)).
	d1 := func(r []T, i int, sa, sb []T) {
		lift(r[:m], in(LH, i), sa[:m], sb[:m], c.ig, c.id)
		lift(r[m:], in(HH, i), sa[m:], sb[m:], c.ig, c.id)
	}
	sm1, s1c, d1p := p.pop(w), p.pop(w), p.pop(w)
	s1(sm1, -1)
	s1(s1c, 0)
	d1(d1p, -1, sm1, s1c)
	p.push(sm1)
	var xep []T // x_{2i−2}
	for i := 0; i <= n; i++ {
		s1n, d1c := p.pop(w), p.pop(w)
		s1(s1n, i+1)
		d1(d1c, i, s1c, s1n)
		lift(s1c, s1c, d1p, d1c, c.ib, 1) // x_{2i}
		if i >= 1 {
			lift(d1p, d1p, xep, s1c, c.ia, 1) // x_{2i−1}
			p.synthesizeRow(dst[(2*i-2)*w:(2*i-1)*w], xep, m)
			p.synthesizeRow(dst[(2*i-1)*w:2*i*w], d1p, m)
			p.push(xep)
		}
		p.push(d1p)
		xep, d1p, s1c = s1c, d1c, s1n
	}
}

// synthesizeRow merges the halves r[:m] (lowpass along x) and r[m:] of a row
// into x; r is scratch and may be overwritten.
func (p *Packet2D[T]) synthesizeRow(x, r []T, m int) {
	if haveAVX {
		synthesizeRows(x, r[:m], r[m:], &p.c)
		return
	}
	synthesizeLine(x, r[:m], r[m:], p.es, p.ed, &p.c)
}
