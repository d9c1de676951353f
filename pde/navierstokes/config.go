package navierstokes

import (
	"math"

	"eddy/field"
)

// Forcing names a vorticity forcing f.
type Forcing string

// The forcings.
const (
	// ForcingNone is f = 0.
	ForcingNone Forcing = "none"
	// ForcingFNO is the forcing of the FNO data sets (Li et al. 2021),
	// f = 0.1(sin 2π(x+y)/L + cos 2π(x+y)/L), which for L = 1 is
	// 0.1(sin 2π(x+y) + cos 2π(x+y)).
	ForcingFNO Forcing = "fno"
	// ForcingKolmogorov is the curl of the body force (sin κy, 0),
	// f = −κ cos κy with κ = 2πk/L, k = Config.Wavenumber; usually combined with
	// a linear drag.
	ForcingKolmogorov Forcing = "kolmogorov"
)

// Initial names an initial condition.
type Initial string

// The initial conditions.
const (
	// InitialGRF is a Gaussian random field N(0, C), C ∝ (−Δ + τ²)^(−α)
	// (FNO convention, see GaussianRandomField).
	InitialGRF Initial = "grf"
	// InitialMcWilliams is McWilliams' (1984) decaying-turbulence field with
	// peak wavenumber k0 (see McWilliams).
	InitialMcWilliams Initial = "mcwilliams"
	// InitialTaylorGreen is the Taylor–Green vortex of wavenumber
	// Config.Wavenumber (see TaylorGreen), an exact solution when f = 0.
	InitialTaylorGreen Initial = "taylor_green"
)

// Scheme names a time-stepping scheme (see the package documentation).
type Scheme string

// The schemes.
const (
	SchemeEulerCN Scheme = "imex_euler_cn"
	SchemeRK2CN   Scheme = "rk2_cn"
	SchemeRK4CN   Scheme = "rk4_cn"
)

// stages returns the number of evaluations of F per step.
func (s Scheme) stages() int {
	switch s {
	case SchemeEulerCN:
		return 1
	case SchemeRK2CN:
		return 2
	default:
		return 5
	}
}

// Flow is the physics of a flow: the box, the viscosity, the drag and the
// forcing. It is part of Config, and stands alone where a flow's data come
// from elsewhere (the residual of a predicted trajectory, say). Its JSON
// names are those of Config.
type Flow struct {
	// Length is the side L of the periodic square [0, L)².
	Length float64 `json:"length" gt:"0" max:"1e6" doc:"side L of the periodic square [0, L)², in length units: 1 for the FNO data sets, 2π for McWilliams and Kolmogorov flows"`
	// Viscosity is ν ≥ 0.
	Viscosity float64 `json:"viscosity" min:"0" max:"1000" doc:"kinematic viscosity ν in ∂t ω + u·∇ω = ν Δω − μ ω + f, in length²/time (the inverse Reynolds number when L and the velocity scale are 1); 0 gives the inviscid equations"`
	// Forcing is the vorticity forcing.
	Forcing Forcing `json:"forcing" enum:"none|fno|kolmogorov" doc:"vorticity forcing f: none (f = 0, decaying flow); fno, f = 0.1(sin 2π(x+y)/L + cos 2π(x+y)/L) as in the FNO data sets; kolmogorov, f = −κ cos κy with κ = 2π·wavenumber/L, the curl of the body force (sin κy, 0)"`
	// Drag is the linear drag coefficient μ ≥ 0 (term −μω).
	Drag float64 `json:"drag" min:"0" max:"1000" doc:"linear drag coefficient μ of the term −μω, in 1/time; 0 for none. Kolmogorov flows usually need some to reach a steady state"`
	// Wavenumber is the integer k of the Taylor–Green vortex and of the
	// Kolmogorov forcing, in waves per side L.
	Wavenumber int `json:"wavenumber" min:"1" max:"2730" doc:"integer wavenumber k, in waves per side L, of the Taylor–Green vortex and of the Kolmogorov forcing; it must stay below n/3 (kept by the 2/3 rule) when either is used"`
}

// Config describes a batch of simulations. Its JSON names are the parameter
// names of the job kind navier_stokes.simulate, and its tags declare each
// parameter's description, range and allowed values (see package field):
// Validate enforces them and the job's JSON Schema publishes them. Lengths are
// in the units of L and times in the units of t; vorticity is in 1/time.
type Config struct {
	// N is the number of grid points per side.
	N int `json:"n" min:"8" max:"8192" doc:"grid points per side of the periodic square; the 2/3 rule keeps the Fourier modes |m| < n/3 in each direction. Memory and time grow as n² and n² log n per step"`
	Flow
	// Initial is the initial condition.
	Initial Initial `json:"initial" enum:"grf|mcwilliams|taylor_green" doc:"initial vorticity: grf, a Gaussian random field N(0, C), C ∝ (−Δ + τ²)^(−α) (FNO convention); mcwilliams, McWilliams' (1984) decaying-turbulence field with peak wavenumber k0; taylor_green, the Taylor–Green vortex of the given wavenumber, an exact solution when f = 0"`
	// Alpha and Tau are the GRF exponent α > 1 and inverse length τ > 0.
	Alpha float64 `json:"alpha" gt:"1" max:"20" doc:"exponent α of the GRF covariance (−Δ + τ²)^(−α), dimensionless: larger α gives smoother initial fields (α > 1 for finite variance in 2-D); used with initial = grf"`
	Tau   float64 `json:"tau" gt:"0" max:"10000" doc:"inverse length scale τ of the GRF covariance (−Δ + τ²)^(−α), in 1/length: the field is correlated over lengths of about 1/τ; used with initial = grf"`
	// K0 is the McWilliams peak wavenumber, in waves per side L (the
	// angular wavenumber when L = 2π).
	K0 float64 `json:"k0" gt:"0" max:"4096" doc:"peak wavenumber of the McWilliams energy spectrum, in waves per side L (the angular wavenumber when L = 2π); used with initial = mcwilliams"`
	// Scheme is the time stepper and Dt its step.
	Scheme Scheme  `json:"scheme" enum:"imex_euler_cn|rk2_cn|rk4_cn" doc:"time stepper, all treating ν Δω − μ ω implicitly by Crank–Nicolson: imex_euler_cn, first order; rk2_cn, Heun predictor–corrector, second order; rk4_cn, low-storage RK4 for the advection, second order overall, the most stable"`
	Dt     float64 `json:"dt" gt:"0" max:"1000" doc:"time step Δt, in time units; t_warmup and snapshot_dt must be integer multiples of it. Too large a step for the flow (CFL number u_max Δt n/L well above 1) makes the solution blow up"`
	// Snapshots are taken at TWarmup, TWarmup + SnapshotDt, …, TEnd (the
	// first one included); TWarmup, SnapshotDt and TEnd − TWarmup must be
	// integer multiples of Dt and SnapshotDt respectively.
	TWarmup    float64 `json:"t_warmup" min:"0" max:"1e9" doc:"time simulated before the first snapshot, in time units (an integer multiple of dt); 0 records the initial condition"`
	TEnd       float64 `json:"t_end" min:"0" max:"1e9" doc:"time of the last snapshot, in time units; t_end − t_warmup must be an integer multiple of snapshot_dt"`
	SnapshotDt float64 `json:"snapshot_dt" gt:"0" max:"1e9" doc:"time between two snapshots, in time units (an integer multiple of dt); the result holds (t_end − t_warmup)/snapshot_dt + 1 frames per sample"`
	// Samples is the number of trajectories; sample i draws its initial
	// condition from a generator seeded with Seed + i.
	Samples int    `json:"samples" min:"1" max:"1048576" doc:"number of independent trajectories; sample i draws its initial condition with seed + i. Memory grows as samples × frames × n²"`
	Seed    uint64 `json:"seed" min:"0" max:"9007199254740991" doc:"seed of the random initial conditions (grf, mcwilliams); the same seed gives bit-identical trajectories"`
}

// DefaultConfig returns the forced "FNO" data set of the paper (ν = 1e-3,
// L = 1, FNO forcing, GRF α = 2.5, τ = 7, IMEX Euler–CN with Δt = 1e-3,
// snapshots every 0.2, the authors' seed) at 64² for t ∈ [0, 10], one sample.
func DefaultConfig() Config {
	return Config{
		N:          64,
		Flow:       Flow{Length: 1, Viscosity: 1e-3, Forcing: ForcingFNO, Drag: 0, Wavenumber: 4},
		Initial:    InitialGRF,
		Alpha:      2.5,
		Tau:        7,
		K0:         4,
		Scheme:     SchemeEulerCN,
		Dt:         1e-3,
		TWarmup:    0,
		TEnd:       10,
		SnapshotDt: 0.2,
		Samples:    1,
		Seed:       1127825,
	}
}

// MaxSteps bounds the time steps of a simulation over all samples; Validate
// enforces it. Memory is the caller's limit to set from Estimate.
const MaxSteps = 1 << 40

// ratio returns the integer q with a ≈ q·b, and whether a/b is an integer to
// within a relative 1e-9.
func ratio(a, b float64) (int64, bool) {
	r := a / b
	if math.IsNaN(r) || math.IsInf(r, 0) || r > MaxSteps {
		return 0, false
	}
	q := math.Round(r)
	return int64(q), math.Abs(r-q) <= 1e-9*math.Max(1, q)
}

// Validate checks c and returns nil or field.Errors naming every invalid
// parameter by its JSON Pointer ("/n"): each parameter against its declared
// range and values (field.Check), then, when those hold, the times against
// each other and the wavenumber against the grid.
func (c Config) Validate() error {
	errs := field.Check(c)
	if len(errs) > 0 {
		return errs
	}
	if (c.Forcing == ForcingKolmogorov || c.Initial == InitialTaylorGreen) && 3*c.Wavenumber >= c.N {
		errs.Add("/wavenumber", "must be below n/3 (kept by the 2/3 rule), got %d with n = %d", c.Wavenumber, c.N)
	}
	if _, ok := ratio(c.TWarmup, c.Dt); !ok {
		errs.Add("/t_warmup", "must be an integer multiple of dt = %v, got %v", c.Dt, c.TWarmup)
	}
	snapOK := true
	if q, ok := ratio(c.SnapshotDt, c.Dt); !ok || q < 1 {
		errs.Add("/snapshot_dt", "must be an integer multiple of dt = %v, got %v", c.Dt, c.SnapshotDt)
		snapOK = false
	}
	if !(c.TEnd >= c.TWarmup) {
		errs.Add("/t_end", "must be ≥ t_warmup = %v, got %v", c.TWarmup, c.TEnd)
	} else if snapOK {
		if _, ok := ratio(c.TEnd-c.TWarmup, c.SnapshotDt); !ok {
			errs.Add("/t_end", "t_end − t_warmup must be an integer multiple of snapshot_dt = %v, got %v", c.SnapshotDt, c.TEnd-c.TWarmup)
		}
	}
	if len(errs) == 0 {
		if s := c.TotalSteps(); s*int64(c.Samples) > MaxSteps {
			errs.Add("/dt", "dt = %v takes %d steps to t_end = %v, × %d samples: more than the limit %d; raise dt or lower t_end", c.Dt, s, c.TEnd, c.Samples, int64(MaxSteps))
		}
	}
	return errs.Err()
}

// Frames returns the number of snapshots per sample; c must be valid.
func (c Config) Frames() int {
	k, _ := ratio(c.TEnd-c.TWarmup, c.SnapshotDt)
	return int(k) + 1
}

// warmupSteps and snapshotSteps return the step counts; c must be valid.
func (c Config) warmupSteps() int64 {
	k, _ := ratio(c.TWarmup, c.Dt)
	return k
}

func (c Config) snapshotSteps() int64 {
	k, _ := ratio(c.SnapshotDt, c.Dt)
	return k
}

// TotalSteps returns the number of time steps of one sample; c must be valid.
func (c Config) TotalSteps() int64 {
	return c.warmupSteps() + int64(c.Frames()-1)*c.snapshotSteps()
}

// Estimate is the predicted cost of a simulation.
type Estimate struct {
	// OutputBytes is the size of the returned Trajectories.
	OutputBytes int64
	// WorkBytes is the working memory of the solvers running at once.
	WorkBytes int64
	// Flops is the approximate floating-point operation count.
	Flops float64
	// Steps is the number of time steps over all samples.
	Steps int64
}

// MemoryBytes is the peak memory: output plus working memory.
func (e Estimate) MemoryBytes() int64 { return e.OutputBytes + e.WorkBytes }

// Estimate returns the cost of Simulate(c) with the given number of samples
// solved at once (the number of CPUs Simulate uses, min(GOMAXPROCS, samples));
// c must be valid.
func (c Config) Estimate(concurrent int) Estimate {
	n := int64(c.N)
	frames := int64(c.Frames())
	s := int64(c.Samples)
	concurrent = max(1, min(concurrent, c.Samples))
	out := 8 * (s*frames*n*n + 3*s*frames + s*(n/2+1) + frames + n/2 + 1)
	steps := c.TotalSteps() * s
	// Per F evaluation: 4 real 2-D FFTs of ≈ 2.5 n² log2(n²) flops and ≈ 30
	// flops per grid point of pointwise work.
	nn := float64(n * n)
	perF := 4*2.5*nn*math.Log2(nn) + 30*nn
	return Estimate{
		OutputBytes: out,
		WorkBytes:   int64(concurrent) * solverBytes(c.N),
		Flops:       float64(steps) * float64(c.Scheme.stages()) * perF,
		Steps:       steps,
	}
}
