package fft

import (
	"fmt"
	"math"
)

// Mode returns the integer wavenumber of spectral index k ∈ [0, n) of an axis of
// length n: k for k ≤ (n−1)/2 and k − n otherwise, so that for even n the
// Nyquist index n/2 maps to −n/2 (numpy's fftfreq convention). On the half axis
// of a real spectrum the index itself is the wavenumber.
func Mode(k, n int) int {
	if k <= (n-1)/2 {
		return k
	}
	return k - n
}

// Freq returns the sample frequencies Mode(k, n)/(n·d), k < n, of a transform
// of n samples spaced d apart (numpy's fftfreq). For a period L, d = L/n gives
// the wavenumbers m/L in cycles per unit length.
func Freq(n int, d float64) []float64 {
	f := make([]float64, n)
	for k := range f {
		f[k] = float64(Mode(k, n)) / (float64(n) * d)
	}
	return f
}

// RFreq returns the frequencies k/(n·d), k ≤ n/2, of the half axis of a real
// transform (numpy's rfftfreq).
func RFreq(n int, d float64) []float64 {
	f := make([]float64, n/2+1)
	for k := range f {
		f[k] = float64(k) / (float64(n) * d)
	}
	return f
}

// Retained reports whether wavenumber m of an axis of length n survives the
// 2/3 dealiasing rule, 3|m| < n. With every axis so truncated, the product of
// two retained fields is exact on the retained modes: its wavenumbers reach
// |m + m'| ≤ 2K with K = ⌊(n−1)/3⌋, and their aliases m + m' ∓ n satisfy
// |m + m' ∓ n| ≥ n − 2K > K, so aliasing only pollutes discarded modes. (For n
// a multiple of 3 this keeps |m| < n/3, one mode less per side than |m| ≤ n/3,
// which would alias onto the retained ±n/3.) For n = 64 and 256 the rule
// keeps |m| ≤ 21 and |m| ≤ 85.
func Retained(m, n int) bool {
	if m < 0 {
		m = -m
	}
	return 3*m < n
}

// halfLayout checks a half spectrum against a real grid shape and returns the
// spectrum size of one grid and the batch.
func halfLayout(x []complex128, shape []int, what string) (hsize, batch int) {
	checkShape(shape)
	d := len(shape)
	hsize = 1
	for _, n := range shape[:d-1] {
		hsize *= n
	}
	hsize *= shape[d-1]/2 + 1
	return hsize, batchOf(len(x), hsize, what)
}

// Dealias sets to zero, in place, every mode of the half spectra in x (the
// layout of a Real plan of the given shape, batched) that the 2/3 rule discards:
// those with 3|m_a| ≥ n_a on some axis a (see Retained).
func Dealias(x []complex128, shape []int) {
	hsize, _ := halfLayout(x, shape, "x")
	d := len(shape)
	nl := shape[d-1]
	h := nl/2 + 1
	rows := hsize / h
	for off := 0; off < len(x); off += hsize {
		for r := range rows {
			row := x[off+r*h : off+(r+1)*h]
			keep := true
			rr := r
			for a := d - 2; a >= 0; a-- {
				k := rr % shape[a]
				rr /= shape[a]
				if !Retained(Mode(k, shape[a]), shape[a]) {
					keep = false
				}
			}
			if !keep {
				clear(row)
				continue
			}
			for k := range row {
				if !Retained(k, nl) {
					row[k] = 0
				}
			}
		}
	}
}

// Derivative sets dst to the spectrum of ∂^order f/∂x_axis^order, i.e.
// multiplies each mode by (iξ)^order with ξ = 2π m/lengths[axis], for the half
// spectra in src (layout of a Real plan of the given shape, batched), on the
// periodic box with the given side lengths. For odd order the Nyquist mode
// m = n/2 of that axis (even n) is set to zero: its derivative is not a real
// grid function. dst may be src. Cost O(len(src)).
func Derivative(dst, src []complex128, shape []int, lengths []float64, axis, order int) {
	halfLayout(src, shape, "src")
	d := len(shape)
	if len(dst) != len(src) {
		panic(fmt.Sprintf("fft: len(dst) = %d, want %d", len(dst), len(src)))
	}
	if len(lengths) != d || axis < 0 || axis >= d || order < 0 {
		panic(fmt.Sprintf("fft: Derivative: shape %v, lengths %v, axis %d, order %d", shape, lengths, axis, order))
	}
	n := shape[axis]
	inner := 1
	for a := axis + 1; a < d; a++ {
		if a == d-1 {
			inner *= shape[a]/2 + 1
		} else {
			inner *= shape[a]
		}
	}
	na := n
	if axis == d-1 {
		na = n/2 + 1
	}
	factor := func(k int) complex128 {
		m := k
		if axis != d-1 {
			m = Mode(k, n)
		}
		if order%2 == 1 && n%2 == 0 && (m == n/2 || m == -n/2) {
			return 0
		}
		xi := 2 * math.Pi * float64(m) / lengths[axis]
		// (iξ)^order = ξ^order · i^order
		mag := math.Pow(xi, float64(order))
		switch order % 4 {
		case 0:
			return complex(mag, 0)
		case 1:
			return complex(0, mag)
		case 2:
			return complex(-mag, 0)
		default:
			return complex(0, -mag)
		}
	}
	block := na * inner
	for off := 0; off < len(src); off += block {
		for k := range na {
			f := factor(k)
			s := src[off+k*inner : off+(k+1)*inner]
			t := dst[off+k*inner : off+(k+1)*inner]
			for i, z := range s {
				t[i] = f * z
			}
		}
	}
}

// InverseLaplacian sets dst to the spectrum of Δ⁻¹f: each mode of the half
// spectra in src is divided by −|ξ|², ξ_a = 2π m_a/lengths[a], and the mean
// (m = 0) is set to zero. Layout and aliasing as for Derivative.
func InverseLaplacian(dst, src []complex128, shape []int, lengths []float64) {
	hsize, _ := halfLayout(src, shape, "src")
	d := len(shape)
	if len(dst) != len(src) || len(lengths) != d {
		panic(fmt.Sprintf("fft: InverseLaplacian: len(dst) = %d, len(src) = %d, shape %v, lengths %v", len(dst), len(src), shape, lengths))
	}
	nl := shape[d-1]
	h := nl/2 + 1
	rows := hsize / h
	cl := 2 * math.Pi / lengths[d-1]
	for off := 0; off < len(src); off += hsize {
		for r := range rows {
			var lead float64
			rr := r
			for a := d - 2; a >= 0; a-- {
				k := rr % shape[a]
				rr /= shape[a]
				xi := 2 * math.Pi * float64(Mode(k, shape[a])) / lengths[a]
				lead += xi * xi
			}
			s := src[off+r*h : off+(r+1)*h]
			t := dst[off+r*h : off+(r+1)*h]
			for k, z := range s {
				xi := cl * float64(k)
				k2 := lead + xi*xi
				if k2 == 0 {
					t[k] = 0
					continue
				}
				f := -1 / k2
				t[k] = complex(real(z)*f, imag(z)*f)
			}
		}
	}
}

// contrib is one source index with its weight.
type contrib struct {
	src int
	w   float64
}

// fullAxisMap lists, for each target index of a complete axis resampled from
// length ns to nt, the source indices that feed it (see Resample).
func fullAxisMap(ns, nt int) [][]contrib {
	out := make([][]contrib, nt)
	for t := range nt {
		m := Mode(t, nt)
		switch {
		case nt == ns:
			out[t] = []contrib{{t, 1}}
		case nt > ns:
			if ns%2 == 0 && (m == ns/2 || m == -ns/2) {
				out[t] = []contrib{{ns / 2, 0.5}}
			} else if 2*abs(m) < ns {
				out[t] = []contrib{{(m + ns) % ns, 1}}
			}
		default:
			if nt%2 == 0 && m == -nt/2 {
				out[t] = []contrib{{nt / 2, 1}, {ns - nt/2, 1}}
			} else {
				out[t] = []contrib{{(m + ns) % ns, 1}}
			}
		}
	}
	return out
}

func abs(m int) int {
	if m < 0 {
		return -m
	}
	return m
}

// Resample maps half spectra of real grids of shape srcShape to half spectra of
// grids of shape dstShape (same number of axes) by spectral truncation or zero
// padding, per axis, and rescales by N_dst/N_src so that the inverse transform
// gives function values: the trigonometric interpolant of the source grid
// sampled on the target grid when every axis grows, its Fourier truncation when
// an axis shrinks. Nyquist rule: growing from an even length, the source Nyquist
// coefficient is split equally between +n/2 and −n/2; shrinking to an even
// length, the target Nyquist coefficient is the sum of the source coefficients
// at +n/2 and −n/2 (what sampling the truncated series would alias there). With
// these rules growing and then shrinking back is the identity. Batched like
// Derivative. Allocates O(Σ n_a) index tables.
func Resample(dst []complex128, dstShape []int, src []complex128, srcShape []int) {
	if len(dstShape) != len(srcShape) {
		panic(fmt.Sprintf("fft: Resample: shapes %v and %v differ in rank", dstShape, srcShape))
	}
	hs, batch := halfLayout(src, srcShape, "src")
	hd, _ := halfLayout(dst, dstShape, "dst")
	if len(dst) != batch*hd {
		panic(fmt.Sprintf("fft: Resample: len(dst) = %d, want %d", len(dst), batch*hd))
	}
	d := len(srcShape)
	maps := make([][][]contrib, d-1)
	for a := range d - 1 {
		maps[a] = fullAxisMap(srcShape[a], dstShape[a])
	}
	ns, nt := srcShape[d-1], dstShape[d-1]
	hns, hnt := ns/2+1, nt/2+1
	// Last (half) axis: direct source index and weight, plus an optional
	// conjugate-reflected term X[…, −m] = conj(X[−lead, m]).
	type lastMap struct {
		src     int
		w       float64
		reflSrc int
		reflW   float64
	}
	last := make([]lastMap, hnt)
	for t := range last {
		lm := lastMap{src: -1, reflSrc: -1}
		switch {
		case nt == ns:
			lm.src, lm.w = t, 1
		case nt > ns:
			if ns%2 == 0 && t == ns/2 {
				lm.src, lm.w = t, 0.5
			} else if 2*t < ns {
				lm.src, lm.w = t, 1
			}
		default:
			lm.src, lm.w = t, 1
			if nt%2 == 0 && t == nt/2 {
				lm.reflSrc, lm.reflW = t, 1
			}
		}
		last[t] = lm
	}
	f := 1.0
	for a := range d {
		f *= float64(dstShape[a]) / float64(srcShape[a])
	}
	// Source strides of the leading axes (in half rows).
	sstride := make([]int, d)
	sstride[d-1] = 1
	for a := d - 2; a >= 0; a-- {
		next := srcShape[a+1]
		if a+1 == d-1 {
			next = 1
		}
		sstride[a] = sstride[a+1] * next
	}
	// sstride[a] for a < d−1 is in rows; convert with hns below.
	type term struct {
		row, refl int
		w         float64
	}
	levels := make([][]term, d)
	levels[0] = []term{{0, 0, 1}}
	for a := 1; a < d; a++ {
		levels[a] = make([]term, 0, 1<<a)
	}
	for b := range batch {
		S := src[b*hs : (b+1)*hs]
		D := dst[b*hd : (b+1)*hd]
		drow := 0
		var walk func(a int)
		walk = func(a int) {
			if a == d-1 {
				out := D[drow*hnt : (drow+1)*hnt]
				for t, lm := range last {
					var sum complex128
					for _, tm := range levels[a] {
						if lm.src >= 0 {
							sum += complex(tm.w*lm.w, 0) * S[tm.row*hns+lm.src]
						}
						if lm.reflSrc >= 0 {
							sum += complex(tm.w*lm.reflW, 0) * conj(S[tm.refl*hns+lm.reflSrc])
						}
					}
					out[t] = complex(f, 0) * sum
				}
				drow++
				return
			}
			for _, cs := range maps[a] {
				next := levels[a+1][:0]
				for _, tm := range levels[a] {
					for _, c := range cs {
						r := (srcShape[a] - c.src) % srcShape[a]
						next = append(next, term{tm.row + c.src*sstride[a], tm.refl + r*sstride[a], tm.w * c.w})
					}
				}
				levels[a+1] = next
				walk(a + 1)
			}
		}
		walk(0)
	}
}
