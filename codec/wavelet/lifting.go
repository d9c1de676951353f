package wavelet

import "unsafe"

// Float is the element type of the transforms: float32 (what the codec runs,
// half the memory traffic) or float64 (for checks of the mathematics).
type Float interface {
	~float32 | ~float64
}

// Lifting factorisation of the CDF 9/7 pair (Daubechies and Sweldens, "Factoring
// wavelet transforms into lifting steps", J. Fourier Anal. Appl. 4(3), 1998,
// §7.8; the same four steps as JPEG 2000, ITU-T T.800 Annex F). On a signal
// split into its even samples s⁰ᵢ = x₂ᵢ and odd samples d⁰ᵢ = x₂ᵢ₊₁:
//
//	d¹ᵢ = d⁰ᵢ + α (s⁰ᵢ + s⁰ᵢ₊₁)      s¹ᵢ = s⁰ᵢ + β (d¹ᵢ₋₁ + d¹ᵢ)
//	d²ᵢ = d¹ᵢ + γ (s¹ᵢ + s¹ᵢ₊₁)      s²ᵢ = s¹ᵢ + δ (d²ᵢ₋₁ + d²ᵢ)
//	sᵢ = ζ s²ᵢ                       dᵢ = −d²ᵢ / ζ
//
// The values below are the exact factors rounded to float64: they were
// obtained at 50 digits by building the CDF 9/7 filters from the real root of
// 20y³ + 10y² + 4y + 1 (Cohen, Daubechies and Feauveau 1992) and solving the
// lifting composition for them; they agree with the 15-digit values of
// T.800 (α = −1.586134342059924, …). ζ is not T.800's K = 1.230174…: the
// scales ζ and −1/ζ give the PyWavelets normalisation (lowpass gain √2 at
// frequency 0) and the PyWavelets sign of the highpass band.
const (
	liftAlpha = -1.58613434205992355842831545134
	liftBeta  = -0.0529801185729614146241295675035
	liftGamma = 0.882911075530933295919790099003
	liftDelta = 0.443506852043971152115604215169
	liftZeta  = 1.14960439886024115979507564219
)

// coefs holds the lifting factors in the element type, arranged so that
// every step is x + c·(a + b) or k·(x + c·(a + b)).
type coefs[T Float] struct {
	// Analysis: d¹ = x + a1(…), s¹ = x + b1(…), d = kd(d¹ + g1(…)),
	// s = ks(s¹ + e1(d₋₁ + d)) with the final (scaled) d.
	a1, b1, g1, kd, e1, ks T
	// Synthesis: s¹ = is(s + ie(d₋₁ + d)), d¹ = id(d + ig(…)),
	// x₂ᵢ = s¹ + ib(…), x₂ᵢ₊₁ = d¹ + ia(…).
	is, ie, id, ig, ib, ia T
}

func newCoefs[T Float]() coefs[T] {
	kd := -1 / liftZeta
	return coefs[T]{
		a1: T(liftAlpha), b1: T(liftBeta), g1: T(liftGamma), kd: T(kd),
		e1: T(liftDelta / kd), ks: T(liftZeta),
		is: T(1 / liftZeta), ie: T(-liftDelta / kd * liftZeta), id: T(1 / kd),
		ig: T(-liftGamma * kd), ib: T(-liftBeta), ia: T(-liftAlpha),
	}
}

// analyzeLine computes one level of the periodic CDF 9/7 analysis of x
// (length 2n): the lowpass half into s and the highpass half into d (length n
// each), with s[i] centred on x[2i] and d[i] on x[2i+1]. s and d may overlap
// x; ext is scratch of length ≥ 2n+8. Cost: 6 multiplications and 8
// additions per pair of samples (direct convolution: 16 and 14).
//
// With the vector kernels x is split into halves that are lifted in place
// (analyzeRows; ext holds a copy of x if it overlaps s or d). Otherwise the
// four steps run in one pass, pipelined in registers, over x held in ext
// with four samples of periodic extension on either side.
func analyzeLine[T Float](s, d, x, ext []T, c *coefs[T]) {
	n := len(s)
	m := 2 * n
	if haveAVX {
		if overlap(x, s) || overlap(x, d) {
			copy(ext, x[:m])
			x = ext[:m]
		}
		analyzeRows(s, d, x, c)
		return
	}
	e := ext[:m+8]
	copy(e[4:4+m], x[:m])
	for k := range 4 { // e[j] = x[(j−4) mod 2n]
		e[3-k] = e[4+((m-1-k)%m+m)%m]
		e[m+4+k] = e[4+k%m]
	}
	s, d = s[:n], d[:n]
	a1, b1, g1, kd, e1, ks := c.a1, c.b1, c.g1, c.kd, c.e1, c.ks
	// E(k) = e[k+4]. Prologue: d¹₋₂, d¹₋₁, s¹₋₁, then d¹₀, s¹₀ and d₋₁.
	dm2 := e[1] + a1*(e[0]+e[2])
	d1p := e[3] + a1*(e[2]+e[4])
	s1p := e[2] + b1*(dm2+d1p)
	d1 := e[5] + a1*(e[4]+e[6])
	s1 := e[4] + b1*(d1p+d1)
	dp := kd * (d1p + g1*(s1p+s1))
	d1p, s1p = d1, s1
	ev := e[6]
	for i := range n {
		w := e[2*i+7 : 2*i+9]
		d1 = w[0] + a1*(ev+w[1])
		s1 = ev + b1*(d1p+d1)
		dc := kd * (d1p + g1*(s1p+s1))
		s[i] = ks * (s1p + e1*(dp+dc))
		d[i] = dc
		dp, d1p, s1p, ev = dc, d1, s1, w[1]
	}
}

// synthesizeLine inverts analyzeLine: x (length 2n) from its lowpass half s
// and highpass half d, which it leaves unchanged; x may overlap them. es and
// ed are scratch of length ≥ n+4 each: copies of s and d to lift in place
// (synthesizeRows), or, without the vector kernels, s and d with two samples
// of periodic extension on either side for the one-pass pipeline.
func synthesizeLine[T Float](x, s, d, es, ed []T, c *coefs[T]) {
	n := len(s)
	if haveAVX {
		copy(es, s)
		copy(ed, d[:n])
		synthesizeRows(x, es[:n], ed[:n], c)
		return
	}
	es, ed = es[:n+4], ed[:n+4]
	copy(es[2:2+n], s)
	copy(ed[2:2+n], d[:n])
	for k := range 2 { // es[j] = s[(j−2) mod n]
		es[1-k] = es[2+((n-1-k)%n+n)%n]
		es[n+2+k] = es[2+k%n]
		ed[1-k] = ed[2+((n-1-k)%n+n)%n]
		ed[n+2+k] = ed[2+k%n]
	}
	x = x[:2*n]
	is, ie, id, ig, ib, ia := c.is, c.ie, c.id, c.ig, c.ib, c.ia
	// S(k) = es[k+2], D(k) = ed[k+2]. Prologue: s¹₋₁, s¹₀, d¹₋₁, then s¹₁,
	// d¹₀ and x₀.
	sm1 := is * (es[1] + ie*(ed[0]+ed[1]))
	s1c := is * (es[2] + ie*(ed[1]+ed[2]))
	d1p := id * (ed[1] + ig*(sm1+s1c))
	s1n := is * (es[3] + ie*(ed[2]+ed[3]))
	d1c := id * (ed[2] + ig*(s1c+s1n))
	xep := s1c + ib*(d1p+d1c)
	d1p, s1c = d1c, s1n
	dv := ed[3]
	for i := range n {
		// Step i+1: s¹ᵢ₊₂, d¹ᵢ₊₁, x₂ᵢ₊₂, and x₂ᵢ₊₁ from them.
		ws, wd := es[i+4], ed[i+4]
		s1n = is * (ws + ie*(dv+wd))
		d1c = id * (dv + ig*(s1c+s1n))
		xe := s1c + ib*(d1p+d1c)
		x[2*i] = xep
		x[2*i+1] = d1p + ia*(xep+xe)
		xep, d1p, s1c, dv = xe, d1c, s1n, wd
	}
}

// lift sets dst[j] = k·(x[j] + c·(a[j] + b[j])) for j < len(dst): every
// lifting step, on whole rows (columns of an image) or on the even and odd
// halves of a row (b shifted by one element). dst may be x.
func lift[T Float](dst, x, a, b []T, c, k T) {
	n := len(dst)
	x, a, b = x[:n], a[:n], b[:n]
	switch {
	case n == 0:
	case haveAVX && unsafe.Sizeof(c) == 4:
		liftAVX32(f32(dst), f32(x), f32(a), f32(b), n, float32(c), float32(k))
	case haveAVX:
		liftAVX64(f64(dst), f64(x), f64(a), f64(b), n, float64(c), float64(k))
	default:
		for j := range dst {
			dst[j] = k * (x[j] + c*(a[j]+b[j]))
		}
	}
}

// split sets s[i] = x[2i] and d[i] = x[2i+1] for i < len(s).
func split[T Float](s, d, x []T) {
	n := len(s)
	d, x = d[:n], x[:2*n]
	switch {
	case n == 0:
	case haveAVX && unsafe.Sizeof(x[0]) == 4:
		splitAVX32(f32(s), f32(d), f32(x), n)
	case haveAVX:
		splitAVX64(f64(s), f64(d), f64(x), n)
	default:
		for i := range s {
			s[i], d[i] = x[2*i], x[2*i+1]
		}
	}
}

// merge sets x[2i] = s[i] and x[2i+1] = d[i] for i < len(s).
func merge[T Float](x, s, d []T) {
	n := len(s)
	d, x = d[:n], x[:2*n]
	switch {
	case n == 0:
	case haveAVX && unsafe.Sizeof(x[0]) == 4:
		mergeAVX32(f32(x), f32(s), f32(d), n)
	case haveAVX:
		mergeAVX64(f64(x), f64(s), f64(d), n)
	default:
		for i := range s {
			x[2*i], x[2*i+1] = s[i], d[i]
		}
	}
}

// f32 and f64 reinterpret a non-empty slice of a Float type of that size.
func f32[T Float](x []T) *float32 { return (*float32)(unsafe.Pointer(&x[0])) }
func f64[T Float](x []T) *float64 { return (*float64)(unsafe.Pointer(&x[0])) }

// analyzeRows is analyzeLine for the vector kernels: x is split into its
// even samples (in s) and odd samples (in d), and the lifting steps run in
// place on whole halves, the neighbour i+1 (or i−1) being the same half
// shifted by one, with the periodic wrap done separately. s and d must not
// overlap x.
func analyzeRows[T Float](s, d, x []T, c *coefs[T]) {
	n := len(s)
	d = d[:n]
	split(s, d, x)
	// d¹ᵢ = dᵢ + α(sᵢ + sᵢ₊₁)
	lift(d[:n-1], d[:n-1], s[:n-1], s[1:], c.a1, 1)
	d[n-1] += c.a1 * (s[n-1] + s[0])
	// s¹ᵢ = sᵢ + β(d¹ᵢ₋₁ + d¹ᵢ)
	s[0] += c.b1 * (d[n-1] + d[0])
	lift(s[1:], s[1:], d[:n-1], d[1:], c.b1, 1)
	// dᵢ = kd(d¹ᵢ + γ(s¹ᵢ + s¹ᵢ₊₁))
	lift(d[:n-1], d[:n-1], s[:n-1], s[1:], c.g1, c.kd)
	d[n-1] = c.kd * (d[n-1] + c.g1*(s[n-1]+s[0]))
	// sᵢ = ks(s¹ᵢ + e1(dᵢ₋₁ + dᵢ))
	s[0] = c.ks * (s[0] + c.e1*(d[n-1]+d[0]))
	lift(s[1:], s[1:], d[:n-1], d[1:], c.e1, c.ks)
}

// synthesizeRows is synthesizeLine for the vector kernels: the steps of
// analyzeRows undone in reverse order, in place on s and d (which it
// overwrites), then the halves interleaved into x. x must not overlap s or d.
func synthesizeRows[T Float](x, s, d []T, c *coefs[T]) {
	n := len(s)
	d = d[:n]
	s0 := c.is * (s[0] + c.ie*(d[n-1]+d[0]))
	lift(s[1:], s[1:], d[:n-1], d[1:], c.ie, c.is)
	s[0] = s0
	dl := c.id * (d[n-1] + c.ig*(s[n-1]+s[0]))
	lift(d[:n-1], d[:n-1], s[:n-1], s[1:], c.ig, c.id)
	d[n-1] = dl
	s0 = s[0] + c.ib*(d[n-1]+d[0])
	lift(s[1:], s[1:], d[:n-1], d[1:], c.ib, 1)
	s[0] = s0
	dl = d[n-1] + c.ia*(s[n-1]+s[0])
	lift(d[:n-1], d[:n-1], s[:n-1], s[1:], c.ia, 1)
	d[n-1] = dl
	merge(x, s, d)
}
