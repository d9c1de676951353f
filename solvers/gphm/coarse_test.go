package gphm

import (
	"context"
	"testing"
)

// The coarse stage runs only for 2-D Poisson and Allen–Cahn on grids more
// than twice as fine as the initial spectrum's top frequency and the data's
// need: preset ac2d at 200² and 400² (F = 30 on [0, 1], the solution at 15.9
// cycles per unit: 65 nodes), not at 120², not p2d1 or p2d2 (F = 20 on
// [0, 2π]: 253 nodes), not advection, not 1-D, not with coarse off, and
// not with F chosen from the data (at least half the grid's Nyquist
// frequency).
func TestCoarseGrid(t *testing.T) {
	preset := func(name string, n int, coarse string) Config {
		c := presetGrid(t, name, n)
		c.Coarse = coarse
		return c
	}
	poisson := func(n int, f float64) Config {
		return Config{PDE: "poisson2d", Exact: "sin(3*x)*sin(2*y)", XMax: 2, YMax: 2, N: n, Kernel: "gm", Components: 8,
			FreqScale: f, Iterations: 10, LambdaB: 200}
	}
	for _, tc := range []struct {
		name string
		c    Config
		want int
	}{
		{"ac2d_200", preset("ac2d", 200, ""), 65},
		{"ac2d_400", preset("ac2d", 400, ""), 65},
		{"ac2d_120", preset("ac2d", 120, ""), 0},
		{"ac2d_200_off", preset("ac2d", 200, CoarseOff), 0},
		{"p2d1", preset("p2d1", 0, ""), 0},
		{"p2d2", preset("p2d2", 0, ""), 0},
		{"adv", preset("adv", 0, ""), 0},
		{"p1", preset("p1", 0, ""), 0},
		{"poisson_64_f2", poisson(64, 2), 32},
		{"poisson_63_f2", poisson(63, 2), 0},
		{"poisson_64_from_data", poisson(64, 0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c.N == 0 {
				p, err := PresetConfig(tc.c.Preset)
				if err != nil {
					t.Fatal(err)
				}
				tc.c.N = p.N
			}
			r := resolvedScales(t, tc.c)
			if got := coarseGrid(r); got != tc.want {
				t.Errorf("coarse grid %d, want %d (N %d, F %v, data %v)", got, tc.want, tc.c.N, r.freq, r.freqData)
			}
		})
	}
}

// A held-out Allen–Cahn problem with a given frequency scale well under the
// grid's Nyquist frequency: with the coarse stage (32², then 66²) it is
// solved to the 2-D accuracy bar and the coarse stage is reported; with
// coarse off none is. (At 80² and 60 iterations: 7.7e-6 in 73 s with it,
// 54 200 CG iterations in all; without it 8.7e-6 in 412 s, 371 872.)
func TestCoarseStage(t *testing.T) {
	c := Config{PDE: "allen_cahn2d", Exact: "0.5*sin(4*x)*cos(3*y) + x - y", XMax: 1, YMax: 1, N: 66, Kernel: "gm",
		Components: 30, FreqScale: 3, Iterations: 30, LambdaB: 200}
	res, err := Solve(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := res.Coarse
	if cs == nil {
		t.Fatal("no coarse stage")
	}
	t.Logf("coarse %d² (%d iterations, check residual %.2e, %.1f s, used %v); then rel_l2 %.2e, check residual %.2e, %d iterations, %s, %d CG iterations in all, %.1f s; %s",
		cs.N, cs.Iterations, cs.CheckResidual, cs.Seconds, cs.Used, res.RelL2, res.CheckResidual, res.Iterations, res.StopReason,
		res.CGIterationsAll, res.Seconds, res.NuggetReason)
	if cs.N != 32 || !cs.Used || !(cs.Iterations > 0) || !(cs.CheckResidual <= StallResidual) {
		t.Errorf("coarse stage %+v", *cs)
	}
	if !(res.RelL2 <= 1e-4) || !(res.CheckResidual <= 1e-4) {
		t.Errorf("rel_l2 %.2e, check residual %.2e", res.RelL2, res.CheckResidual)
	}
	c.Coarse, c.Iterations = CoarseOff, 0
	off, err := Solve(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if off.Coarse != nil {
		t.Errorf("coarse off: coarse stage %+v", *off.Coarse)
	}
}
