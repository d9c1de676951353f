package wavelet

// Subbands of one 1-D level, in the order of the packet channels.
const (
	Low  = 0 // lowpass (PyWavelets cA)
	High = 1 // highpass (PyWavelets cD)
)

// Packet1D is a plan for the J-level 1-D bior4.4 wavelet packet transform of
// signals of a fixed length L with periodic boundary, batched over signal
// channels (see the package documentation). A signal of C channels (2 for
// stereo audio) is a row-major (C, L) array; its transform is a
// (C·2^J, L/2^J) array of the same length.
//
// The plan holds its work buffers (about 2L values): calls allocate nothing.
// A plan is not safe for concurrent use; use one plan per goroutine.
type Packet1D[T Float] struct {
	n, levels int
	c         coefs[T]
	ext       []T // analyzeLine scratch, L+8
	es, ed    []T // synthesizeLine scratch, L/2+4 each
}

// NewPacket1D returns a plan for J = levels levels on signals of the given
// length. Panics unless levels ≥ 1 and 2^levels divides length.
func NewPacket1D[T Float](length, levels int) *Packet1D[T] {
	checkSize("length", length, levels)
	return &Packet1D[T]{
		n: length, levels: levels, c: newCoefs[T](),
		ext: make([]T, length+8), es: make([]T, length/2+4), ed: make([]T, length/2+4),
	}
}

// Len returns L, the number of samples of one signal channel and of its 2^J
// packet channels together.
func (p *Packet1D[T]) Len() int { return p.n }

// Levels returns J.
func (p *Packet1D[T]) Levels() int { return p.levels }

// Bands returns 2^J, the number of packet channels per signal channel.
func (p *Packet1D[T]) Bands() int { return 1 << p.levels }

// BandLen returns L/2^J, the length of one packet channel.
func (p *Packet1D[T]) BandLen() int { return p.n >> p.levels }

// Index returns the packet channel c·2^J + f₁·2^(J−1) + … + f_J that holds
// signal channel c filtered by subband f₁ (Low or High) at level 1, …, f_J at
// level J. Panics unless len(bands) = J.
func (p *Packet1D[T]) Index(c int, bands ...int) int {
	return packetIndex(c, 2, p.levels, bands)
}

// Forward sets dst to the J-level wavelet packet transform of the signals in
// src: len(src) must be a positive multiple C of L and len(dst) = len(src).
// dst may be src (in place); other overlaps panic.
func (p *Packet1D[T]) Forward(dst, src []T) {
	checkBatch(dst, src, p.n)
	for c := 0; c < len(src); c += p.n {
		p.forward(dst[c:c+p.n], src[c:c+p.n], 1)
	}
}

// Inverse sets dst to the signals whose J-level packet transform is src (it
// undoes Forward). Sizes and overlaps as for Forward.
func (p *Packet1D[T]) Inverse(dst, src []T) {
	checkBatch(dst, src, p.n)
	for c := 0; c < len(src); c += p.n {
		p.inverse(dst[c:c+p.n], src[c:c+p.n], 1)
	}
}

// forward computes level l of the segment in (written to out, the same
// length), then the levels below it in place, depth first.
func (p *Packet1D[T]) forward(out, in []T, l int) {
	h := len(out) / 2
	analyzeLine(out[:h], out[h:], in, p.ext, &p.c)
	if l == p.levels {
		return
	}
	p.forward(out[:h], out[:h], l+1)
	p.forward(out[h:], out[h:], l+1)
}

// inverse rebuilds level l−1 of a segment into out from level l, which is in
// in for l = J and is first rebuilt in place in out otherwise.
func (p *Packet1D[T]) inverse(out, in []T, l int) {
	h := len(out) / 2
	from := in
	if l < p.levels {
		p.inverse(out[:h], in[:h], l+1)
		p.inverse(out[h:], in[h:], l+1)
		from = out
	}
	synthesizeLine(out, from[:h], from[h:], p.es, p.ed, &p.c)
}
