package fft

import (
	"fmt"
	"slices"
	"unsafe"
)

// Real is a plan for real-to-complex (half-spectrum) transforms of a real grid
// of a fixed shape, batched over leading axes. The spectrum of a grid of shape
// (n_0, …, n_{d−1}) has shape (n_0, …, n_{d−2}, n_{d−1}/2+1): the last axis keeps
// the wavenumbers 0 … ⌊n_{d−1}/2⌋, the others are complete.
type Real struct {
	shape, half []int
	size, hsize int
	lines       []*line // axes 0 … d−2 (complex), nil for the last
	rline       *line   // last axis: length n/2 for even n, n for odd n
	tw          []complex128
	cols        int          // last-axis wavenumbers computed (SetTruncation)
	spec        []complex128 // inverse: spectrum after the complex axes
	rowFwdFn    func(w, lo, hi int)
	rowInvFn    func(w, lo, hi int)
	rows        rowPass
	engine
}

// rowPass is the current real-axis pass.
type rowPass struct {
	re    []float64
	spec  []complex128
	scale float64
	count int // rows
}

// rowTasks returns the number of tasks of a real-axis pass over rows rows:
// blocks of blockWidth(n/2) rows for even n, single rows for odd n.
func (p *Real) rowTasks(rows int) int {
	n := p.shape[len(p.shape)-1]
	if n%2 == 1 {
		return rows
	}
	v := blockWidth(n / 2)
	return (rows + v - 1) / v
}

// NewReal returns a plan for real transforms on a grid of the given shape
// (row-major, each length ≥ 1). The plan uses one worker; see SetWorkers.
func NewReal(shape ...int) *Real {
	p := &Real{shape: slices.Clone(shape), size: checkShape(shape)}
	d := len(shape)
	n := shape[d-1]
	p.half = slices.Clone(shape)
	p.half[d-1] = n/2 + 1
	p.hsize = p.size / n * (n/2 + 1)
	byLen := map[int]*line{}
	for a := range d - 1 {
		l := byLen[shape[a]]
		if l == nil {
			l = newLine(shape[a])
			byLen[shape[a]] = l
		}
		p.lines = append(p.lines, l)
		p.need(l)
	}
	if n%2 == 0 {
		p.rline = newLine(n / 2)
		m := n / 2
		p.tw = make([]complex128, m/2+1)
		for k := range p.tw {
			p.tw[k] = expi(k, n)
		}
	} else {
		p.rline = newLine(n)
	}
	p.need(p.rline)
	p.rowLen = n + 1
	p.cols = n/2 + 1
	p.rowFwdFn = p.rowForward
	p.rowInvFn = p.rowInverse
	p.init(1)
	return p
}

// Shape returns the real grid shape.
func (p *Real) Shape() []int { return slices.Clone(p.shape) }

// SpectrumShape returns the half-spectrum shape.
func (p *Real) SpectrumShape() []int { return slices.Clone(p.half) }

// Len returns the number of real values of one grid.
func (p *Real) Len() int { return p.size }

// SpectrumLen returns the number of complex values of one half spectrum.
func (p *Real) SpectrumLen() int { return p.hsize }

// SetWorkers sets the number of goroutines (≥ 1) that share the work of one call.
func (p *Real) SetWorkers(w int) { p.setWorkers(w) }

// SetTruncation restricts the half spectrum to the last-axis wavenumbers
// m < k: Forward sets the others to zero instead of computing them, and
// Inverse treats them as zero whatever src holds there. Along the other axes
// only the k retained lines are transformed, so for spectra dealiased by the
// 2/3 rule (k = ⌊(n−1)/3⌋ + 1) that work drops by a third. k = n/2+1, the
// default, transforms everything. Panics unless 1 ≤ k ≤ n/2+1.
func (p *Real) SetTruncation(k int) {
	h := p.half[len(p.half)-1]
	if k < 1 || k > h {
		panic(fmt.Sprintf("fft: truncation %d outside [1, %d]", k, h))
	}
	p.cols = k
}

// Forward sets dst to the half spectrum of each real grid of src (unnormalised,
// see the package documentation). len(src) must be a positive multiple of Len
// and len(dst) the same multiple of SpectrumLen. src is not modified.
func (p *Real) Forward(dst []complex128, src []float64) {
	batch := batchOf(len(src), p.size, "src")
	if len(dst) != batch*p.hsize {
		panic(fmt.Sprintf("fft: len(dst) = %d, want %d", len(dst), batch*p.hsize))
	}
	d := len(p.shape)
	p.rows = rowPass{re: src, spec: dst, count: batch * p.size / p.shape[d-1]}
	parallel(workersFor(p.workers, len(src)), p.rowTasks(p.rows.count), p.rowFwdFn, &p.wg)
	p.rows = rowPass{}
	for a := d - 2; a >= 0; a-- {
		p.axis(p.lines[a], dst, dst, p.half, batch, a, false, 1, p.cols)
	}
	if h := p.half[d-1]; d == 1 && p.cols < h {
		for r := 0; r < len(dst); r += h {
			clear(dst[r+p.cols : r+h])
		}
	}
}

// Inverse sets dst to the real grids whose half spectra are in src, with the
// factor 1/N (Inverse undoes Forward). The spectrum is taken as Hermitian: the
// imaginary parts that Hermitian symmetry forces to zero (wavenumber 0 and,
// for even lengths, n/2 of the last axis after the other axes are inverted)
// are ignored. Sizes as for Forward; src is not modified.
func (p *Real) Inverse(dst []float64, src []complex128) {
	batch := batchOf(len(src), p.hsize, "src")
	if len(dst) != batch*p.size {
		panic(fmt.Sprintf("fft: len(dst) = %d, want %d", len(dst), batch*p.size))
	}
	d := len(p.shape)
	spec := src
	if h := p.half[d-1]; d == 1 && p.cols < h {
		if len(p.spec) < len(src) {
			p.spec = make([]complex128, len(src))
		}
		spec = p.spec[:len(src)]
		for r := 0; r < len(src); r += h {
			copy(spec[r:r+p.cols], src[r:r+p.cols])
			clear(spec[r+p.cols : r+h])
		}
	}
	if d > 1 {
		if len(p.spec) < len(src) {
			p.spec = make([]complex128, len(src))
		}
		spec = p.spec[:len(src)]
		in := src
		for a := d - 2; a >= 0; a-- {
			p.axis(p.lines[a], spec, in, p.half, batch, a, true, 1, p.cols)
			in = spec
		}
	}
	p.rows = rowPass{re: dst, spec: spec, scale: 1 / float64(p.size), count: batch * p.size / p.shape[d-1]}
	parallel(workersFor(p.workers, len(dst)), p.rowTasks(p.rows.count), p.rowInvFn, &p.wg)
	p.rows = rowPass{}
}

// asComplex reinterprets an even-length float64 slice as complex values
// (x[2j] + i x[2j+1]); the memory layouts agree.
func asComplex(x []float64) []complex128 {
	return unsafe.Slice((*complex128)(unsafe.Pointer(unsafe.SliceData(x))), len(x)/2)
}

// rowForward transforms the rows of tasks [lo, hi) along the last axis.
// Even n = 2m: a block of v rows is gathered as z_j = x_{2j} + i x_{2j+1}
// (element j of row r at j·v + r), transformed by DFT_m, and untangled into
// the half spectra by realPost while scattering.
func (p *Real) rowForward(w, lo, hi int) {
	sc := &p.scr[w]
	n := p.shape[len(p.shape)-1]
	h := n/2 + 1
	if n%2 == 1 {
		for r := lo; r < hi; r++ {
			x := p.rows.re[r*n : (r+1)*n]
			out := p.rows.spec[r*h : (r+1)*h]
			buf := sc.row[:n]
			for j, v := range x {
				buf[j] = complex(v, 0)
			}
			p.rline.run(sc.row2[:n], buf, sc.work, 1, false)
			copy(out, sc.row2[:h])
		}
		return
	}
	m := n / 2
	bw := blockWidth(m)
	for t := lo; t < hi; t++ {
		r0 := t * bw
		v := min(bw, p.rows.count-r0)
		in := sc.in[:m*v]
		out := sc.out[:m*v]
		fromRows(in, asComplex(p.rows.re[r0*n:(r0+v)*n]), m, v, m)
		p.rline.run(out, in, sc.work, v, false)
		realPost(p.rows.spec[r0*h:(r0+v)*h], out, p.tw, m, v)
	}
}

// realPost turns Z = DFT_m(z), z_j = x_{2j} + i x_{2j+1}, of v rows stored
// interleaved in z (Z_k of row r at k·v + r) into the half spectra X_0 … X_m
// of the rows x (length n = 2m), written to spec (row r at r(m+1)):
// with E_k = (Z_k + conj Z_{m−k})/2, O_k = (Z_k − conj Z_{m−k})/(2i),
// X_k = E_k + exp(−2πik/n) O_k, and X_{m−k} likewise with
// exp(−2πi(m−k)/n) = −conj exp(−2πik/n).
func realPost(spec, z, tw []complex128, m, v int) {
	h := m + 1
	z = z[:m*v]
	spec = spec[:v*h]
	for r := range v {
		z0 := z[r]
		spec[r*h] = complex(real(z0)+imag(z0), 0)
		spec[r*h+m] = complex(real(z0)-imag(z0), 0)
	}
	if haveAVX && v%2 == 0 && m >= 2 {
		_ = tw[m/2]
		realPostAVX(&spec[0], &z[0], &tw[0], m, v, h)
		return
	}
	for k := 1; 2*k <= m; k++ {
		w := tw[k]
		wr, wi := real(w), imag(w)
		za := z[k*v : k*v+v]
		zb := z[(m-k)*v : (m-k)*v+v]
		for r, a := range za {
			b := zb[r]
			// e1 = a + conj b, o1 = a − conj b, t1 = w·o1; X_k = (e1 − i t1)/2.
			e1r, e1i := real(a)+real(b), imag(a)-imag(b)
			o1r, o1i := real(a)-real(b), imag(a)+imag(b)
			t1r, t1i := wr*o1r-wi*o1i, wr*o1i+wi*o1r
			// e2 = b + conj a = conj e1, o2 = b − conj a = −conj o1,
			// t2 = −conj(w)·o2 = conj(w·o1) = conj t1; X_{m−k} = (e2 − i t2)/2.
			row := spec[r*h : r*h+h]
			row[k] = complex(0.5*(e1r+t1i), 0.5*(e1i-t1r))
			row[m-k] = complex(0.5*(e1r-t1i), 0.5*(-e1i-t1r))
		}
	}
}

// rowInverse transforms the rows of tasks [lo, hi) back along the last axis
// (the reverse of rowForward, with realPre before the inverse DFT_m).
func (p *Real) rowInverse(w, lo, hi int) {
	sc := &p.scr[w]
	n := p.shape[len(p.shape)-1]
	h := n/2 + 1
	s := p.rows.scale
	if n%2 == 1 {
		for r := lo; r < hi; r++ {
			in := p.rows.spec[r*h : (r+1)*h]
			x := p.rows.re[r*n : (r+1)*n]
			buf := sc.row[:n]
			buf[0] = complex(real(in[0]), 0)
			for k := 1; k < h; k++ {
				buf[k] = in[k]
				buf[n-k] = conj(in[k])
			}
			out := sc.row2[:n]
			p.rline.run(out, buf, sc.work, 1, true)
			for j, v := range out {
				x[j] = real(v) * s
			}
		}
		return
	}
	m := n / 2
	bw := blockWidth(m)
	for t := lo; t < hi; t++ {
		r0 := t * bw
		v := min(bw, p.rows.count-r0)
		in := sc.in[:m*v]
		out := sc.out[:m*v]
		realPre(in, p.rows.spec[r0*h:(r0+v)*h], p.tw, m, v, 2*s)
		p.rline.run(out, in, sc.work, v, true)
		toRows(asComplex(p.rows.re[r0*n:(r0+v)*n]), m, out, v, m)
	}
}

// realPre inverts realPost for v rows: from the half spectra X_0 … X_m (row r
// at spec[r(m+1):]) it forms Z_k = f·(E_k + i O_k) with
// E_k = (X_k + conj X_{m−k})/2 and O_k = conj(w_k)(X_k − conj X_{m−k})/2,
// k < m, stored interleaved (row r at k·v + r). Im X_0 and Im X_m are ignored.
func realPre(z, spec, tw []complex128, m, v int, f float64) {
	h := m + 1
	z = z[:m*v]
	spec = spec[:v*h]
	hf := 0.5 * f
	for r := range v {
		x0, xm := real(spec[r*h]), real(spec[r*h+m])
		z[r] = complex(hf*(x0+xm), hf*(x0-xm))
	}
	if haveAVX && v%2 == 0 && m >= 2 {
		_ = tw[m/2]
		realPreAVX(&z[0], &spec[0], &tw[0], m, v, h, hf)
		return
	}
	for k := 1; 2*k <= m; k++ {
		w := tw[k]
		wr, wi := real(w), imag(w)
		za := z[k*v : k*v+v]
		zb := z[(m-k)*v : (m-k)*v+v]
		for r := range za {
			row := spec[r*h : r*h+h]
			a, b := row[k], row[m-k]
			// e = a + conj b, d = a − conj b, o = conj(w)·d; Z_k = (e + i o)/2.
			er, ei := real(a)+real(b), imag(a)-imag(b)
			dr, di := real(a)-real(b), imag(a)+imag(b)
			or, oi := wr*dr+wi*di, wr*di-wi*dr
			za[r] = complex(hf*(er-oi), hf*(ei+or))
			// m−k: e2 = b + conj a = conj e and, with conj(w_{m−k}) = −w,
			// o2 = −w·(b − conj a) = w·conj d = conj o; Z_{m−k} = (conj e + i conj o)/2.
			zb[r] = complex(hf*(er+oi), hf*(-ei+or))
		}
	}
}
