package gphm

import (
	"context"
	"testing"
	"time"

	"eddy/progress"
)

func TestZZP2D(t *testing.T) {
	c, _ := PresetConfig("p2d1")
	c.Iterations = 3
	c.Kernel = "gm"
	r, err := c.resolve()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := solveOnce(context.Background(), r, r.kernel, TrendPolynomial, NuggetRelative, progress.Func(func(u progress.Update) {
		t.Logf("%.1fs %s %v", time.Since(start).Seconds(), u.Message, u.Metrics)
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.1fs cg %d solves %d harm %d tail %d", time.Since(start).Seconds(), res.CGIterations, res.CGSolves, res.CGHarmonicSolves, res.CGTailSolves)
}
