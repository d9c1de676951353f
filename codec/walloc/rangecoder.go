package walloc

// Binary adaptive range coder.
//
// The coder keeps an interval [low, low+rng) of a number written in base 256
// most significant byte first. Coding a binary decision of probability p (of
// the bit being 0, in units of 2^-probBits) splits rng at
//
//	bound = (rng >> probBits) · p
//
// and keeps [low, low+bound) for a 0 and [low+bound, low+rng) for a 1. When
// rng falls below 2^24 the top byte of low is settled and shifted out, so
// that 2^24 ≤ rng < 2^32 before every decision; bound is then at least
// 2^(24−probBits)·pMin > 0 and at most rng − 2^(24−probBits)·pMin < rng, so
// both halves are non-empty. low is kept in 64 bits: bit 32 is the carry
// into the bytes already settled, which are held back while they could still
// change (a run of 0xFF bytes that a carry would turn into 0x00 bytes behind
// an incremented byte).
//
// Every decision is coded with an adaptive probability (prob) whose update
// rate starts fast and slows as the context sees more decisions, so that a
// context learns its statistics in a few decisions and then tracks them with
// little noise.

const (
	probBits = 15
	probOne  = 1 << probBits // probability 1
	// pMin bounds every probability to [pMin, probOne−pMin]: a decision
	// costs at most log2(probOne/pMin) ≈ 10 bits and at least
	// −log2(1 − pMin/probOne) ≈ 0.0014 bits (see maxLatentsPerByte).
	pMin = 32
	// rateMax is the slowest update rate: p moves by 2^-rateMax of the
	// distance to the observed bit once a context has seen 2^rateMax − 1
	// decisions.
	rateMax = 7
	topByte = 1 << 24
	// maxOver is the number of bytes the decoder may read past the end of
	// a stream: the trailing zero bytes finish leaves out.
	maxOver = 4
)

// prob is the adaptive probability that a decision is 0, in units of
// 2^-probBits, with the number of decisions it has seen (saturating).
type prob struct {
	p uint16
	n uint16
}

// newProb is a context that has seen nothing: p = ½.
func newProb() prob { return prob{p: probOne / 2} }

// rate is the update shift after n decisions: ⌊log2(n+1)⌋ + 1, at most
// rateMax. With shift ⌊log2(n+1)⌋+1 the estimate follows about
// (zeros + ½)/(n + 1), the Krichevsky–Trofimov estimate, while n is small.
var rateTab = func() [1 << rateMax]uint8 {
	var t [1 << rateMax]uint8
	for n := range t {
		r := uint8(1)
		for m := n + 1; m > 1; m >>= 1 {
			r++
		}
		t[n] = min(r, rateMax)
	}
	return t
}()

// update moves p towards the bit just coded: by 2^-rate of the distance to
// probOne−pMin after a 0, to pMin after a 1. The arithmetic shift rounds the
// step towards the target's side no further than the target, so p stays in
// [pMin, probOne−pMin] without clamping.
func (c *prob) update(bit int) {
	r := rateTab[c.n&(1<<rateMax-1)]
	if c.n < 1<<rateMax-1 {
		c.n++
	}
	target := int32(probOne - pMin)
	if bit != 0 {
		target = pMin
	}
	p := int32(c.p)
	c.p = uint16(p + (target-p)>>r)
}

// rangeEncoder writes decisions to out.
type rangeEncoder struct {
	low     uint64 // low end of the interval; bit 32 is a carry
	rng     uint32
	cache   byte // the last settled byte, held back for a carry
	pending int  // 1 + number of 0xFF bytes held back after cache
	out     []byte
	start   int  // len(out) at reset
	first   bool // the first byte, always 0, is not written
}

// reset starts a coding appended to out.
func (e *rangeEncoder) reset(out []byte) {
	*e = rangeEncoder{rng: 0xFFFFFFFF, pending: 1, out: out, start: len(out), first: true}
}

// shiftLow moves the top byte of low's 32-bit window out, settling the
// bytes held back when that byte cannot be changed by a carry any more.
func (e *rangeEncoder) shiftLow() {
	if uint32(e.low) < 0xFF000000 || e.low >= 1<<32 {
		carry := byte(e.low >> 32)
		b := e.cache
		for ; e.pending > 0; e.pending-- {
			if e.first {
				e.first = false
			} else {
				e.out = append(e.out, b+carry)
			}
			b = 0xFF
		}
		e.cache = byte(e.low >> 24)
	}
	e.pending++
	e.low = (e.low & 0x00FFFFFF) << 8
}

// encode codes bit (0 or 1) with probability c and adapts c.
func (e *rangeEncoder) encode(c *prob, bit int) {
	bound := (e.rng >> probBits) * uint32(c.p)
	if bit == 0 {
		e.rng = bound
	} else {
		e.low += uint64(bound)
		e.rng -= bound
	}
	c.update(bit)
	if e.rng < topByte {
		e.normalize()
	}
}

// normalize shifts bytes out until rng ≥ 2^24 again.
func (e *rangeEncoder) normalize() {
	for e.rng < topByte {
		e.rng <<= 8
		e.shiftLow()
	}
}

// finish settles the interval and returns out with the coded bytes
// appended. It picks the number in [low, low+rng) with the most trailing zero
// bits and writes it out, less up to maxOver trailing zero bytes, which the
// decoder supplies past the end of its input. The first byte shifted out is
// not written either: it is always 0, because every interval lies inside the
// initial [0, 2^32 − 1) and so no carry ever reaches it.
//
// The decoder reads 4 bytes, then one per byte the encoder shifted out
// before finish: exactly the bytes written plus those trimmed. Trimming at
// most maxOver keeps the coded length within maxOver bytes of the decoder's
// reading, which bounds the latents a payload can hold (maxLatentsPerByte).
func (e *rangeEncoder) finish() []byte {
	for k := uint(0); k <= 4; k++ {
		mask := uint64(1)<<(32-8*k) - 1
		if v := (e.low + mask) &^ mask; v-e.low < uint64(e.rng) {
			e.low = v
			break
		}
	}
	for range 5 {
		e.shiftLow()
	}
	out := e.out
	for range maxOver {
		if len(out) == e.start || out[len(out)-1] != 0 {
			break
		}
		out = out[:len(out)-1]
	}
	return out
}

// rangeDecoder reads the decisions that rangeEncoder wrote. Past the end of
// its input it reads zero bytes; over counts those, so that a caller can
// tell a stream that ended too early.
type rangeDecoder struct {
	code uint32 // the coded number minus low, within [0, rng)
	rng  uint32
	in   []byte
	pos  int
	over int // bytes read past the end of in
}

func (d *rangeDecoder) reset(in []byte) {
	*d = rangeDecoder{rng: 0xFFFFFFFF, in: in}
	for range 4 {
		d.code = d.code<<8 | uint32(d.next())
	}
}

func (d *rangeDecoder) next() byte {
	if d.pos < len(d.in) {
		b := d.in[d.pos]
		d.pos++
		return b
	}
	d.over++
	return 0
}

// decode returns the next bit coded with probability c and adapts c.
func (d *rangeDecoder) decode(c *prob) int {
	bound := (d.rng >> probBits) * uint32(c.p)
	var bit int
	if d.code < bound {
		d.rng = bound
	} else {
		d.code -= bound
		d.rng -= bound
		bit = 1
	}
	c.update(bit)
	if d.rng < topByte {
		d.normalize()
	}
	return bit
}

// normalize reads bytes in until rng ≥ 2^24 again.
func (d *rangeDecoder) normalize() {
	for d.rng < topByte {
		d.rng <<= 8
		d.code = d.code<<8 | uint32(d.next())
	}
}
