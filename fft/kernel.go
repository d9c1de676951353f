package fft

import (
	"fmt"
	"math"
)

// maxRadix is the largest prime factor handled by a butterfly stage; lengths
// with a larger prime factor use Bluestein's algorithm.
const maxRadix = 31

// stage is one pass of the Stockham decimation-in-frequency algorithm: it turns
// the sub-transforms of length r·m into r sub-transforms of length m. With
// stride s (the product of the earlier radices times the vector width),
//
//	y[q + s(r p + k)] = w^{pk} Σ_j x[q + s(p + j m)] ω_r^{jk},   w = exp(∓2πi/(r m)),
//
// for p < m, q < s, k < r. After the last stage y holds the transform in
// natural order, so no digit reversal is needed.
type stage struct {
	r, m int
	// tw[p(r−1) + k − 1] = exp(−2πi p k/(r m)) and twi its conjugate.
	tw, twi []complex128
	// roots[k] = exp(−2πi k/r) and rootsi its conjugate, for generic radices.
	roots, rootsi []complex128
}

// line is a plan for complex transforms of one length n applied to v
// interleaved vectors: element j of vector c is stored at index j·v + c.
type line struct {
	n      int
	stages []stage
	blue   *bluestein
	maxR   int // largest generic radix, for the temporary of the generic butterfly
}

// expi returns exp(−2πi t/n) for integer t, reducing t modulo n exactly so that
// large products p·k keep full accuracy.
func expi(t, n int) complex128 {
	t %= n
	if t < 0 {
		t += n
	}
	// Use the octant symmetry for accuracy near multiples of π/2.
	s, c := math.Sincos(2 * math.Pi * float64(t) / float64(n))
	return complex(c, -s)
}

// factorize returns the radices of n in the order the stages use them
// (4s first, then 2, then odd primes ascending), and whether every prime
// factor is at most maxRadix.
func factorize(n int) (radices []int, smooth bool) {
	for n%4 == 0 {
		radices = append(radices, 4)
		n /= 4
	}
	if n%2 == 0 {
		radices = append(radices, 2)
		n /= 2
	}
	for p := 3; p*p <= n; p += 2 {
		for n%p == 0 {
			radices = append(radices, p)
			n /= p
		}
	}
	if n > 1 {
		radices = append(radices, n)
	}
	for _, r := range radices {
		if r > maxRadix {
			return radices, false
		}
	}
	return radices, true
}

// newLine returns a plan for length n ≥ 1.
func newLine(n int) *line {
	if n < 1 {
		panic(fmt.Sprintf("fft: length %d < 1", n))
	}
	l := &line{n: n}
	radices, smooth := factorize(n)
	if !smooth {
		l.blue = newBluestein(n)
		return l
	}
	cur := n
	for _, r := range radices {
		m := cur / r
		st := stage{r: r, m: m}
		st.tw = make([]complex128, (r-1)*m)
		st.twi = make([]complex128, (r-1)*m)
		for p := 0; p < m; p++ {
			for k := 1; k < r; k++ {
				w := expi(p*k, cur)
				st.tw[p*(r-1)+k-1] = w
				st.twi[p*(r-1)+k-1] = conj(w)
			}
		}
		if r != 2 && r != 3 && r != 4 && r != 5 {
			st.roots = make([]complex128, r)
			st.rootsi = make([]complex128, r)
			for k := range r {
				st.roots[k] = expi(k, r)
				st.rootsi[k] = conj(st.roots[k])
			}
			l.maxR = max(l.maxR, r)
		}
		l.stages = append(l.stages, st)
		cur = m
	}
	return l
}

func conj(z complex128) complex128 { return complex(real(z), -imag(z)) }

// workLen returns the length of the work slice that run needs for v vectors.
func (l *line) workLen(v int) int {
	if l.blue != nil {
		return l.blue.workLen()
	}
	return l.n*v + l.maxR
}

// run transforms v interleaved vectors of length n from src into dst; the
// inverse is unnormalised (no 1/n). src may be dst; work must not overlap
// either and must have length at least workLen(v). src is not modified unless
// it is dst.
func (l *line) run(dst, src, work []complex128, v int, inverse bool) {
	n := l.n
	size := n * v
	src = src[:size]
	dst = dst[:size]
	if l.blue != nil {
		l.blue.run(dst, src, work, v, inverse)
		return
	}
	ns := len(l.stages)
	if ns == 0 {
		copy(dst, src)
		return
	}
	tmp := work[size : size+l.maxR]
	buf := work[:size]
	in := src
	aliased := &src[0] == &dst[0]
	// The last stage must write dst; stages alternate between dst and buf.
	var out []complex128
	if ns%2 == 1 {
		if aliased {
			copy(buf, src)
			in = buf
		}
		out = dst
	} else {
		out = buf
	}
	s := v
	for i := range l.stages {
		st := &l.stages[i]
		tw := st.tw
		if inverse {
			tw = st.twi
		}
		switch st.r {
		case 4:
			radix4(out, in, tw, st.m, s, inverse)
		case 2:
			radix2(out, in, tw, st.m, s)
		case 3:
			radix3(out, in, tw, st.m, s, inverse)
		case 5:
			radix5(out, in, tw, st.m, s, inverse)
		default:
			roots := st.roots
			if inverse {
				roots = st.rootsi
			}
			radixGeneric(out, in, tw, roots, tmp, st.r, st.m, s)
		}
		s *= st.r
		if &out[0] == &dst[0] {
			in, out = dst, buf
		} else {
			in, out = buf, dst
		}
	}
}

// Sign masks of the vector radix-4 kernel: flipping the sign of the odd
// (imaginary) lanes of swap(t) gives −i·t, of the even lanes +i·t.
var (
	maskFwd = [4]float64{0, math.Copysign(0, -1), 0, math.Copysign(0, -1)}
	maskInv = [4]float64{math.Copysign(0, -1), 0, math.Copysign(0, -1), 0}
)

// radix2 performs one radix-2 stage (see stage).
func radix2(y, x, tw []complex128, m, s int) {
	if haveAVX && s%2 == 0 {
		_, _, _ = x[2*m*s-1], y[2*m*s-1], tw[m-1]
		radix2AVX(&y[0], &x[0], &tw[0], m, s, s, m*s, 2*s, s, 1)
		return
	}
	for p := range m {
		x0 := x[s*p : s*p+s]
		x1 := x[s*(p+m) : s*(p+m)+s]
		y0 := y[s*2*p : s*2*p+s]
		y1 := y[s*(2*p+1) : s*(2*p+1)+s]
		if p == 0 {
			for q, a := range x0 {
				b := x1[q]
				y0[q] = a + b
				y1[q] = a - b
			}
			continue
		}
		w := tw[p]
		for q, a := range x0 {
			b := x1[q]
			y0[q] = a + b
			y1[q] = (a - b) * w
		}
	}
}

// radix4 performs one radix-4 stage (see stage).
func radix4(y, x, tw []complex128, m, s int, inverse bool) {
	if s == 1 {
		radix4s1(y, x, tw, m, inverse)
		return
	}
	if haveAVX && s%2 == 0 {
		_, _, _ = x[4*m*s-1], y[4*m*s-1], tw[3*m-1]
		mask := &maskFwd
		if inverse {
			mask = &maskInv
		}
		radix4AVX(&y[0], &x[0], &tw[0], m, s, s, m*s, 4*s, s, 3, mask)
		return
	}
	for p := range m {
		x0 := x[s*p : s*p+s]
		x1 := x[s*(p+m) : s*(p+m)+s]
		x2 := x[s*(p+2*m) : s*(p+2*m)+s]
		x3 := x[s*(p+3*m) : s*(p+3*m)+s]
		y0 := y[s*4*p : s*4*p+s]
		y1 := y[s*(4*p+1) : s*(4*p+1)+s]
		y2 := y[s*(4*p+2) : s*(4*p+2)+s]
		y3 := y[s*(4*p+3) : s*(4*p+3)+s]
		if p == 0 {
			if inverse {
				for q, a0 := range x0 {
					a1, a2, a3 := x1[q], x2[q], x3[q]
					t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, a1-a3
					it3 := complex(-imag(t3), real(t3))
					y0[q] = t0 + t2
					y1[q] = t1 + it3
					y2[q] = t0 - t2
					y3[q] = t1 - it3
				}
			} else {
				for q, a0 := range x0 {
					a1, a2, a3 := x1[q], x2[q], x3[q]
					t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, a1-a3
					it3 := complex(-imag(t3), real(t3))
					y0[q] = t0 + t2
					y1[q] = t1 - it3
					y2[q] = t0 - t2
					y3[q] = t1 + it3
				}
			}
			continue
		}
		w1, w2, w3 := tw[3*p], tw[3*p+1], tw[3*p+2]
		if inverse {
			for q, a0 := range x0 {
				a1, a2, a3 := x1[q], x2[q], x3[q]
				t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, a1-a3
				it3 := complex(-imag(t3), real(t3))
				y0[q] = t0 + t2
				y1[q] = (t1 + it3) * w1
				y2[q] = (t0 - t2) * w2
				y3[q] = (t1 - it3) * w3
			}
		} else {
			for q, a0 := range x0 {
				a1, a2, a3 := x1[q], x2[q], x3[q]
				t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, a1-a3
				it3 := complex(-imag(t3), real(t3))
				y0[q] = t0 + t2
				y1[q] = (t1 - it3) * w1
				y2[q] = (t0 - t2) * w2
				y3[q] = (t1 + it3) * w3
			}
		}
	}
}

// radix4s1 is radix4 for stride 1 (the first stage of a single vector).
func radix4s1(y, x, tw []complex128, m int, inverse bool) {
	x0 := x[:m]
	x1 := x[m : 2*m]
	x2 := x[2*m : 3*m]
	x3 := x[3*m : 4*m]
	y = y[:4*m]
	tw = tw[:3*m]
	sgn := -1.0
	if inverse {
		sgn = 1
	}
	for p, a0 := range x0 {
		a1, a2, a3 := x1[p], x2[p], x3[p]
		t0, t1, t2, t3 := a0+a2, a0-a2, a1+a3, a1-a3
		it3 := complex(-sgn*imag(t3), sgn*real(t3))
		b0, b1, b2, b3 := t0+t2, t1+it3, t0-t2, t1-it3
		o := y[4*p : 4*p+4]
		o[0] = b0
		if p == 0 {
			o[1], o[2], o[3] = b1, b2, b3
			continue
		}
		w := tw[3*p : 3*p+3]
		o[1] = b1 * w[0]
		o[2] = b2 * w[1]
		o[3] = b3 * w[2]
	}
}

// Constants of the radix-3 and radix-5 butterflies.
var (
	c3  = -0.5                      // cos(2π/3)
	s3  = math.Sqrt(3) / 2          // sin(2π/3)
	c51 = math.Cos(2 * math.Pi / 5) // cos(2π/5)
	c52 = math.Cos(4 * math.Pi / 5) // cos(4π/5)
	s51 = math.Sin(2 * math.Pi / 5) // sin(2π/5)
	s52 = math.Sin(4 * math.Pi / 5) // sin(4π/5)
)

// radix3 performs one radix-3 stage (see stage).
func radix3(y, x, tw []complex128, m, s int, inverse bool) {
	sn := -s3 // forward: ω = exp(−2πi/3)
	if inverse {
		sn = s3
	}
	for p := range m {
		x0 := x[s*p : s*p+s]
		x1 := x[s*(p+m) : s*(p+m)+s]
		x2 := x[s*(p+2*m) : s*(p+2*m)+s]
		y0 := y[s*3*p : s*3*p+s]
		y1 := y[s*(3*p+1) : s*(3*p+1)+s]
		y2 := y[s*(3*p+2) : s*(3*p+2)+s]
		w1, w2 := complex(1, 0), complex(1, 0)
		if p > 0 {
			w1, w2 = tw[2*p], tw[2*p+1]
		}
		for q, a0 := range x0 {
			a1, a2 := x1[q], x2[q]
			t1 := a1 + a2
			t2 := a0 + complex(c3, 0)*t1
			d := a1 - a2
			// ±i·sin(2π/3)·(a1 − a2)
			t3 := complex(-sn*imag(d), sn*real(d))
			y0[q] = a0 + t1
			y1[q] = (t2 + t3) * w1
			y2[q] = (t2 - t3) * w2
		}
	}
}

// radix5 performs one radix-5 stage (see stage).
func radix5(y, x, tw []complex128, m, s int, inverse bool) {
	sg := -1.0
	if inverse {
		sg = 1
	}
	sa, sb := sg*s51, sg*s52
	for p := range m {
		x0 := x[s*p : s*p+s]
		x1 := x[s*(p+m) : s*(p+m)+s]
		x2 := x[s*(p+2*m) : s*(p+2*m)+s]
		x3 := x[s*(p+3*m) : s*(p+3*m)+s]
		x4 := x[s*(p+4*m) : s*(p+4*m)+s]
		y0 := y[s*5*p : s*5*p+s]
		y1 := y[s*(5*p+1) : s*(5*p+1)+s]
		y2 := y[s*(5*p+2) : s*(5*p+2)+s]
		y3 := y[s*(5*p+3) : s*(5*p+3)+s]
		y4 := y[s*(5*p+4) : s*(5*p+4)+s]
		w1, w2, w3, w4 := complex(1, 0), complex(1, 0), complex(1, 0), complex(1, 0)
		if p > 0 {
			w1, w2, w3, w4 = tw[4*p], tw[4*p+1], tw[4*p+2], tw[4*p+3]
		}
		for q, a0 := range x0 {
			a1, a2, a3, a4 := x1[q], x2[q], x3[q], x4[q]
			b1, b4 := a1+a4, a1-a4
			b2, b3 := a2+a3, a2-a3
			r1 := a0 + complex(c51, 0)*b1 + complex(c52, 0)*b2
			r2 := a0 + complex(c52, 0)*b1 + complex(c51, 0)*b2
			// i(sa·b4 + sb·b3) and i(sb·b4 − sa·b3)
			u1 := complex(sa, 0)*b4 + complex(sb, 0)*b3
			u2 := complex(sb, 0)*b4 - complex(sa, 0)*b3
			i1 := complex(-imag(u1), real(u1))
			i2 := complex(-imag(u2), real(u2))
			y0[q] = a0 + b1 + b2
			y1[q] = (r1 + i1) * w1
			y4[q] = (r1 - i1) * w4
			y2[q] = (r2 + i2) * w2
			y3[q] = (r2 - i2) * w3
		}
	}
}

// radixGeneric performs one stage of odd prime radix r by direct summation,
// O(r²) per butterfly. tmp has length ≥ r.
func radixGeneric(y, x, tw, roots, tmp []complex128, r, m, s int) {
	a := tmp[:r]
	for p := range m {
		for q := range s {
			for j := range r {
				a[j] = x[q+s*(p+j*m)]
			}
			for k := range r {
				var sum complex128
				t := 0
				for j := range r {
					sum += a[j] * roots[t]
					t += k
					if t >= r {
						t -= r
					}
				}
				if k > 0 && p > 0 {
					sum *= tw[p*(r-1)+k-1]
				}
				y[q+s*(r*p+k)] = sum
			}
		}
	}
}

// ones is the twiddle table of a stage without twiddle factors.
var ones = [3]complex128{1, 1, 1}

// vectorOK reports whether runStrided can transform v columns: vector
// kernels present, v even, and only radix-4 and radix-2 stages.
func (l *line) vectorOK(v int) bool {
	if !haveAVX || l.blue != nil || v%2 != 0 || len(l.stages) == 0 {
		return false
	}
	for _, st := range l.stages {
		if st.r != 4 && st.r != 2 {
			return false
		}
	}
	return true
}

// runStrided transforms v adjacent columns of a strided array without
// gathering them: element j of column c is read from src[j·sld + c] by the
// first stage and written to dst[j·dld + c] by the last; the stages between
// ping-pong through a and b (n·v values each). dst may be src (with
// dld = sld). The caller checks vectorOK(v); the inverse is unnormalised.
func (l *line) runStrided(dst []complex128, dld int, src []complex128, sld int, a, b []complex128, v int, inverse bool) {
	n := l.n
	_, _ = src[(n-1)*sld+v-1], dst[(n-1)*dld+v-1]
	_, _ = a[n*v-1], b[n*v-1]
	mask := &maskFwd
	if inverse {
		mask = &maskInv
	}
	last := len(l.stages) - 1
	in := src
	s := v
	for i := range l.stages {
		st := &l.stages[i]
		r, m := st.r, st.m
		tw := st.tw
		if inverse {
			tw = st.twi
		}
		twp := &tw[0]
		xp, xj := s, m*s
		if i == 0 {
			xp, xj = sld, m*sld
		}
		var out []complex128
		var count, inner, yp, yk, ts int
		if i == last {
			// m = 1 and s = v·n/r: element d + (n/r)k of column c goes to
			// dst[(d + (n/r)k)·dld + c]; no twiddles.
			out = dst
			count, inner = n/r, v
			if i > 0 {
				xp, xj = v, s
			}
			yp, yk, ts = dld, (n/r)*dld, 0
			twp = &ones[0]
		} else {
			if i%2 == 0 {
				out = a
			} else {
				out = b
			}
			count, inner, yp, yk, ts = m, s, r*s, s, r-1
		}
		if r == 4 {
			radix4AVX(&out[0], &in[0], twp, count, inner, xp, xj, yp, yk, ts, mask)
		} else {
			radix2AVX(&out[0], &in[0], twp, count, inner, xp, xj, yp, yk, ts)
		}
		in = out
		s *= r
	}
}

// toRows sets rows[r·ld + j] = block[j·v + r] for r < v, j < n: the scatter of
// a block of v interleaved vectors into v rows of stride ld.
func toRows(rows []complex128, ld int, block []complex128, v, n int) {
	_, _ = rows[(v-1)*ld+n-1], block[n*v-1]
	if haveAVX && v%2 == 0 && n%2 == 0 {
		transposeToRows(&rows[0], ld, &block[0], v, n)
		return
	}
	for r := range v {
		row := rows[r*ld : r*ld+n]
		for j := range row {
			row[j] = block[j*v+r]
		}
	}
}

// fromRows sets block[j·v + r] = rows[r·ld + j] for r < v, j < n: the gather
// of v rows of stride ld into a block of interleaved vectors.
func fromRows(block, rows []complex128, ld, v, n int) {
	_, _ = rows[(v-1)*ld+n-1], block[n*v-1]
	if haveAVX && v%2 == 0 && n%2 == 0 {
		transposeFromRows(&block[0], &rows[0], ld, v, n)
		return
	}
	for r := range v {
		row := rows[r*ld : r*ld+n]
		for j, z := range row {
			block[j*v+r] = z
		}
	}
}
