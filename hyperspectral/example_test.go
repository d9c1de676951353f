package hyperspectral_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"eddy/hyperspectral"
)

// Unmix a synthetic 40×30 scene of three random spectra over 50 bands and
// compare with the truth.
func ExampleUnmix() {
	rng := rand.New(rand.NewPCG(1, 2))
	m := mat.NewDense(50, 3, nil)
	for l := range 50 {
		for k := range 3 {
			m.Set(l, k, 0.1+rng.Float64())
		}
	}
	y, a := hyperspectral.Synthetic(m, 40, 30, 0.3, 40, 7)

	cfg := hyperspectral.DefaultConfig()
	cfg.Endmembers = 3
	cfg.Rows, cfg.Cols = 40, 30
	cfg.Truth = &hyperspectral.Truth{Endmembers: m, Abundances: a}
	res, err := hyperspectral.Unmix(context.Background(), y, cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, c := res.Endmembers.Dims()
	fmt.Printf("endmembers %d×%d, abundance maps %d values\n", r, c, len(res.AbundanceCube()))
	fmt.Printf("mean SAD below 0.02 rad: %v\n", res.Metrics.MeanSAD < 0.02)
	fmt.Printf("mean RMSE below 0.02: %v\n", res.Metrics.MeanRMSE < 0.02)
	// Output:
	// endmembers 50×3, abundance maps 3600 values
	// mean SAD below 0.02 rad: true
	// mean RMSE below 0.02: true
}
