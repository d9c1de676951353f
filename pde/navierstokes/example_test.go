package navierstokes_test

import (
	"context"
	"fmt"
	"math"

	"eddy/pde/navierstokes"
)

// The Taylor–Green vortex of unit velocity amplitude has mean energy
// ½⟨|u|²⟩ = 1/4, which decays as e^{−4νκ²t}.
func ExampleSimulate() {
	c := navierstokes.DefaultConfig()
	c.N, c.Length, c.Viscosity, c.Forcing = 32, 2*math.Pi, 0.01, navierstokes.ForcingNone
	c.Initial, c.Wavenumber, c.Scheme = navierstokes.InitialTaylorGreen, 2, navierstokes.SchemeRK4CN
	c.Dt, c.TEnd, c.SnapshotDt = 0.01, 1, 0.5
	tr, err := navierstokes.Simulate(context.Background(), c, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for f, t := range tr.T {
		exact := 0.25 * math.Exp(-4*c.Viscosity*4*t) // κ = 2
		fmt.Printf("t = %.1f  energy %.6f  exact %.6f\n", t, tr.Energy[f], exact)
	}
	// Output:
	// t = 0.0  energy 0.250000  exact 0.250000
	// t = 0.5  energy 0.230779  exact 0.230779
	// t = 1.0  energy 0.213036  exact 0.213036
}
