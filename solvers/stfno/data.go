package stfno

import (
	"fmt"
	"math"

	"eddy/fft"
	"eddy/nn"
)

// Downsample sets dst (frames×m×m) to the spectral truncation of the frames
// src (frames×n×n), m ≤ n: each frame's Fourier coefficients with
// |k_x|, |k_y| < m/2 are kept with their amplitudes (the m×m grid samples
// the truncated Fourier series; an even m's Nyquist coefficient is the sum
// of the ±m/2 ones, see fft.Resample). m = n copies. Cost two real FFTs per
// frame.
func Downsample(dst, src []float64, frames, n, m int) {
	if m > n || m < 1 || len(src) != frames*n*n || len(dst) != frames*m*m {
		panic(fmt.Sprintf("stfno: Downsample %d frames %d×%d → %d²: len(src) = %d, len(dst) = %d", frames, n, n, m, len(src), len(dst)))
	}
	if m == n {
		copy(dst, src)
		return
	}
	pn, pm := fft.NewReal(n, n), fft.NewReal(m, m)
	sn := make([]complex128, pn.SpectrumLen())
	sm := make([]complex128, pm.SpectrumLen())
	for f := 0; f < frames; f++ {
		pn.Forward(sn, src[f*n*n:(f+1)*n*n])
		fft.Resample(sm, []int{m, m}, sn, []int{n, n})
		pm.Inverse(dst[f*m*m:(f+1)*m*m], sm)
	}
}

// RelL2 returns the mean over trajectories of the relative error in the
// Bochner norm L²(0, T; L²) (spec §6),
//
//	‖ω_p − ω‖/‖ω‖ with ‖ω‖² = Σ_{t,y,x} ω(t, y, x)²,
//
// for pred and truth holding whole trajectories of frames×n×n values each.
func RelL2(pred, truth []float64, frames, n int) float64 {
	g := frames * n * n
	if len(pred) != len(truth) || g == 0 || len(pred)%g != 0 || len(pred) == 0 {
		panic(fmt.Sprintf("stfno: RelL2: %d and %d values for trajectories of %d×%d²", len(pred), len(truth), frames, n))
	}
	s := len(pred) / g
	return nn.RelL2Error(nn.TensorFrom(pred, s, g), nn.TensorFrom(truth, s, g))
}

// Split lists the sample indices used for training and for validation.
type Split struct{ Train, Val []int }

// SplitLast returns the split of samples into the first ones for training
// and the last ⌈valFraction·samples⌉ for validation (at least one of each
// when samples ≥ 2 and valFraction > 0).
func SplitLast(samples int, valFraction float64) Split {
	v := int(math.Ceil(valFraction * float64(samples)))
	if valFraction > 0 && v < 1 {
		v = 1
	}
	v = min(v, samples-1)
	v = max(v, 0)
	var s Split
	for i := 0; i < samples; i++ {
		if i < samples-v {
			s.Train = append(s.Train, i)
		} else {
			s.Val = append(s.Val, i)
		}
	}
	return s
}
