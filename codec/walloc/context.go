package walloc

import "math/bits"

// Context model of the range coding (Coding "range").
//
// The latents are coded channel by channel, each channel in raster order
// (rows top to bottom, each row left to right; audio in time order). A value
// v ∈ [−128, 127] is binarised as
//
//	zero flag                   1 if v ≠ 0
//	sign                        1 if v < 0                  (if v ≠ 0)
//	magnitude class c           c = ⌊log2 |v|⌋ in unary: c ones, then a zero
//	                            unless c is the largest class of the sign
//	                            (6 for v > 0, 7 for v < 0)
//	mantissa                    the c bits of |v| below its leading one,
//	                            most significant first  (none for c = 7,
//	                            whose only magnitude is 128)
//
// so that every sequence of decisions gives a value in [−128, 127], and
// every decision has an adaptive probability chosen by a context:
//
//   - activity a: a bucket (actBuckets of them, about logarithmic) of the
//     magnitudes of already coded neighbours in the same channel,
//     t = 2|L| + 2|U| + |UL| + |UR| for images (left, up, up-left, up-right)
//     and t = 3|x₋₁| + 2|x₋₂| + |x₋₃| for audio, with unavailable neighbours
//     replaced by the nearest available one (0 at the first value);
//   - cross-channel magnitude e: a bucket (crossBuckets) of |v| at the same
//     position in the previous channel (bucket 0 in channel 0);
//   - sign context: the signs (zero, +, −) of L and U (audio: x₋₁ and x₋₂).
//
// The zero flag is coded in context (a, e), the sign in the sign context,
// the unary class decision i in (a, i), and the mantissa bits in (g, c,
// node) with the activity group g = ⌊3a/actBuckets⌋: node is the
// binary-tree position of the bit among the first three mantissa bits, and
// its position below that. (The cross-channel bucket helps the zero flag on
// PCA-like latents of images but not the class decisions, whose scale
// changes from channel to channel.)
//
// One set of contexts serves all channels and re-adapts at each: at the
// start of channel k ≥ 1 every context keeps the probability it had at the
// end of channel k−1 but its count is lowered to carryCount, so that it
// follows the new channel's statistics at a fast rate (1/32) while a small
// latent still profits from what earlier channels taught.

const (
	actBuckets   = 13
	crossBuckets = 5
	signCtx      = 9
	classCtx     = 7  // unary decisions "class > i", i = 0..6
	mantCtx      = 12 // 7 tree nodes, then bit positions 0..3 (+8)
	mantGroups   = 3
	numClasses   = 8
	carryCount   = 15
)

// actBucket maps the neighbourhood activity t (clamped to 255) to its
// bucket: 0 | 1–2 | 3–5 | 6–8 | 9–13 | 14–19 | 20–27 | 28–39 | 40–55 |
// 56–79 | 80–111 | 112–159 | ≥ 160. The activity is about six times the
// expected magnitude, so a bucket spans about 40 % in magnitude.
var actBucket = func() [256]uint8 {
	edges := [actBuckets - 1]int{1, 3, 6, 9, 14, 20, 28, 40, 56, 80, 112, 160}
	var t [256]uint8
	for v := range t {
		b := 0
		for b < len(edges) && v >= edges[b] {
			b++
		}
		t[v] = uint8(b)
	}
	return t
}()

// crossBucket maps |v| of the previous channel: 0 | 1 | 2–3 | 4–7 | ≥ 8.
var crossBucket = func() [129]uint8 {
	var t [129]uint8
	for v := range t {
		switch {
		case v == 0:
			t[v] = 0
		case v == 1:
			t[v] = 1
		case v < 4:
			t[v] = 2
		case v < 8:
			t[v] = 3
		default:
			t[v] = 4
		}
	}
	return t
}()

// absTab[uint8(v)] = |v| for an int8 v (128 for −128).
var absTab = func() [256]uint8 {
	var t [256]uint8
	for i := range t {
		v := int(int8(uint8(i)))
		if v < 0 {
			v = -v
		}
		t[i] = uint8(v)
	}
	return t
}()

func abs8(v int8) int { return int(absTab[uint8(v)]) }

// signOf is 0 for 0, 1 for a positive and 2 for a negative value.
func signOf(v int8) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return 2
	}
	return 0
}

// model holds the adaptive probabilities of one channel.
type model struct {
	zero  [actBuckets][crossBuckets]prob
	sign  [signCtx]prob
	class [actBuckets][classCtx]prob
	mant  [mantGroups][numClasses][mantCtx]prob
}

func newModel() *model {
	m := new(model)
	m.each(func(c *prob) { *c = newProb() })
	return m
}

func (m *model) each(f func(*prob)) {
	for i := range m.zero {
		for j := range m.zero[i] {
			f(&m.zero[i][j])
		}
	}
	for i := range m.sign {
		f(&m.sign[i])
	}
	for i := range m.class {
		for j := range m.class[i] {
			f(&m.class[i][j])
		}
	}
	for g := range m.mant {
		for i := range m.mant[g] {
			for j := range m.mant[g][i] {
				f(&m.mant[g][i][j])
			}
		}
	}
}

// nextChannel lowers every count to carryCount (see the model description).
func (m *model) nextChannel() {
	m.each(func(c *prob) { c.n = min(c.n, carryCount) })
}

// context is the coding context of one value.
type context struct{ act, cross, sign int }

// context2D is the context of pl[y·cols+x] in an image channel plane pl,
// whose previous channel's plane is prev (nil in channel 0).
func context2D(pl, prev []int8, cols, y, x int) context {
	i := y*cols + x
	var l, u, ul, ur int8
	switch {
	case y == 0 && x == 0:
	case y == 0:
		l = pl[i-1]
		u, ul, ur = l, l, l
	default:
		up := pl[i-cols : i-cols+cols-x]
		u = up[0]
		if x > 0 {
			l, ul = pl[i-1], pl[i-cols-1]
		} else {
			l, ul = u, u
		}
		if len(up) > 1 {
			ur = up[1]
		} else {
			ur = u
		}
	}
	t := 2*abs8(l) + 2*abs8(u) + abs8(ul) + abs8(ur)
	c := context{act: int(actBucket[min(t, 255)]), sign: 3*signOf(l) + signOf(u)}
	if prev != nil {
		c.cross = int(crossBucket[abs8(prev[i])])
	}
	return c
}

// context1D is the context of pl[x] in an audio channel pl, whose previous
// channel is prev (nil in channel 0).
func context1D(pl, prev []int8, x int) context {
	var a, b, c int8
	switch {
	case x >= 3:
		a, b, c = pl[x-1], pl[x-2], pl[x-3]
	case x == 2:
		a, b = pl[1], pl[0]
		c = b
	case x == 1:
		a = pl[0]
		b, c = a, a
	}
	t := 3*abs8(a) + 2*abs8(b) + abs8(c)
	ctx := context{act: int(actBucket[min(t, 255)]), sign: 3*signOf(a) + signOf(b)}
	if prev != nil {
		ctx.cross = int(crossBucket[abs8(prev[x])])
	}
	return ctx
}

// encodeValue codes v in context c.
func (m *model) encodeValue(e *rangeEncoder, c context, v int8) {
	if v == 0 {
		e.encode(&m.zero[c.act][c.cross], 0)
		return
	}
	e.encode(&m.zero[c.act][c.cross], 1)
	neg := 0
	maxClass := numClasses - 2
	if v < 0 {
		neg, maxClass = 1, numClasses-1
	}
	e.encode(&m.sign[c.sign], neg)
	mag := uint(abs8(v))
	cls := bits.Len(mag) - 1
	cc := &m.class[c.act]
	for i := range cls {
		e.encode(&cc[i], 1)
	}
	if cls < maxClass {
		e.encode(&cc[cls], 0)
	}
	if cls == numClasses-1 {
		return
	}
	mc := &m.mant[c.act*mantGroups/actBuckets][cls]
	node := 1
	for b := cls - 1; b >= 0; b-- {
		bit := int(mag>>uint(b)) & 1
		if node < 8 {
			e.encode(&mc[node], bit)
			node = 2*node + bit
		} else {
			e.encode(&mc[8+b], bit)
		}
	}
}

// decodeValue decodes a value coded by encodeValue in context c.
func (m *model) decodeValue(d *rangeDecoder, c context) int8 {
	if d.decode(&m.zero[c.act][c.cross]) == 0 {
		return 0
	}
	neg := d.decode(&m.sign[c.sign])
	maxClass := numClasses - 2 + neg
	cc := &m.class[c.act]
	cls := 0
	for cls < maxClass && d.decode(&cc[cls]) == 1 {
		cls++
	}
	if cls == numClasses-1 {
		return -128
	}
	mc := &m.mant[c.act*mantGroups/actBuckets][cls]
	mag := 1
	node := 1
	for b := cls - 1; b >= 0; b-- {
		var bit int
		if node < 8 {
			bit = d.decode(&mc[node])
			node = 2*node + bit
		} else {
			bit = d.decode(&mc[8+b])
		}
		mag = 2*mag + bit
	}
	if neg == 1 {
		return int8(-mag)
	}
	return int8(mag)
}

// encodeRange appends the range coding of the latents q, of shape
// (channels, rows, cols) row-major, to out. audio selects the 1-D context
// (rows is then 1).
func encodeRange(out []byte, q []int8, channels, rows, cols int, audio bool) []byte {
	var e rangeEncoder
	e.reset(out)
	m := newModel()
	plane := rows * cols
	var prev []int8
	for k := range channels {
		if k > 0 {
			m.nextChannel()
		}
		pl := q[k*plane : (k+1)*plane]
		if audio {
			for x, v := range pl {
				m.encodeValue(&e, context1D(pl, prev, x), v)
			}
		} else {
			for y := range rows {
				for x := range cols {
					m.encodeValue(&e, context2D(pl, prev, cols, y, x), pl[y*cols+x])
				}
			}
		}
		prev = pl
	}
	return e.finish()
}

// decodeRange fills q, of shape (channels, rows, cols), from the range
// coding in. It returns how many bytes of in the decoder read and how many
// past its end: a stream that encodeRange wrote is read to its end and at
// most maxOver bytes beyond. It stops after the first channel that reads
// more than maxOver bytes beyond.
func decodeRange(q []int8, in []byte, channels, rows, cols int, audio bool) (pos, over int) {
	var d rangeDecoder
	d.reset(in)
	m := newModel()
	plane := rows * cols
	var prev []int8
	for k := range channels {
		if k > 0 {
			m.nextChannel()
		}
		pl := q[k*plane : (k+1)*plane]
		if audio {
			for x := range pl {
				pl[x] = m.decodeValue(&d, context1D(pl, prev, x))
			}
		} else {
			for y := range rows {
				for x := range cols {
					pl[y*cols+x] = m.decodeValue(&d, context2D(pl, prev, cols, y, x))
				}
			}
		}
		prev = pl
		if d.over > maxOver {
			break
		}
	}
	return d.pos, d.over
}
