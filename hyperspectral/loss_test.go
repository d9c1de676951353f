package hyperspectral

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"eddy/field"
)

// lossRun unmixes y (20×20 pixels, K = 3) with rrlbs and the given loss.
func lossRun(t *testing.T, y *mat.Dense, loss Loss, opts Options) *Result {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Endmembers, cfg.Rows, cfg.Cols = 3, 20, 20
	cfg.Iterations, cfg.Tol, cfg.Loss = 120, 0, loss
	if opts.Resume != nil || opts.Save != nil {
		// The legacy states of these tests predate the mixing choice.
		cfg.Mixing = MixingSumToOne
	}
	res, err := UnmixWith(context.Background(), y, cfg, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// rrlbs with loss auto takes the ℓ2,1 loss where the start's channel errors
// spread little and the Huber loss where they spread widely, reports the
// spread and why, and then runs exactly as the forced loss does.
func TestLossAuto(t *testing.T) {
	fits, _ := guidanceScenes()
	same := func(a, b *Result) bool {
		return firstBitDiff(a.Endmembers.RawMatrix().Data, b.Endmembers.RawMatrix().Data) < 0
	}
	r := lossRun(t, fits, LossAuto, Options{})
	if r.Loss != LossL21 || !(r.ErrorSpread >= SpreadL21) || !strings.Contains(r.LossReason, "spread little") || len(r.TauUpdates) != 0 {
		t.Errorf("scene fitted to its noise: loss %s (%s), spread %.3g, τ updates %v; want l21, spread ≥ %g", r.Loss, r.LossReason, r.ErrorSpread, r.TauUpdates, SpreadL21)
	}
	if f := lossRun(t, fits, LossL21, Options{}); !same(r, f) || f.Loss != LossL21 || f.LossReason != "requested" || !math.IsNaN(f.ErrorSpread) {
		t.Errorf("auto choosing l21 differs from l21 requested (%s, %s, %v)", f.Loss, f.LossReason, f.ErrorSpread)
	}
	// Jasper Ridge with 10% outlier bands: the outlier bands, whose error
	// is their (large) noise, beside bands with model error ten times
	// theirs (spread 0.43 at the shipped M0; 0.64 without outlier bands).
	jy, _, m0 := jasperSetup(t)
	InjectOutlierBands(jy, 198/10, 0.01, 0.3, 7)
	jasper := func(loss Loss) *Result {
		cfg := DefaultConfig()
		cfg.Endmembers, cfg.Init, cfg.InitEndmembers = 4, InitUpload, m0
		cfg.Iterations, cfg.Tol, cfg.Loss = 60, 0, loss
		res, err := Unmix(context.Background(), jy, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	r = jasper(LossAuto)
	if r.Loss != LossHuber || !(r.ErrorSpread > 0.3 && r.ErrorSpread < SpreadL21) || !strings.Contains(r.LossReason, "spread widely") || len(r.TauUpdates) == 0 {
		t.Errorf("Jasper Ridge with outlier bands: loss %s (%s), spread %.3g; want huber, spread in (0.3, %g)", r.Loss, r.LossReason, r.ErrorSpread, SpreadL21)
	}
	if f := jasper(LossHuber); !same(r, f) || f.Loss != LossHuber {
		t.Errorf("auto choosing huber differs from huber requested")
	}
	if f := jasper(LossL21); same(r, f) || f.Loss != LossL21 {
		t.Errorf("l21 requested on Jasper Ridge with outlier bands: loss %s, or the same endmembers as the Huber run", f.Loss)
	}

	// The param is checked without the data.
	validateAt(t, "loss l21 with nmf", func(c *Config) { c.Method, c.Loss = MethodNMF, LossL21 }, "/loss")
	validateAt(t, "loss huber with huber 0", func(c *Config) { c.Loss, c.Huber = LossHuber, 0 }, "/huber")
	validateAt(t, "empty loss (auto)", func(c *Config) { c.Loss = "" }, "")
}

// validateAt checks that the default config with 3 endmembers, changed by
// set, fails Validate with its first error at path, or passes for path "".
func validateAt(t *testing.T, name string, set func(*Config), path string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Endmembers = 3
	set(&cfg)
	err := cfg.Validate()
	if path == "" {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return
	}
	var fe field.Errors
	if !errors.As(err, &fe) || fe[0].Path != path {
		t.Errorf("%s: %v, want an error at %s", name, err, path)
	}
}

// A state saved by a run with the Huber loss, before the automatic loss
// existed, continues with the Huber loss where the rule would now choose
// ℓ2,1, bit for bit as the saving run would have gone on.
func TestLossLegacyResume(t *testing.T) {
	fits, _ := guidanceScenes()
	var saved *IterState
	it := 0
	whole := lossRun(t, fits, LossHuber, Options{
		Due:  func() bool { it++; return it == 37 },
		Save: func(s *IterState) error { saved = s; return nil },
	})
	if saved == nil {
		t.Fatal("no state saved")
	}
	resumed := lossRun(t, fits, LossAuto, Options{Resume: saved})
	if resumed.Loss != LossHuber || !strings.Contains(resumed.LossReason, "saved with the Huber loss") {
		t.Errorf("legacy state: loss %s (%s), want huber", resumed.Loss, resumed.LossReason)
	}
	if i := firstBitDiff(whole.Endmembers.RawMatrix().Data, resumed.Endmembers.RawMatrix().Data); i >= 0 {
		t.Fatalf("legacy state: endmembers differ at %d from the Huber run's", i)
	}
}
