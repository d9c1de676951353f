package jobs

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"eddy/hdf5io"
	"eddy/pde/navierstokes"
	"eddy/storage"
)

// NavierStokesParams are the params of navier_stokes.simulate: the solver's
// Config, whose json names are the API.
type NavierStokesParams struct {
	navierstokes.Config
}

// Validate checks the configuration and refuses runs of too many time steps
// for one job.
func (p *NavierStokesParams) Validate(c *Checker) {
	if err := p.Config.Validate(); err != nil {
		c.Add(err)
		return
	}
	if steps := p.Config.TotalSteps() * int64(p.Samples); steps > 2e9 {
		c.Fail("/dt", "dt = %v takes %d time steps in all (t_end = %v, %d samples), more than one job may run (2e9); raise dt, or lower t_end or samples", p.Dt, steps, p.TEnd, p.Samples)
	}
}

// CheckData refuses, at submit, a time step that the initial flow would make
// blow up (navierstokes.Config.CheckCFL).
func (p *NavierStokesParams) CheckData(ctx context.Context, c *Checker) {
	c.Add(p.Config.CheckCFL())
}

// memory is the peak memory of a simulation: the trajectories it returns
// (written to the result without a copy) and the working memory of the
// solvers running at once, one per CPU of this process up to the samples.
func (p *NavierStokesParams) memory(map[string]*storage.Upload) int64 {
	return p.Config.Estimate(runtime.GOMAXPROCS(0)).MemoryBytes()
}

func init() {
	Register(Spec[*NavierStokesParams]{
		Name:  "navier_stokes.simulate",
		Title: "2-D incompressible Navier–Stokes (pseudo-spectral, vorticity form)",
		Description: "Trajectories of the periodic 2-D Navier–Stokes equations in vorticity–streamfunction form " +
			"on [0, L)², pseudo-spectral with 2/3 dealiasing and IMEX time stepping (Euler–CN, RK2–CN, RK4–CN); " +
			"Gaussian random field, McWilliams or Taylor–Green initial data; FNO or Kolmogorov forcing.",
		Defaults: func() *NavierStokesParams { return &NavierStokesParams{navierstokes.DefaultConfig()} },
		Outputs:  []string{"vorticity", "t", "energy", "enstrophy", "max_cfl", "wavenumber", "spectrum"},
		Metrics: map[string]string{
			"max_cfl":         "float64: largest CFL number of any step of any sample",
			"final_energy":    "float64: kinetic energy at the final time, mean over samples",
			"final_enstrophy": "float64: enstrophy at the final time, mean over samples",
			"frames":          "int64: snapshots per sample",
			"steps":           "int64: time steps in all samples",
			"seconds":         "float64: wall time of the simulation, in seconds",
		},
		Timeout:     10 * time.Hour,
		MaxAttempts: 2,
		Run:         runNavierStokes,
		Memory:      (*NavierStokesParams).memory,
		// One trajectory too large is the grid's fault; several, the count's.
		MemoryParamOf: func(p *NavierStokesParams) string {
			if p.Samples > 1 {
				return "/samples"
			}
			return "/n"
		},
	})
}

func runNavierStokes(ctx context.Context, p *NavierStokesParams, env *Env) error {
	start := time.Now()
	if p.Initial == navierstokes.InitialGRF || p.Initial == navierstokes.InitialMcWilliams {
		env.UseSeed(p.Seed) // sample i draws from seed + i
	}
	tr, err := simulateResumable(ctx, p, env)
	if err != nil {
		return err
	}
	n, s, f := tr.N, tr.Samples, tr.Frames
	w := env.Out
	for _, d := range []struct {
		name, dims, units string
		data              []float64
		shape             []int
	}{
		{"vorticity", "sample,t,y,x", "1/time", tr.Vorticity, []int{s, f, n, n}},
		{"t", "t", "time", tr.T, []int{f}},
		{"energy", "sample,t", "length^2/time^2", tr.Energy, []int{s, f}},
		{"enstrophy", "sample,t", "1/time^2", tr.Enstrophy, []int{s, f}},
		{"max_cfl", "sample", "", tr.MaxCFL, []int{s}},
		{"wavenumber", "k", "waves per side", tr.Wavenumbers, []int{len(tr.Wavenumbers)}},
		{"spectrum", "sample,k", "", tr.Spectrum, []int{s, len(tr.Wavenumbers)}},
	} {
		if err := w.WriteFloat64(d.name, d.data, d.shape, d.dims, d.units); err != nil {
			return fmt.Errorf("writing %s: %w", d.name, err)
		}
	}
	maxCFL := 0.0
	for _, c := range tr.MaxCFL {
		maxCFL = max(maxCFL, c)
	}
	last := func(a []float64) float64 { // mean over samples at the final time
		sum := 0.0
		for i := 0; i < s; i++ {
			sum += a[i*f+f-1]
		}
		return sum / float64(s)
	}
	env.Metrics["max_cfl"] = maxCFL
	env.Metrics["final_energy"] = last(tr.Energy)
	env.Metrics["final_enstrophy"] = last(tr.Enstrophy)
	env.Metrics["frames"] = f
	env.Metrics["steps"] = p.Config.TotalSteps() * int64(s)
	env.Metrics["seconds"] = time.Since(start).Seconds()
	return nil
}

// simulateResumable runs the simulation with checkpoints at sample
// boundaries: when one is due (Env.CheckpointDue) after a sample completes,
// the completed samples are saved, and a run that finds a checkpoint of an
// earlier attempt simulates only the samples it lacks. Samples are
// independent and seeded, so the result is bit-identical to a run that was
// never interrupted.
func simulateResumable(ctx context.Context, p *NavierStokesParams, env *Env) (*navierstokes.Trajectories, error) {
	tr := navierstokes.NewTrajectories(p.Config)
	done := make([]bool, p.Samples)
	resumed, err := env.Resume(func(f *hdf5io.File) error { return loadSamples(f, tr, done) })
	if err != nil {
		return nil, err
	}
	if resumed {
		env.Stage("resumed at sample %d of %d from a checkpoint", countDone(done), p.Samples)
	}
	opts := navierstokes.Options{Resume: tr, Done: append([]bool(nil), done...),
		SampleDone: func(i int, tr *navierstokes.Trajectories) error {
			done[i] = true
			if k := countDone(done); k < len(done) && env.CheckpointDue() {
				if err := env.Checkpoint(func(w *hdf5io.Writer) error { return saveSamples(w, tr, done) }); err != nil {
					// The run goes on; only a resume would start earlier.
					env.Stage("checkpoint at sample %d not saved: %v", k, err)
				}
			}
			return nil
		}}
	return navierstokes.SimulateWith(ctx, p.Config, env.Progress, opts)
}

// saveSamples writes the completed samples of tr into a checkpoint: the
// dataset done (uint8, one per sample) and, for each completed sample i, the
// group /sample<i> with its arrays (navierstokes.Trajectories.SampleArrays).
func saveSamples(w *hdf5io.Writer, tr *navierstokes.Trajectories, done []bool) error {
	mask := make([]uint8, len(done))
	for i, d := range done {
		if !d {
			continue
		}
		mask[i] = 1
		for name, a := range tr.SampleArrays(i) {
			if err := w.WriteFloat64(sampleGroup(i)+"/"+name, a, []int{len(a)}, "value", ""); err != nil {
				return err
			}
		}
	}
	return w.WriteUint8("done", mask, []int{len(mask)}, "sample", "")
}

// loadSamples reads a checkpoint written by saveSamples into tr and done.
func loadSamples(f *hdf5io.File, tr *navierstokes.Trajectories, done []bool) error {
	mask, _, err := f.ReadUint8("done")
	if err != nil {
		return err
	}
	if len(mask) != len(done) {
		return fmt.Errorf("checkpoint holds %d samples, want %d", len(mask), len(done))
	}
	for i, m := range mask {
		if m == 0 {
			continue
		}
		for name, dst := range tr.SampleArrays(i) {
			a, _, err := f.ReadFloat64(sampleGroup(i) + "/" + name)
			if err != nil {
				return err
			}
			if len(a) != len(dst) {
				return fmt.Errorf("checkpoint: sample %d: %s has %d values, want %d", i, name, len(a), len(dst))
			}
			copy(dst, a)
		}
	}
	for i, m := range mask {
		done[i] = m != 0
	}
	return nil
}

func sampleGroup(i int) string { return "/sample" + strconv.Itoa(i) }

func countDone(done []bool) int {
	n := 0
	for _, d := range done {
		if d {
			n++
		}
	}
	return n
}
