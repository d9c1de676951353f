package gphm

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// scaleBand: a problem whose data's size (dataScale) is under
// 2^−scaleBand is solved with its data divided by a power of two near that
// size; larger data are solved as given.
//
// The objective does not scale with the data: the precisions τ are fixed
// (ExactLogTau), and the nugget, the kernels' initial weights and the
// stopping tests carry absolute sizes, so data a thousand times smaller fit
// the PDE residual a million times more loosely against the prior. Default
// options, through the API (bench/results/gphm.md): u = c (x² + sin 5x
// sin 5y) on [0, 1]² at 40², c = 1 4.3e-6, c = 1/8 3.6e-5, c = 1e-3 and
// 1e-4 4.1e-4, not converged; advection u = c sin 2(x − 3t), β = 3, at 40²,
// c = 1 5.9e-6, c = 1e-3 2.4e-4, not converged. Larger data solve as well or
// better, with a tighter residual: the 2-D problem at c = 8, 1e4, 1e12, 1e20
// 2.2e-6, 7.9e-8, 1.5e-5, 7.2e-8; advection at 1e8 and 1e20 2.8e-7 and
// 7.2e-7; 1-D u = c(sin 50x e^−x + x) at 1e3, 1e20 8.8e-9, 2.1e-8. Divided
// down to about 1, the 2-D problem at 1e4 ended at 1.9e-5: so they are not.
const scaleBand = 3

// dataScale returns the power of two s by which a problem's data are
// divided before it is solved (problem.scale): 2^e with e the nearest
// integer to log₂ of the solution's estimated size when e < −scaleBand, 1
// otherwise, so that the problems of the paper's sizes (|u| about 1: the
// estimate is 0.9–6.2 on every preset) keep their paths to the bit.
// Dividing by a power of two is exact, and so is multiplying the result
// back. The size is the larger of the Dirichlet values' and the source's
// part of the solution: max|f|/ω² for Poisson (ω² = Σ_j ω_j²),
// max|f|/(ω² + λ) for Allen–Cahn (λ = lin, its −λu in the solve's
// coordinates) and max|f|/(|β| ω_x + ω_t) for advection,
// with ω_j = 2π times the data's frequency along axis j (freqData), at
// least π/L_j, the lowest Dirichlet mode of the axis. Allen–Cahn's u³ does
// not scale with u: its data divided by s are those of Δv + s²v³ − v =
// f/s, which the model solves with that coefficient (model.cubic).
func dataScale(pde PDE, F *mat.Dense, g []float64, axes []*axis, beta, lin float64, freqData []float64) float64 {
	var top, fmax float64
	for _, v := range g {
		top = math.Max(top, math.Abs(v))
	}
	raw := F.RawMatrix()
	for i := range raw.Rows {
		for _, v := range raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols] {
			fmax = math.Max(fmax, math.Abs(v))
		}
	}
	omega := make([]float64, len(axes))
	for j, a := range axes {
		omega[j] = math.Max(2*math.Pi*freqData[j], math.Pi/(a.h*float64(a.n-1)))
	}
	var w float64
	if pde == Advection {
		w = math.Abs(beta)*omega[0] + omega[1]
	} else {
		for _, o := range omega {
			w += o * o
		}
	}
	if !pde.Linear() {
		w += lin // Allen–Cahn's −λu, which small data's u³ leaves
	}
	size := math.Max(top, fmax/w)
	if !(size > 0) || math.IsInf(size, 0) {
		return 1
	}
	e := math.Round(math.Log2(size))
	if e >= -scaleBand {
		return 1
	}
	return math.Ldexp(1, int(e))
}

// coordBand: an axis of length L is solved in coordinates multiplied by
// 2^−e, e the nearest integer to log₂ L, when e is below −coordBand[0] or
// above coordBand[1]; otherwise as given.
//
// The objective does not scale with the coordinates either: shortening an
// axis by c multiplies a second-order source by c² against the boundary
// values, which the fixed precisions weigh alike. Default options, through
// the API (bench/results/gphm.md): u = sin(3x/L) sin(2y/L) + x/L on
// [0, L]², 40²: L = 1 1.9e-6, L = 0.1 1.6e-5, L = 0.01 2.0e-3, not
// converged, L = 1000 2.0e-5; sin 3000x sin 2000y on [0, 0.001]² 8.7e-3,
// not converged (GM stalled at check residual 1.5).
var coordBand = [2]float64{2, 6}

// coordScales sets the coordinate factors of a problem (problem.coord)
// from the intervals of rc, and returns rc with its
// intervals and β in the solve's coordinates. Poisson's and Allen–Cahn's
// axes take one factor, from the longer one, so that the Laplacian keeps
// its form (Allen–Cahn's u³ − u then carries the factor 1/c²: model.cubic,
// model.lin; only its short axes are multiplied); advection's x and t take
// one each.
func coordScales(pde PDE, rc Config, p *problem) Config {
	factor := func(length float64) float64 {
		e := math.Round(math.Log2(length))
		if e >= -coordBand[0] && e <= coordBand[1] {
			return 1
		}
		return math.Ldexp(1, -int(e))
	}
	if !pde.Linear() {
		// Allen–Cahn's long axes stay: there its u³ − u outweighs Δu,
		// and multiplied by 1/c² it outweighs it a million times more,
		// which the preconditioners, built on Δ, do not follow
		// (sin 0.003x sin 0.002y + x/1000 on [0, 1000]²: 1.36 in 223 s,
		// against 0.21 in 75 s as given; neither converged).
		inner := factor
		factor = func(length float64) float64 { return math.Max(inner(length), 1) }
	}
	lx, ly := rc.XMax-rc.XMin, rc.YMax-rc.YMin
	var c [2]float64
	switch pde {
	case Poisson1D, AllenCahn1D:
		c = [2]float64{factor(lx), 1}
	case Poisson2D, AllenCahn2D:
		f := factor(math.Max(lx, ly))
		c = [2]float64{f, f}
	case Advection:
		c = [2]float64{factor(lx), factor(ly)}
		rc.Beta *= c[0] / c[1]
	}
	p.coord = c
	rc.XMin, rc.XMax = c[0]*rc.XMin, c[0]*rc.XMax
	if pde.Dims() == 2 {
		rc.YMin, rc.YMax = c[1]*rc.YMin, c[1]*rc.YMax
	}
	return rc
}
