package navierstokes_test

import (
	"fmt"
	"math"

	"eddy/pde/navierstokes"
)

// The BDF2 residual of exact Taylor–Green frames falls as Δt²: halving the
// frame spacing divides η by about four.
func ExampleEstimator_Eval() {
	c := navierstokes.DefaultConfig()
	c.N, c.Length, c.Viscosity, c.Forcing = 32, 2*math.Pi, 0.05, navierstokes.ForcingNone
	const k = 2
	eta := func(dt float64) float64 {
		e, err := navierstokes.NewEstimator(navierstokes.EstimatorConfig{N: c.N, Flow: c.Flow, FrameDt: dt})
		if err != nil {
			panic(err)
		}
		T := int(math.Round(2 / dt)) // frames at t = 0, Δt, …, < 2
		nn := c.N * c.N
		hist := make([]float64, 2*nn) // frames at −2Δt and −Δt
		frames := make([]float64, T*nn)
		for j := range 2 {
			navierstokes.TaylorGreen(hist[j*nn:(j+1)*nn], c.N, c.Length, k, c.Viscosity, 0, float64(j-2)*dt)
		}
		for j := range T {
			navierstokes.TaylorGreen(frames[j*nn:(j+1)*nn], c.N, c.Length, k, c.Viscosity, 0, float64(j)*dt)
		}
		return e.Eval(hist, frames, T, nil)
	}
	e1, e2 := eta(0.1), eta(0.05)
	fmt.Printf("η(Δt = 0.1) = %.2e, η(Δt = 0.05) = %.2e, order %.1f\n", e1, e2, math.Log2(e1/e2))
	// Output:
	// η(Δt = 0.1) = 9.93e-04, η(Δt = 0.05) = 2.42e-04, order 2.0
}
