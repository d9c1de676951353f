package stfno

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"eddy/field"
)

// TestDownsample: a field band-limited below the coarse Nyquist frequency,
// sampled on 48² and truncated to 16², equals the same series sampled on
// 16² (to rounding, 1e-13 relative), and its amplitude is kept.
func TestDownsample(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	coarse := bandLimited(r, 2, 16, 5)
	fine := upsample(coarse, 2, 16, 48)
	got := make([]float64, 2*16*16)
	Downsample(got, fine, 2, 48, 16)
	if d := relDiff(got, coarse); !(d < 1e-13) {
		t.Errorf("truncation differs from the coarse samples by %.3g", d)
	}
	same := make([]float64, len(fine))
	Downsample(same, fine, 2, 48, 48)
	if relDiff(same, fine) != 0 {
		t.Error("Downsample to the same grid is not a copy")
	}
}

// TestRelL2 checks the Bochner relative error on two trajectories with
// known errors 0.1 and 0.3: the mean is 0.2.
func TestRelL2(t *testing.T) {
	truth := []float64{1, 2, 2, 0, 3, 0, 0, 4}
	pred := make([]float64, len(truth))
	for i, v := range truth {
		f := 1.1
		if i >= 4 {
			f = 1.3
		}
		pred[i] = f * v
	}
	if got := RelL2(pred, truth, 2, 1); math.Abs(got-0.2) > 1e-15 {
		t.Errorf("RelL2 = %v, want 0.2", got)
	}
}

// TestConfigValidate reports invalid parameters at their JSON Pointers.
func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	c := DefaultConfig()
	c.Width, c.ModesT, c.Activation = 2, 9, "tanh"
	var fe field.Errors
	if err := c.Validate(); !errors.As(err, &fe) || !fe.Has("/width") || !fe.Has("/activation") {
		t.Errorf("Validate() = %v, want errors at /width and /activation", err)
	}
	c = DefaultConfig()
	c.ModesT = 7
	if err := c.Validate(); !errors.As(err, &fe) || !fe.Has("/modes_t") {
		t.Errorf("Validate() = %v, want an error at /modes_t", err)
	}
	if _, err := New(c, 1); err == nil {
		t.Error("New accepted an invalid config")
	}
}

// TestSplitLast: the last ⌈f·S⌉ samples validate.
func TestSplitLast(t *testing.T) {
	s := SplitLast(10, 0.25)
	if len(s.Train) != 7 || len(s.Val) != 3 || s.Val[0] != 7 || s.Train[6] != 6 {
		t.Errorf("SplitLast(10, 0.25) = %+v", s)
	}
	if s := SplitLast(5, 0); len(s.Train) != 5 || len(s.Val) != 0 {
		t.Errorf("SplitLast(5, 0) = %+v", s)
	}
}
