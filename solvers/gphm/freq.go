package gphm

import (
	"context"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// FreqFactor is the automatic frequency scale's multiple of the largest
// frequency the data show (dataFrequencies): F =
// FreqFactor·k on each axis, at the low end of the paper's settings (p1,
// p3: sin 100x, 15.9 cycles per unit, F = 20; p4: 31.8, F = 50; p5: 79.6,
// F = 100), within nyquistMin and nyquistMax of the grid's Nyquist
// frequency.
const FreqFactor = 1.25

// nyquistMin and nyquistMax bound the automatic F by those shares of its axis's Nyquist frequency N = (n − 1)/(2L).
//
// At or above N the learned spectrum settles badly: u = x² − y² + sin 4x cos 3y
// on [0, 2π]² at 40² (N = 3.1 cycles per unit; the data 0.65 and 0.47)
// reached 1.5e-7 with F = 1 and 4.9e-8 with F = 2, but 9.8e-5 with F = 3 and
// 3.0e-2 with F = 6 and F = 20, not converged; u = sin 100x on [0, 2π] at 400
// nodes (N = 31.75) 1.9e-14 with F = 20 or 23.9, 1.8e-7 with 19.9 (the paths
// differ by their rounding) and 2.1e-6 with 31.8; at F = 20 the 32² problems
// e^x sin y and tanh 6(x + y − 1) on [0, 1]² (N = 15.5) 1.9e-2 and 2.1e-4.
//
// Far below N the kernel leaves more of the grid's modes to the prior, and
// the linear solves cost more. On eleven held-out Poisson and Allen–Cahn
// problems (32²–48², and 100–400 nodes in 1-D; bench/results/gphm.md) F =
// 1.25 k alone (at least one cycle over the axis) took 104 s in all, at least
// 0.25 N 151 s (one problem 62 s), at least 0.5 N 56 s; every error at most
// 3.1e-5, and at most 1.7e-5 with 0.5 N. The paper's settings are at
// 0.07–0.70 of N, but for p2d2's, 1.26 N (200 nodes on [0, 2π], F = 20),
// which solves well: its problem given as an expression took 52 s to 7.2e-5
// with F = 20, 279 s to 1.1e-5 with F = 0.5 N = 7.9 (chosen), and 317 s to
// 4.8e-5 with 11.9 (60 iterations each); at 120² 120 s to 1.4e-5 chosen
// (0.54 N), 19–31 s to 6.5e-5 at N–1.25 N. This rule weighs accuracy, not
// that cost on the larger grids.
const (
	nyquistMin = 0.5
	nyquistMax = 0.75
)

// Advection takes the same rule. Its axis's Nyquist frequency N was
// faster on held-out problems up to 64² (u = sin 2(x − 3t) + t, β = 3, 40²:
// 4.2 s at N against 18 s at F = 8; 56²: 12 s against 27 s at F = 12, all
// 1.0e-5–2.5e-5), but on the preset adv (β = 200, 200², the authors' F = 40,
// 0.40 N: 4.2e-5 in 1406 s) F = N ended at 2.1e-3, not converged, in 1649 s.

// coarseShare: data whose frequency along an axis exceeds this share of
// the grid's Nyquist frequency get a warning (the paper's grids put their
// solutions' at 0.40–0.50 of it: p1, p4, p5).
const coarseShare = 0.6

// flatData is the RMS first difference, relative to the largest value,
// below which a sequence counts as without variation (dataFrequencies).
const flatData = 1e-10

// frequencyScales sets r.freq, the frequency scale F of each axis: the
// requested one on every axis, the preset's, or, with FreqScale 0 and no
// preset, FreqFactor times the largest frequency the data show on that
// axis (dataFrequencies), within nyquistMin and nyquistMax of its Nyquist
// frequency; r.freqData keeps the data's frequencies, both in the solve's
// coordinates (coordScales). r.freqWarning warns of a requested F below
// them or above the Nyquist frequency, or of data the grid resolves poorly.
// It also sets the scale the data are divided by (problem.scale, dataScale).
func (r *resolved) frequencyScales(ctx context.Context) error {
	rc := r.cfg
	dims := r.pde.Dims()
	axes := r.gridAxes()
	n1, n2 := rc.N, 1
	if dims == 2 {
		n2 = rc.N
	}
	F, _, g, err := sample(ctx, &r.prob, axes, boundaryIndex(n1, n2, dims))
	if err != nil {
		return err
	}
	r.freqData = dataFrequencies(F, g, axes, r.pde.order())
	r.freq = make([]float64, dims)
	names := varNames(r.pde)
	// Per warning, the axes it concerns ("along x (3.1 cycles per unit)").
	var below, above, coarse []string
	coarseN := 0
	for j, a := range axes {
		// Frequencies in the solve's coordinates; c takes them to the
		// problem's own, in which F is given and the warnings speak.
		c := r.prob.coord[j]
		length := a.h * float64(a.n-1)
		nyquist := 0.5 / a.h
		k := r.freqData[j]
		switch {
		case rc.FreqScale > 0:
			r.freq[j] = rc.FreqScale / c
			if rc.Preset != "" {
				break
			}
			if r.freq[j] < k {
				below = append(below, fmt.Sprintf("along %s (%.3g cycles per unit)", names[j], k*c))
			}
			if r.freq[j] > nyquist {
				above = append(above, fmt.Sprintf("along %s (%.3g cycles per unit)", names[j], nyquist*c))
			}
		case rc.Preset != "":
			r.freq[j] = presets[rc.Preset].FreqScale / c
		default:
			r.freq[j] = math.Min(math.Max(FreqFactor*k, nyquistMin*nyquist), nyquistMax*nyquist)
		}
		if k > coarseShare*nyquist {
			coarse = append(coarse, fmt.Sprintf("%.3g cycles per unit along %s (Nyquist %.3g)", k*c, names[j], nyquist*c))
			coarseN = max(coarseN, int(math.Ceil(2*length*k/coarseShare))+1)
		}
	}
	var warn []string
	if len(below) > 0 {
		warn = append(warn, fmt.Sprintf("freq_scale %g is below the largest frequency of the data %s: the kernel may miss it",
			rc.FreqScale, strings.Join(below, " and ")))
	}
	if len(above) > 0 {
		warn = append(warn, fmt.Sprintf("freq_scale %g is above the grid's Nyquist frequency %s: the learned spectrum may settle badly "+
			"(at 32²–40², and 100 nodes in 1-D, errors of 1e-4 to 3e-2 where F under it gave 1e-7; preset p2d2 at 200² runs well at 1.26 times it)", rc.FreqScale, strings.Join(above, " and ")))
	}
	if len(coarse) > 0 {
		warn = append(warn, fmt.Sprintf("the data show frequencies over %g of the grid's Nyquist frequency, %s: the grid resolves them "+
			"poorly (n of at least %d puts them under it)", coarseShare, strings.Join(coarse, " and "), coarseN))
	}
	if len(warn) > 0 {
		r.freqWarning = strings.Join(warn, "; ")
		if rc.FreqScale > 0 {
			r.freqWarning += "; leave freq_scale at 0 to have it chosen from the data"
		}
	}
	r.prob.scale = dataScale(r.pde, F, g, axes, rc.Beta, r.prob.sourceFactor(), r.freqData)
	return nil
}

// dataFrequencies returns, per axis, the largest frequency in cycles per
// unit length that the problem's data show: the source F on the grid
// (n1×n2) along that axis, and the Dirichlet values g (in boundaryIndex's
// order) on the sides parallel to it, whichever is higher. Of a sampled
// sequence s with spacing h it takes the ratio R = ‖D2 s‖/‖D1 s‖ of its
// second and first (forward) differences, which for a sinusoid of frequency
// k is 2 sin(πkh)/h exactly, and returns k = asin(R h/2)/(πh): the
// frequency at which the sequence's energy, weighted by k², sits. A
// source f = Δu (or β u_x + u_t) weights the solution's components by their
// frequency, so that a small component of high frequency still counts
// (u = sin x + 0.05 sin 100x: f is dominated by the second). Polynomial parts
// count little (their differences fall with the order), and a sequence with
// no variation counts zero. So does a source too small to matter: one whose
// part of the solution, about RMS(f)/(2πk)^order, is below sourceFloor of
// the boundary values' largest — the rounding left of f = Δu for a harmonic
// u, which reads as white noise (two thirds of the Nyquist frequency).
func dataFrequencies(F *mat.Dense, g []float64, axes []*axis, order int) []float64 {
	n1, n2 := F.Dims()
	raw := F.RawMatrix()
	src := make([]float64, len(axes))
	src[0] = differenceFrequency(axes[0].h, n2, n1, func(l, i int) float64 { return raw.Data[i*raw.Stride+l] })
	if len(axes) == 2 {
		src[1] = differenceFrequency(axes[1].h, n1, n2, func(l, i int) float64 { return raw.Data[l*raw.Stride+i] })
	}
	var rms, top, k float64
	for _, v := range raw.Data[:n1*n2] {
		rms += v * v
	}
	rms = math.Sqrt(rms / float64(n1*n2))
	for _, v := range g {
		top = math.Max(top, math.Abs(v))
	}
	for j, a := range axes {
		k = math.Max(k, math.Max(src[j], 1/(a.h*float64(a.n-1))))
	}
	if rms/math.Pow(2*math.Pi*k, float64(order)) <= sourceFloor*top {
		clear(src)
	}
	if len(axes) == 1 {
		return src
	}
	// g: the sides x = x0 and x = x1 (along y, n2 values each), then
	// y = y0 and y = y1 (along x, n1 values each).
	bx := differenceFrequency(axes[0].h, 2, n1, func(l, i int) float64 { return g[2*n2+l*n1+i] })
	by := differenceFrequency(axes[1].h, 2, n2, func(l, i int) float64 { return g[l*n2+i] })
	return []float64{math.Max(src[0], bx), math.Max(src[1], by)}
}

// sourceFloor: below it, relative to the boundary values, a source's part
// of the solution is not read for its frequency (dataFrequencies).
const sourceFloor = 1e-8

// differenceFrequency returns the frequency k = asin(R h/2)/(πh) of the
// given lines of n values with spacing h, R the ratio of the RMS second and
// first differences over all of them (dataFrequencies); 0 when the first
// differences are at the rounding level of the values (flatData).
func differenceFrequency(h float64, lines, n int, at func(line, i int) float64) float64 {
	var s1, s2, top float64
	for l := range lines {
		for i := range n {
			top = math.Max(top, math.Abs(at(l, i)))
		}
		for i := range n - 1 {
			d := at(l, i+1) - at(l, i)
			s1 += d * d
			if i > 0 {
				d2 := at(l, i+1) - 2*at(l, i) + at(l, i-1)
				s2 += d2 * d2
			}
		}
	}
	// u = sin 2(x − 3t) + t under advection with β = 3 has f = 1, whose
	// rounding would otherwise read as a high frequency.
	if n < 3 || !(math.Sqrt(s1/float64(lines*(n-1))) > flatData*top) {
		return 0
	}
	// Mean squares: n−1 first and n−2 second differences per line.
	ratio := math.Sqrt(s2/float64(lines*(n-2))) / math.Sqrt(s1/float64(lines*(n-1))) // R·h
	return math.Asin(math.Min(ratio/2, 1)) / (math.Pi * h)
}
