package hyperspectral

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// lambdaOf returns the λ and its rule that rrlbs uses on y (one iteration).
func lambdaOf(t *testing.T, y *mat.Dense, init *mat.Dense, kappa *float64) (float64, string) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Endmembers = 4
	cfg.Iterations = 1
	cfg.Seed = 1
	cfg.Lambda = kappa
	if init != nil {
		cfg.Init = InitUpload
		cfg.InitEndmembers = init
	}
	res := runUnmix(t, y, cfg)
	return res.Lambda, res.LambdaRule
}

// TestDiscrepancyLambda: the data-driven λ of rrlbs follows the misfit of
// the start that noise does not explain. From the true endmembers the start
// fits to the noise level and λ is small; from endmembers bent away from the
// truth it is over ten times larger; the lambda param overrides the rule.
func TestDiscrepancyLambda(t *testing.T) {
	m := jasperEndmembers(t)
	y, _ := Synthetic(m, 40, 40, 0.4, 30, 4)
	y.Scale(1/mat.Max(y), y)
	exact, rule := lambdaOf(t, y, m, nil)
	if rule != LambdaDiscrepancy {
		t.Fatalf("rule %q, want %q", rule, LambdaDiscrepancy)
	}
	bent := mat.DenseCopyOf(m)
	l, _ := bent.Dims()
	for i := range l {
		// A smooth multiplicative distortion, different per endmember.
		for j := range 4 {
			bent.Set(i, j, bent.At(i, j)*(1+0.3*math.Sin(float64(i*(j+1))/40)))
		}
	}
	off, _ := lambdaOf(t, y, bent, nil)
	t.Logf("λ from the truth %.4g, from bent endmembers %.4g", exact, off)
	if !(exact > 0) || off < 10*exact {
		t.Errorf("λ from the truth %.4g, from bent endmembers %.4g: want 0 < first ≤ second/10", exact, off)
	}
	got, rule := lambdaOf(t, y, m, Kappa(0.05))
	if want := 0.05 * SparsenessEstimate(y); rule != LambdaParam || math.Abs(got-want) > 1e-15*want {
		t.Errorf("lambda param 0.05: λ %g (%s), want %g (%s)", got, rule, want, LambdaParam)
	}
}
