package navierstokes

import (
	"fmt"

	"eddy/field"
)

// cflGrid is the largest grid side on which InitialCFL computes an initial
// field: about 12 MB of solver memory.
const cflGrid = 256

// maxStableCFL returns the initial CFL number above which s was seen to blow
// up on every flow tried (GRF and McWilliams fields, n = 64, ν = 1e-4, no
// forcing): rk4_cn stayed stable to 1.9 and blew up from 2.45 on; rk2_cn was
// stable at 0.9 and blew up from 1.34 on; imex_euler_cn blew up from 0.9 on.
// The bounds leave a margin above the first blow-up seen, so that a run they
// refuse is one that would fail.
func (s Scheme) maxStableCFL() float64 {
	if s == SchemeRK4CN {
		return 2.5
	}
	return 1.5
}

// InitialCFL estimates the CFL number Δt·max(|u|+|v|)/Δx, Δx = L/n, with
// which a simulation of c starts: that of the initial vorticity of sample 0
// (the number Trajectories.MaxCFL reports over a whole run). On grids larger
// than 256² the field is drawn on a 256² grid, so that the estimate costs
// little memory; the velocity of the initial conditions here is carried by
// modes a 256² grid resolves, and the maximum found is used for the n of c.
// For the Taylor–Green vortex it is Δt·n/L, its velocity amplitude being 1.
// c must be valid.
func (c Config) InitialCFL() float64 {
	if c.Initial == InitialTaylorGreen {
		return c.Dt * float64(c.N) / c.Length
	}
	e := c
	e.N, e.Samples, e.Forcing = min(c.N, cflGrid), 1, ForcingNone
	s, err := NewSolver(e)
	if err != nil {
		panic("navierstokes: InitialCFL of an invalid config: " + err.Error())
	}
	omega := make([]float64, e.N*e.N)
	initialField(omega, e, 0)
	s.SetVorticity(omega)
	s.Nonlinear(make([]complex128, len(s.w)), s.Spectrum())
	return c.Dt * s.maxSpd * float64(c.N) / c.Length
}

// CheckCFL refuses, with field.Errors at /dt, a time step whose initial CFL
// number (InitialCFL) is above the largest at which the scheme was seen to
// stay stable, so that a run that would blow up is refused before it starts;
// a run it lets through may still blow up later, when the flow speeds up. The
// Taylor–Green vortex, whose advection term vanishes, is not refused. c must
// be valid.
func (c Config) CheckCFL() error {
	if c.Initial == InitialTaylorGreen {
		return nil
	}
	limit := c.Scheme.maxStableCFL()
	if cfl := c.InitialCFL(); cfl > limit {
		return field.Errors{{Path: "/dt", Message: fmt.Sprintf(
			"the initial CFL number Δt·max(|u|+|v|)·n/L is about %.3g, above %g, beyond which %s blows up; take dt ≤ %.3g",
			cfl, limit, c.Scheme, c.Dt*limit/cfl)}}
	}
	return nil
}
