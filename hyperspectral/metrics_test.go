package hyperspectral

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestSpectralAngle(t *testing.T) {
	cases := []struct {
		x, y []float64
		mask []bool
		want float64
	}{
		{[]float64{1, 0}, []float64{0, 3}, nil, math.Pi / 2},
		{[]float64{1, 2, 3}, []float64{2, 4, 6}, nil, 0},
		{[]float64{1, 0}, []float64{1, 1}, nil, math.Pi / 4},
		{[]float64{1, 0}, []float64{-1, 0}, nil, math.Pi},
		{[]float64{0, 0}, []float64{1, 1}, nil, math.Pi / 2},
		// The masked band makes the vectors differ; without it they are parallel.
		{[]float64{1, 2, 100}, []float64{2, 4, 0}, []bool{true, true, false}, 0},
	}
	for _, c := range cases {
		// Exact angles of simple vectors: arccos is accurate to ~1e-8 near 0
		// (cancellation in 1 − cos), so allow that.
		if got := SpectralAngle(c.x, c.y, c.mask); math.Abs(got-c.want) > 1e-7 {
			t.Errorf("SpectralAngle(%v, %v, %v) = %v, want %v", c.x, c.y, c.mask, got, c.want)
		}
	}
}

func TestEvaluatePermutedTruth(t *testing.T) {
	// The estimate is the truth with its endmembers permuted and rescaled,
	// and one band corrupted; excluding that band must give SAD 0 and the
	// inverse permutation.
	truthM := mat.NewDense(5, 3, []float64{
		1, 0, 2,
		2, 1, 0,
		3, 1, 1,
		0, 4, 1,
		1, 1, 5,
	})
	truthA := mat.NewDense(3, 4, []float64{
		0.2, 0.5, 1, 0,
		0.3, 0.5, 0, 0,
		0.5, 0, 0, 1,
	})
	perm := []int{2, 0, 1} // estimated j holds true perm[j]
	estM := mat.NewDense(5, 3, nil)
	estA := mat.NewDense(3, 4, nil)
	for j, k := range perm {
		for l := range 5 {
			estM.Set(l, j, float64(j+2)*truthM.At(l, k))
		}
		estA.SetRow(j, truthA.RawRowView(k))
	}
	estA.Set(0, 0, estA.At(0, 0)+0.4) // RMSE of one entry: √(0.4²/4) = 0.2
	estM.Set(3, 1, 50)                // corrupt band 3 of estimate 1
	truth := &Truth{Endmembers: truthM, Abundances: truthA}

	met, err := Evaluate(estM, estA, truth, []int{3})
	if err != nil {
		t.Fatal(err)
	}
	for k, j := range met.Match {
		if perm[j] != k {
			t.Errorf("true %d matched to estimate %d, want the one holding it", k, j)
		}
		if met.SAD[k] > 1e-7 {
			t.Errorf("SAD[%d] = %v, want 0 with band 3 excluded", k, met.SAD[k])
		}
	}
	wantRMSE := []float64{0, 0, 0.2} // estimate 0 holds true endmember 2
	for k, w := range wantRMSE {
		if math.Abs(met.RMSE[k]-w) > 1e-15 {
			t.Errorf("RMSE[%d] = %v, want %v", k, met.RMSE[k], w)
		}
	}
	if math.Abs(met.MeanRMSE-0.2/3) > 1e-15 || met.Bands != 4 {
		t.Errorf("mean RMSE %v, bands %d; want %v, 4", met.MeanRMSE, met.Bands, 0.2/3)
	}

	// Without excluding band 3, the corrupted estimate has a large angle.
	met, err = Evaluate(estM, estA, truth, nil)
	if err != nil {
		t.Fatal(err)
	}
	if met.MeanSAD < 0.1 {
		t.Errorf("mean SAD %v with the corrupted band included, want large", met.MeanSAD)
	}

	for name, excl := range map[string][]int{"out of range": {5}, "all": {0, 1, 2, 3, 4}} {
		if _, err := Evaluate(estM, estA, truth, excl); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Evaluate(mat.NewDense(4, 3, nil), estA, truth, nil); err == nil {
		t.Errorf("band mismatch: no error")
	}
}
