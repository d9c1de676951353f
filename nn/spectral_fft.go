package nn

import (
	"math"

	"eddy/fft"
)

// SpectralMethod selects how SpectralConv computes its transforms. Both
// compute the same map (to rounding); they differ in cost.
type SpectralMethod string

// The transform methods of SpectralConv.
const (
	// SpectralAuto picks, per input shape, the method with the lower
	// estimated cost (see SpectralConv).
	SpectralAuto SpectralMethod = ""
	// SpectralDFT applies truncated DFT matrices by GEMM, one axis at a
	// time: O(n·m) per line, fast for few modes.
	SpectralDFT SpectralMethod = "dft"
	// SpectralFFT uses the real FFT plans of package fft (truncated to the
	// kept modes of the last axis): O(n log n) per line, fast for many
	// modes.
	SpectralFFT SpectralMethod = "fft"
)

// fftPlan holds the FFT path of a spectralPlan: real plans for the input
// and output grids and, for every kept mode q (in parameter order), its
// offset in the half spectrum of either grid and the weight c of its
// last-axis index in the inverse real transform (1 at 0 and at the Nyquist
// index, else 2).
type fftPlan struct {
	fwd, inv        *fft.Real
	specIn, specOut []complex128
	idxIn, idxOut   []int
	cIn, cOut       []float64
	nIn, nOut       float64
}

func newFFTPlan(s *SpectralConv, batch int, in, out []int) *fftPlan {
	d := len(s.Modes)
	f := &fftPlan{fwd: fft.NewReal(in...), inv: fft.NewReal(out...), nIn: float64(numel(in)), nOut: float64(numel(out))}
	f.fwd.SetTruncation(s.Modes[d-1])
	f.inv.SetTruncation(s.Modes[d-1])
	f.specIn = make([]complex128, batch*s.In*f.fwd.SpectrumLen())
	f.specOut = make([]complex128, batch*s.Out*f.inv.SpectrumLen())
	K := make([]int, d)
	for a, m := range s.Modes {
		K[a] = 2 * m
	}
	K[d-1] = s.Modes[d-1]
	nm := numel(K)
	hin, hout := f.fwd.SpectrumShape(), f.inv.SpectrumShape()
	idx := make([]int, d)
	for q := 0; q < nm; q++ {
		// q → (q₀, …, q_{d−1}) row-major over K
		r := q
		for a := d - 1; a >= 0; a-- {
			idx[a] = r % K[a]
			r /= K[a]
		}
		oi, oo := 0, 0
		for a := 0; a < d; a++ {
			k := idx[a]
			if a < d-1 {
				k = modeFreq(idx[a], s.Modes[a])
			}
			ki, ko := k, k
			if k < 0 {
				ki, ko = k+in[a], k+out[a]
			}
			oi = oi*hin[a] + ki
			oo = oo*hout[a] + ko
		}
		f.idxIn = append(f.idxIn, oi)
		f.idxOut = append(f.idxOut, oo)
		kd := idx[d-1]
		f.cIn = append(f.cIn, halfWeight(kd, in[d-1]))
		f.cOut = append(f.cOut, halfWeight(kd, out[d-1]))
	}
	return f
}

// halfWeight is the weight of last-axis index k in an inverse real DFT of
// length n.
func halfWeight(k, n int) float64 {
	if k == 0 || 2*k == n {
		return 1
	}
	return 2
}

// gather sets A[q, b, c] = x̂[b, c, q] = X[b, c, q]/N_in (real parts in
// columns c, imaginary parts in columns In + c) from the FFT of x.
func (f *fftPlan) gather(a []float64, x []float64, batch, channels int) {
	f.fwd.Forward(f.specIn, x)
	h := f.fwd.SpectrumLen()
	inv := 1 / f.nIn
	w := 2 * channels
	for q, off := range f.idxIn {
		for b := 0; b < batch; b++ {
			row := a[(q*batch+b)*w : (q*batch+b+1)*w]
			for c := 0; c < channels; c++ {
				v := f.specIn[(b*channels+c)*h+off]
				row[c] = real(v) * inv
				row[channels+c] = imag(v) * inv
			}
		}
	}
}

// gatherAdjoint is the adjoint of gather: dx = (1/N_in) Re Σ_q dA_q e^{+iθ}
// = irfftn(dA/c) with the 1/N of fft's inverse.
func (f *fftPlan) gatherAdjoint(dx, da []float64, batch, channels int) {
	clear(f.specIn)
	h := f.fwd.SpectrumLen()
	w := 2 * channels
	for q, off := range f.idxIn {
		ic := 1 / f.cIn[q]
		for b := 0; b < batch; b++ {
			row := da[(q*batch+b)*w : (q*batch+b+1)*w]
			for c := 0; c < channels; c++ {
				f.specIn[(b*channels+c)*h+off] = complex(row[c]*ic, row[channels+c]*ic)
			}
		}
	}
	f.fwd.Inverse(dx, f.specIn)
}

// scatter sets y = Re Σ_q c_q ŷ_q e^{+iθ}, i.e. irfftn of the spectrum
// N_out·ŷ, from the mixing output Y (modes × N × 2Out).
func (f *fftPlan) scatter(y, ym []float64, batch, channels int) {
	clear(f.specOut)
	h := f.inv.SpectrumLen()
	w := 2 * channels
	for q, off := range f.idxOut {
		for b := 0; b < batch; b++ {
			row := ym[(q*batch+b)*w : (q*batch+b+1)*w]
			for c := 0; c < channels; c++ {
				f.specOut[(b*channels+c)*h+off] = complex(row[c]*f.nOut, row[channels+c]*f.nOut)
			}
		}
	}
	f.inv.Inverse(y, f.specOut)
}

// scatterAdjoint is the adjoint of scatter: dŷ_q = c_q·rfftn(dy)_q.
func (f *fftPlan) scatterAdjoint(dym, dy []float64, batch, channels int) {
	f.inv.Forward(f.specOut, dy)
	h := f.inv.SpectrumLen()
	w := 2 * channels
	for q, off := range f.idxOut {
		c := f.cOut[q]
		for b := 0; b < batch; b++ {
			row := dym[(q*batch+b)*w : (q*batch+b+1)*w]
			for o := 0; o < channels; o++ {
				v := f.specOut[(b*channels+o)*h+off]
				row[o] = c * real(v)
				row[channels+o] = c * imag(v)
			}
		}
	}
}

// fftFlopCost is the time of one estimated FFT flop in units of one GEMM
// flop of the DFT path, calibrated with BenchmarkSpectralConvMethods on the
// development machine: forward + backward took the same time by both
// methods when the DFT path had 4–8× the flops (FNO 64², 12 modes; ST-FNO
// 64²×10; FNO 256², 32 modes), and the DFT path was still 1.3× faster at
// 14× the flops (256²×22 grid keeping 128×128×6 modes), because OpenBLAS
// runs the DFT matrices at 40–60 GFLOP/s. So the FFT is chosen only where
// the DFT would need more than 16× its flops (nearly full spectra of large
// grids).
const fftFlopCost = 16

// useFFT decides the method of plan p.
func (s *SpectralConv) useFFT(p *spectralPlan) bool {
	switch s.Method {
	case SpectralDFT:
		return false
	case SpectralFFT:
		return true
	}
	var dft float64
	for _, st := range append(append([]*dftStep(nil), p.fwd...), p.inv...) {
		dft += 2 * float64(st.m) * float64(st.n) * float64(st.k)
	}
	return fftFlopCost*(fftFlops(p.in, s.Modes, p.batch*s.In)+fftFlops(p.out, s.Modes, p.batch*s.Out)) < dft
}

// fftFlops estimates the flops of count real transforms of a grid
// truncated to the kept last-axis modes: 2.5·N·log₂ n_d for the real axis
// and 5·log₂ n_a per retained complex value for every other axis.
func fftFlops(grid, modes []int, count int) float64 {
	d := len(grid)
	n := float64(numel(grid))
	f := 2.5 * n * math.Log2(float64(grid[d-1]))
	kept := n / float64(grid[d-1]) * float64(modes[d-1])
	for a := 0; a < d-1; a++ {
		f += 5 * kept * math.Log2(float64(grid[a]))
	}
	return f * float64(count)
}
