package gphm

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"eddy/progress"
)

// paperLog is one of the authors' logged runs (spec §4.2): the minimum test
// error over their checkpoints, plain GP-HM without the extra-GP trick, and
// their single-GPU wall time in seconds where logged (0 otherwise).
type paperLog struct{ relL2, seconds float64 }

// paper holds the logs per preset and kernel, at the preset's grid.
var paper = map[string]map[string]paperLog{
	"p1":   {"gm": {4.0e-7, 1329}, "stm": {6.5e-7, 1665}},
	"p2":   {"gm": {1.0e-2, 0}, "stm": {9.8e-3, 0}},
	"p3":   {"gm": {1.5e-6, 0}, "stm": {5.5e-6, 1663}},
	"p4":   {"gm": {1.6e-6, 0}, "stm": {9.0e-7, 7451}},
	"p5":   {"gm": {4.8e-2, 0}, "stm": {1.2e-2, 0}},
	"ac1":  {"gm": {7.7e-7, 0}, "stm": {4.9e-6, 2333}},
	"ac2":  {"gm": {4.2e-6, 0}, "stm": {4.8e-6, 2319}},
	"p2d1": {"gm": {6.5e-5, 5586}, "stm": {6.9e-5, 8209}},
	"p2d2": {"gm": {1.1e-3, 0}, "stm": {1.0e-3, 6627}},
	"ac2d": {"gm": {2.6e-3, 0}, "stm": {5.7e-3, 18244}},
	"adv":  {"gm": {1.3e-3, 0}, "stm": {1.4e-4, 11152}},
}

// benchCase is one row of the preset benchmark: a preset, a kernel and the
// L-BFGS budget (L-BFGS stops earlier when no step lowers the objective).
type benchCase struct {
	preset, kernel string
	iterations     int
	// n, when set, replaces the preset's grid size: ac2d's preset takes the
	// 400² of the authors' configuration, while their logged run (spec
	// §4.2, N≈200) ran on about 200².
	n int
	// toPaper: Config.Tol is the error of the authors' most accurate
	// logged run (either kernel, paperBest): the row stops once its check
	// residual reaches it and is compared with that run, its time included
	// — our time to their accuracy.
	toPaper bool
}

// paperBest returns the authors' logged run of least error for a preset.
func paperBest(preset string) paperLog {
	var best paperLog
	for _, q := range paper[preset] {
		if best.relL2 == 0 || q.relL2 < best.relL2 {
			best = q
		}
	}
	return best
}

// presetCases are the rows of BenchmarkPresets: every preset with GP-HM-GM,
// and GP-HM-StM where the authors logged its GPU time. The budgets let the
// 1-D and 200² cases converge (StM needs a few hundred iterations to turn one
// component into a nearly pure cosine; p4's 900 points make its iterations
// ten times dearer) and bound the 400² grids, where one evaluation takes
// several hundred conjugate-gradient iterations (Gauss–Newton steps of them
// for Allen–Cahn), to a few minutes.
var presetCases = []benchCase{
	{"p1", "gm", 300, 0, false}, {"p1", "stm", 800, 0, false},
	{"p2", "gm", 300, 0, false},
	{"p3", "gm", 300, 0, false}, {"p3", "stm", 800, 0, false},
	{"p4", "gm", 300, 0, false}, {"p4", "stm", 300, 0, false},
	{"p5", "gm", 300, 0, false},
	{"ac1", "gm", 300, 0, false}, {"ac1", "stm", 800, 0, false},
	{"ac2", "gm", 300, 0, false}, {"ac2", "stm", 800, 0, false},
	{"p2d1", "gm", 12, 0, false},
	{"p2d2", "gm", 60, 0, false},
	{"ac2d", "gm", 10, 0, false}, {"ac2d", "gm", 10, 200, false},
	{"adv", "gm", 60, 0, false}, {"adv", "gm", 60, 0, true},
}

// BenchmarkPresets runs every preset of spec §3 at the paper's grid size on
// the default path (exact U and L-BFGS in 1-D, Kronecker CG and L-BFGS in
// 2-D) and reports the final-iterate relative L2 error on the paper's test
// points (rel_l2) beside the authors' logged error (paper_rel_l2) and, where
// logged, their GPU time (paper_s); ns/op is our wall time per solve. At the
// end it logs the comparison as a table. Run with -benchtime 1x. The 2-D
// rows, which run for many minutes, also write each progress update to
// standard error as it comes (elapsed time, iteration, error on the grid,
// check residual), so that a row stopped before its end still says where
// it had got to.
func BenchmarkPresets(b *testing.B) {
	var rows []string
	for _, bc := range presetCases {
		name := bc.preset
		if bc.n > 0 {
			name += fmt.Sprintf("_n%d", bc.n)
		}
		tol := 0.0
		if bc.toPaper {
			tol = paperBest(bc.preset).relL2
			name += fmt.Sprintf("_tol%g", tol)
		}
		name += "/" + bc.kernel
		b.Run(name, func(b *testing.B) {
			c, err := PresetConfig(bc.preset)
			if err != nil {
				b.Fatal(err)
			}
			c.Kernel = bc.kernel
			c.Iterations = bc.iterations
			if bc.n > 0 {
				c.N = bc.n
			}
			c.Tol = tol
			var res *Result
			var fn progress.Func
			if presets[bc.preset].PDE.Dims() == 2 {
				start := time.Now()
				fn = func(u progress.Update) {
					fmt.Fprintf(os.Stderr, "%s %6.0f s  %s  rel_l2_grid %.3g  check_residual %.3g\n", name,
						time.Since(start).Seconds(), u.Message, u.Metrics["rel_l2_grid"], u.Metrics["check_residual"])
				}
			}
			for b.Loop() {
				res, err = Solve(context.Background(), c, fn)
				if err != nil {
					b.Fatal(err)
				}
			}
			p := paper[bc.preset][bc.kernel]
			if bc.toPaper {
				p = paperBest(bc.preset)
			}
			b.ReportMetric(res.RelL2, "rel_l2")
			b.ReportMetric(p.relL2, "paper_rel_l2")
			if p.seconds > 0 {
				b.ReportMetric(p.seconds, "paper_s")
			}
			b.ReportMetric(float64(res.Iterations), "iterations")
			b.ReportMetric(res.CheckResidual, "check_residual")
			cgPer := "–"
			if res.CGSolves > 0 {
				per := float64(res.CGIterations) / float64(res.CGSolves)
				b.ReportMetric(per, "cg_per_solve")
				cgPer = fmt.Sprintf("%.0f (%d of %d harmonic, %d of them with the tail solve)", per, res.CGHarmonicSolves, res.CGSolves, res.CGTailSolves)
			}
			verdict := "no"
			if res.RelL2 <= p.relL2 {
				verdict = "yes"
			}
			paperS, share := "–", "–"
			if p.seconds > 0 {
				paperS = fmt.Sprintf("%.0f", p.seconds)
				share = fmt.Sprintf("%.2f%%", 100*res.Seconds/p.seconds)
			}
			grid := fmt.Sprint(c.N)
			if presets[bc.preset].PDE.Dims() == 2 {
				grid += "²"
			}
			kernel := bc.kernel
			if res.Kernel != bc.kernel {
				kernel += "→" + res.Kernel
			}
			if bc.toPaper {
				kernel += fmt.Sprintf(", tol %g (the authors' least error)", tol)
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %.2g | %.2g | %s | %.2g | %v | %s | %s | %.1f | %s | %s | %d | %s |",
				bc.preset, kernel, grid, res.RelL2, p.relL2, verdict, res.CheckResidual, res.Converged, res.StopReason, res.Nugget,
				res.Seconds, paperS, share, res.Iterations, cgPer))
			b.Log(rows[len(rows)-1])
		})
	}
	b.Logf("GP-HM presets at the paper's grids, final iterate vs the authors' best checkpoint:\n%s\n%s\n%s",
		"| preset | kernel | grid | rel_l2 (ours) | rel_l2 (paper) | ≤ paper | check residual | converged | stop | nugget | ours (s, 2 cores) | paper (s, GPU) | ours/paper | L-BFGS iterations | CG iterations per solve |",
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|", strings.Join(rows, "\n"))
}

// BenchmarkKronCGIteration measures one conjugate-gradient iteration of the
// 2-D path (a Hessian product and a preconditioner application: six n×n×n
// products and O(n²) boundary work with the Kronecker-sum preconditioner) and the per-evaluation setup (kernel
// factors, whitening and the preconditioner's eigendecompositions) on the
// p2d1 grid sizes.
func BenchmarkKronCGIteration(b *testing.B) {
	for _, n := range []int{200, 400} {
		c := presetGrid(b, "p2d1", n)
		r, err := c.resolve()
		if err != nil {
			b.Fatal(err)
		}
		axes := []*axis{newAxis(GM, n, r.cfg.XMin, r.cfg.XMax, 2), newAxis(GM, n, r.cfg.YMin, r.cfg.YMax, 2)}
		F := mat.NewDense(n, n, nil)
		bIdx := boundaryIndex(n, n, 2)
		m := newModel(Poisson2D, GM, axes, F, bIdx, make([]float64, len(bIdx)), 0, c.LambdaB)
		specs := []Spectrum{NewSpectrum(GM, 30, c.FreqScale), NewSpectrum(GM, 30, c.FreqScale)}
		lt := [2]float64{ExactLogTau, ExactLogTau}
		k := newKronCG(n, n)
		b.Run(fmt.Sprintf("setup/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if err := m.update(specs); err != nil {
					b.Fatal(err)
				}
				k.setup(m, lt)
			}
		})
		v := mat.NewDense(n, n, nil)
		for i := range n {
			for j := range n {
				v.Set(i, j, float64((i*7+j*3)%11)-5)
			}
		}
		out := mat.NewDense(n, n, nil)
		b.Run(fmt.Sprintf("iteration/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				k.apply(m, v, out, lt)
				k.precond(out, v)
			}
		})
	}
}

// BenchmarkAdvectionCG measures advection's conjugate-gradient iterations on
// preset adv's grid at its initial kernel, with the Kronecker-sum
// preconditioner that nearly all of its solves use: 100 iterations of the
// solver's own loop (kronCG.cg, run past any tolerance), each a Hessian
// product (two n×n×n products through the Gram matrices, O(n²) for the skew
// blocks and the boundary) and a preconditioner application (four products).
func BenchmarkAdvectionCG(b *testing.B) {
	for _, n := range []int{120, 200} {
		c := presetGrid(b, "adv", n)
		m, lt := harmonicModel(b, c)
		k := newKronCG(n, n)
		k.setup(m, lt)
		k.build(pcKronSum)
		rhs, x := mat.NewDense(n, n, nil), mat.NewDense(n, n, nil)
		for i := range n {
			for j := range n {
				rhs.Set(i, j, float64((i*7+j*3)%11)-5)
			}
		}
		const iters = 100
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				x.Zero()
				if it, err := k.cg(m, rhs, nil, x, nil, lt, 0, 1, iters, 0, nil); err != nil || it != iters {
					b.Fatalf("%d iterations, %v", it, err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N*iters), "µs/iteration")
		})
	}
}
