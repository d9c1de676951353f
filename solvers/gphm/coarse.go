package gphm

import (
	"context"
	"fmt"
	"math"
	"time"

	"eddy/progress"

	"gonum.org/v1/gonum/mat"
)

// The coarse stage. A 2-D grid much finer than the kernel's spectrum leaves
// most of its modes to the jitter (preset ac2d at 200², F = 30 on [0, 1]:
// 125 of the 135 tail modes per axis), and there the Newton systems are
// hard for both preconditioners: each L-BFGS iteration of ac2d took
// 2000–2300 CG iterations, and its three variants 378 s to 8.8e-4. The
// spectra do not depend on the grid, only their fit does: trained first on
// the grid the frequencies need (65² for ac2d: its three variants' 10
// iterations in 2 s, 8.6e-4), then taken to the grid given with the coarse
// posterior mean as the first grid values, ac2d reached 9.5e-5 (check
// residual 1.8e-4) in 10 more iterations on 200², 69 s in all, and 2.4e-4
// on 400² in 448 s, where the Newton solves from the start ran to the CG
// cap on both preconditioners. The coarse mean matters as much as the
// spectra: from 61² spectra, the first L-BFGS iteration on 200² took 8572
// CG iterations with the grid values started at zero, 3960 from the coarse
// mean.
//
// Advection is left out: on preset adv (β = 200, 200², F = 40) its coarse
// grid of 81² ended at a relative error of 20 (check residual 0.71), the
// transport at 2.5 nodes per cycle of the solution.

// Nodes per cycle the coarse grid gives the initial spectrum's top
// frequency F and the data's largest frequency.
const (
	coarsePerCycleF    = 2
	coarsePerCycleData = 4
	// coarseMinN is the least coarse grid per axis.
	coarseMinN = 32
)

// CoarseStage describes the coarse stage of a solve (Result.Coarse).
type CoarseStage struct {
	// N is the coarse grid's nodes per axis.
	N int
	// Iterations and CheckResidual are those of the coarse stage's result
	// (its check residual on its own grid's midpoints), Seconds its time.
	Iterations    int
	CheckResidual float64
	Seconds       float64
	// Used is set when the solve on the grid given started from it; unset
	// when the coarse stage failed or stalled (above the stall residual) or
	// the run from it did, and the grid given was solved from the start.
	Used bool
}

// startPoint is where a run on a finer grid starts from a coarse stage's
// result: its kernel and spectra, and its posterior mean (trend included)
// at given coordinates, which become the first grid values.
type startPoint struct {
	kernel Kernel
	specs  []Spectrum
	meanAt func(xs, ys []float64) *mat.Dense
}

// coarseGrid returns the coarse stage's grid for r, or 0 when the grid
// given is solved from the start: Config.Coarse off, 1-D, advection, or a
// grid at most twice as fine as the one whose nodes give the initial
// spectrum's top frequency coarsePerCycleF and the data's largest frequency
// coarsePerCycleData nodes per cycle (at least coarseMinN). The frequency
// scale F chosen from the data is at least half the grid's Nyquist
// frequency, so only a given F (a preset's or the user's) well under it
// makes a coarse stage.
func coarseGrid(r *resolved) int {
	if r.cfg.Coarse == CoarseOff || r.pde.Dims() != 2 || r.pde == Advection {
		return 0
	}
	lengths := [2]float64{r.cfg.XMax - r.cfg.XMin, r.cfg.YMax - r.cfg.YMin}
	nc := coarseMinN
	for j, l := range lengths {
		need := math.Max(coarsePerCycleF*r.freq[j]*l, coarsePerCycleData*r.freqData[j]*l)
		if !(need < float64(r.cfg.N)) {
			return 0
		}
		nc = max(nc, int(math.Ceil(need))+1)
	}
	if 2*(nc-1) >= r.cfg.N-1 {
		return 0
	}
	return nc
}

// coarse returns r on an n×n grid, with r's data scale, coordinates and
// frequency scales.
func (r *resolved) coarse(n int) *resolved {
	c := &resolved{cfg: r.cfg, pde: r.pde, kernel: r.kernel, prob: r.prob,
		freq: r.freq, freqData: r.freqData, keepStart: true}
	c.cfg.N = n
	c.freqOnce.Do(func() {})
	return c
}

// solveGrids runs solveKernels on r's grid or, when coarseGrid gives one,
// first on the coarse grid and then one run on r's from the coarse stage's
// result (startPoint), with the kernel, trend and nugget it chose; the other
// variants and kernels are not run again there. When the coarse stage or
// that run fails or stalls, r's grid is solved from the start.
func solveGrids(ctx context.Context, r *resolved, fn progress.Func) (*Result, error) {
	nc := coarseGrid(r)
	if nc == 0 {
		return solveKernels(ctx, r, fn, solveOnce, parallelism(r))
	}
	t0 := time.Now()
	rc := r.coarse(nc)
	fn.Report(progress.Update{Message: fmt.Sprintf("coarse stage on %d×%d nodes (the grid given, %d×%d, is more than twice as fine as the frequencies need)", nc, nc, r.cfg.N, r.cfg.N)})
	cres, err := solveKernels(ctx, rc, labelled(fn, fmt.Sprintf("coarse %d²: ", nc)), solveOnce, parallelism(rc))
	r.cgAll.Add(rc.cgAll.Load())
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	stage := &CoarseStage{N: nc, Seconds: time.Since(t0).Seconds()}
	stall := r.stallResidual()
	fromStart := func(why string) (*Result, error) {
		fn.Report(progress.Update{Message: fmt.Sprintf("the coarse stage %s: solving on %d×%d from the start", why, r.cfg.N, r.cfg.N)})
		res, err := solveKernels(ctx, r, fn, solveOnce, parallelism(r))
		if err != nil {
			return nil, err
		}
		res.Coarse = stage
		return res, nil
	}
	if err != nil {
		return fromStart(fmt.Sprintf("failed (%v)", err))
	}
	stage.Iterations, stage.CheckResidual = cres.Iterations, cres.CheckResidual
	if !(cres.CheckResidual <= stall) {
		return fromStart(fmt.Sprintf("stalled at check residual %.2g", cres.CheckResidual))
	}
	r.start = cres.start
	res, err := solveOnce(ctx, r, cres.start.kernel, cres.Trend, cres.Nugget, fn)
	r.start = nil
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return fromStart(fmt.Sprintf("was taken to the grid given, and that run failed (%v)", err))
	}
	if !(res.CheckResidual <= stall) {
		return fromStart(fmt.Sprintf("was taken to the grid given, and that run stalled at check residual %.2g", res.CheckResidual))
	}
	stage.Used = true
	res.Coarse = stage
	res.Restarts = cres.Restarts
	res.OtherSolution = otherSolution(res)
	res.NuggetReason = fmt.Sprintf("chosen on the coarse grid %d²: %s", nc, cres.NuggetReason)
	return res, nil
}
