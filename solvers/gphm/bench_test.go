package gphm

import (
	"context"
	"testing"
)

// BenchmarkPresets runs every preset of spec §3 at the paper's grid size with
// GP-HM-GM and reports the final-iterate relative L2 error (rel_l2) beside the
// authors' logged GM error (paper_rel_l2, spec §4.2) and the wall time per
// solve. 1-D presets (and 2-D grids up to MaxExactNodes2D nodes) take the
// exact-U path with 60 L-BFGS iterations; the 2-D presets at 200²–400² take the
// paper's Adam path, of which only 20 steps are run here to measure the cost
// per step (the authors ran 1e5–3e6 steps).
func BenchmarkPresets(b *testing.B) {
	paper := map[string]float64{
		"p1": 4.0e-7, "p2": 1.0e-2, "p3": 1.5e-6, "p4": 1.6e-6, "p5": 4.8e-2,
		"ac1": 7.7e-7, "ac2": 4.2e-6, "p2d1": 6.5e-5, "p2d2": 1.1e-3, "ac2d": 2.6e-3, "adv": 1.3e-3,
	}
	for _, name := range Presets() {
		b.Run(name, func(b *testing.B) {
			c, err := PresetConfig(name)
			if err != nil {
				b.Fatal(err)
			}
			if p, _ := LookupPreset(name); p.PDE.Dims() == 1 {
				c.Iterations = 60
			} else {
				c.Iterations = 20
			}
			var res *Result
			for b.Loop() {
				res, err = Solve(context.Background(), c, nil)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(res.RelL2, "rel_l2")
			b.ReportMetric(paper[name], "paper_rel_l2")
			b.ReportMetric(float64(res.Iterations), "iterations")
		})
	}
}
