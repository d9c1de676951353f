package navierstokes

import (
	"errors"
	"fmt"
	"math"
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

// Config describes a batch of simulations. Its JSON names are the parameter
// names of the job kind navier_stokes.simulate.
type Config struct {
	// N is the number of grid points per side.
	N int `json:"n"`
	// Length is the side L of the periodic square [0, L)².
	Length float64 `json:"length"`
	// Viscosity is ν ≥ 0.
	Viscosity float64 `json:"viscosity"`
	// Forcing is the vorticity forcing.
	Forcing Forcing `json:"forcing"`
	// Drag is the linear drag coefficient μ ≥ 0 (term −μω).
	Drag float64 `json:"drag"`
	// Initial is the initial condition.
	Initial Initial `json:"initial"`
	// Alpha and Tau are the GRF exponent α > 1 and inverse length τ > 0.
	Alpha float64 `json:"alpha"`
	Tau   float64 `json:"tau"`
	// K0 is the McWilliams peak wavenumber, in waves per side L (the
	// angular wavenumber when L = 2π).
	K0 float64 `json:"k0"`
	// Wavenumber is the integer k of the Taylor–Green vortex and of the
	// Kolmogorov forcing, in waves per side L.
	Wavenumber int `json:"wavenumber"`
	// Scheme is the time stepper and Dt its step.
	Scheme Scheme  `json:"scheme"`
	Dt     float64 `json:"dt"`
	// Snapshots are taken at TWarmup, TWarmup + SnapshotDt, …, TEnd (the
	// first one included); TWarmup, SnapshotDt and TEnd − TWarmup must be
	// integer multiples of Dt and SnapshotDt respectively.
	TWarmup    float64 `json:"t_warmup"`
	TEnd       float64 `json:"t_end"`
	SnapshotDt float64 `json:"snapshot_dt"`
	// Samples is the number of trajectories; sample i draws its initial
	// condition from a generator seeded with Seed + i.
	Samples int    `json:"samples"`
	Seed    uint64 `json:"seed"`
}

// DefaultConfig returns the forced "FNO" data set of the paper (ν = 1e-3,
// L = 1, FNO forcing, GRF α = 2.5, τ = 7, IMEX Euler–CN with Δt = 1e-3,
// snapshots every 0.2, the authors' seed) at 64² for t ∈ [0, 10], one sample.
func DefaultConfig() Config {
	return Config{
		N:          64,
		Length:     1,
		Viscosity:  1e-3,
		Forcing:    ForcingFNO,
		Drag:       0,
		Initial:    InitialGRF,
		Alpha:      2.5,
		Tau:        7,
		K0:         4,
		Wavenumber: 4,
		Scheme:     SchemeEulerCN,
		Dt:         1e-3,
		TWarmup:    0,
		TEnd:       10,
		SnapshotDt: 0.2,
		Samples:    1,
		Seed:       1127825,
	}
}

// Limits enforced by Validate. Memory is the caller's limit to set from
// Estimate.
const (
	MinN       = 8
	MaxN       = 8192
	MaxSamples = 1 << 20
	MaxSteps   = 1 << 40
)

// FieldError is a validation failure of one Config field, named by its JSON
// name.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("navierstokes: %s: %s", e.Field, e.Message)
}

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

// Validate checks c and returns nil or the joined *FieldError of every
// invalid field.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if c.N < MinN || c.N > MaxN {
		bad("n", "must be in [%d, %d], got %d", MinN, MaxN, c.N)
	}
	if !(c.Length > 0) || !finite(c.Length) {
		bad("length", "must be a positive number, got %v", c.Length)
	}
	if !(c.Viscosity >= 0) || !finite(c.Viscosity) {
		bad("viscosity", "must be ≥ 0, got %v", c.Viscosity)
	}
	if !(c.Drag >= 0) || !finite(c.Drag) {
		bad("drag", "must be ≥ 0, got %v", c.Drag)
	}
	needK := false
	switch c.Forcing {
	case ForcingNone, ForcingFNO:
	case ForcingKolmogorov:
		needK = true
	default:
		bad("forcing", "must be one of none, fno, kolmogorov, got %q", c.Forcing)
	}
	switch c.Initial {
	case InitialGRF:
		if !(c.Alpha > 1) || !finite(c.Alpha) {
			bad("alpha", "must be > 1 (finite variance in 2-D), got %v", c.Alpha)
		}
		if !(c.Tau > 0) || !finite(c.Tau) {
			bad("tau", "must be > 0, got %v", c.Tau)
		}
	case InitialMcWilliams:
		if !(c.K0 > 0) || !finite(c.K0) {
			bad("k0", "must be > 0, got %v", c.K0)
		}
	case InitialTaylorGreen:
		needK = true
	default:
		bad("initial", "must be one of grf, mcwilliams, taylor_green, got %q", c.Initial)
	}
	if needK && (c.Wavenumber < 1 || 3*c.Wavenumber >= c.N) {
		bad("wavenumber", "must be ≥ 1 and below n/3 (kept by the 2/3 rule), got %d with n = %d", c.Wavenumber, c.N)
	}
	switch c.Scheme {
	case SchemeEulerCN, SchemeRK2CN, SchemeRK4CN:
	default:
		bad("scheme", "must be one of imex_euler_cn, rk2_cn, rk4_cn, got %q", c.Scheme)
	}
	dtOK := c.Dt > 0 && finite(c.Dt)
	if !dtOK {
		bad("dt", "must be > 0, got %v", c.Dt)
	}
	if !(c.TWarmup >= 0) || !finite(c.TWarmup) {
		bad("t_warmup", "must be ≥ 0, got %v", c.TWarmup)
	} else if dtOK {
		if _, ok := ratio(c.TWarmup, c.Dt); !ok {
			bad("t_warmup", "must be an integer multiple of dt = %v, got %v", c.Dt, c.TWarmup)
		}
	}
	snapOK := c.SnapshotDt > 0 && finite(c.SnapshotDt)
	if !snapOK {
		bad("snapshot_dt", "must be > 0, got %v", c.SnapshotDt)
	} else if dtOK {
		if q, ok := ratio(c.SnapshotDt, c.Dt); !ok || q < 1 {
			bad("snapshot_dt", "must be an integer multiple of dt = %v, got %v", c.Dt, c.SnapshotDt)
		}
	}
	if !(c.TEnd >= c.TWarmup) || !finite(c.TEnd) {
		bad("t_end", "must be ≥ t_warmup = %v, got %v", c.TWarmup, c.TEnd)
	} else if snapOK {
		if _, ok := ratio(c.TEnd-c.TWarmup, c.SnapshotDt); !ok {
			bad("t_end", "t_end − t_warmup must be an integer multiple of snapshot_dt = %v, got %v", c.SnapshotDt, c.TEnd-c.TWarmup)
		}
	}
	if c.Samples < 1 || c.Samples > MaxSamples {
		bad("samples", "must be in [1, %d], got %d", MaxSamples, c.Samples)
	}
	if len(errs) == 0 {
		if s := c.TotalSteps(); s*int64(c.Samples) > MaxSteps {
			bad("t_end", "%d steps × %d samples exceed the limit %d", s, c.Samples, int64(MaxSteps))
		}
	}
	return errors.Join(errs...)
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
