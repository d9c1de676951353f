package navierstokes

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"eddy/progress"
)

// Trajectories holds the output of Simulate. Arrays are row-major.
type Trajectories struct {
	N       int     // grid side
	Length  float64 // side L of the box
	Samples int
	Frames  int
	// Vorticity has shape (sample, t, y, x): frame f of sample s at
	// [(s·Frames + f)·N² …]; grid point (i, j) at (x_j, y_i) = (jL/N, iL/N).
	Vorticity []float64
	// T has shape (t): the snapshot times t_warmup + f·snapshot_dt.
	T []float64
	// Energy ½⟨|u|²⟩ and Enstrophy ½⟨ω²⟩ (domain means), shape (sample, t).
	Energy    []float64
	Enstrophy []float64
	// MaxCFL is, per sample, the largest Δt·max(|u|+|v|)/Δx over all stages.
	MaxCFL []float64
	// Wavenumbers are the shell centres k = 0 … N/2 (waves per side L) and
	// Spectrum the shell-summed energy spectrum E(k) at the final time,
	// shape (sample, k); Σ_k E(k) = Energy at the final time.
	Wavenumbers []float64
	Spectrum    []float64
}

// Frame returns the vorticity of sample s at frame f (a sub-slice, N×N).
func (tr *Trajectories) Frame(s, f int) []float64 {
	nn := tr.N * tr.N
	o := (s*tr.Frames + f) * nn
	return tr.Vorticity[o : o+nn]
}

// NewTrajectories returns the arrays of Simulate's output for c, with T and
// Wavenumbers filled in and every sample's entries zero. c must be valid.
func NewTrajectories(c Config) *Trajectories {
	n, frames, samples := c.N, c.Frames(), c.Samples
	h := n/2 + 1
	tr := &Trajectories{
		N: n, Length: c.Length, Samples: samples, Frames: frames,
		Vorticity:   make([]float64, samples*frames*n*n),
		T:           make([]float64, frames),
		Energy:      make([]float64, samples*frames),
		Enstrophy:   make([]float64, samples*frames),
		MaxCFL:      make([]float64, samples),
		Wavenumbers: make([]float64, h),
		Spectrum:    make([]float64, samples*h),
	}
	for f := range tr.T {
		tr.T[f] = c.TWarmup + float64(f)*c.SnapshotDt
	}
	for k := range tr.Wavenumbers {
		tr.Wavenumbers[k] = float64(k)
	}
	return tr
}

// SampleArrays returns the parts of tr's per-sample arrays that belong to
// sample i, by array name: "vorticity" (t,y,x: Frames·N² values),
// "energy" and "enstrophy" (t: Frames), "max_cfl" (one value) and
// "spectrum" (k: N/2+1). The slices alias tr.
func (tr *Trajectories) SampleArrays(i int) map[string][]float64 {
	if i < 0 || i >= tr.Samples {
		panic(fmt.Sprintf("navierstokes: sample %d of %d", i, tr.Samples))
	}
	nn, f, h := tr.N*tr.N, tr.Frames, len(tr.Wavenumbers)
	return map[string][]float64{
		"vorticity": tr.Vorticity[i*f*nn : (i+1)*f*nn],
		"energy":    tr.Energy[i*f : (i+1)*f],
		"enstrophy": tr.Enstrophy[i*f : (i+1)*f],
		"max_cfl":   tr.MaxCFL[i : i+1],
		"spectrum":  tr.Spectrum[i*h : (i+1)*h],
	}
}

// Options let a caller of SimulateWith save finished samples as it goes and
// continue an interrupted simulation: samples are independent (sample i
// draws its initial field from seed + i), so a resumed simulation gives
// bit-identical trajectories to one that was never interrupted.
type Options struct {
	// Resume, when set, holds the samples of an earlier, interrupted
	// simulation of the same Config (see NewTrajectories); Done marks those
	// that were complete. They are kept as they are and not simulated
	// again; SimulateWith fills the others into Resume and returns it.
	Resume *Trajectories
	Done   []bool
	// SampleDone, when set, is called once sample i is complete, with the
	// output so far: the entries of completed samples no longer change,
	// those of other samples may be changing while it runs. Calls are
	// serialised. An error stops the simulation and is returned.
	SampleDone func(i int, tr *Trajectories) error
}

// Simulate runs c.Samples independent simulations of c and returns their
// snapshots. Samples run concurrently, min(GOMAXPROCS, samples) at a time;
// a single sample shares each step over GOMAXPROCS goroutines. The result is
// bit-identical for a given c whatever the parallelism. fn receives the
// fraction of time steps done and the simulated time reached (metrics "t",
// "samples_done", "max_cfl"). It returns ctx.Err() when ctx is cancelled,
// the validation error of c, or an error if a solution stops being finite
// (time step too large for the flow).
func Simulate(ctx context.Context, c Config, fn progress.Func) (*Trajectories, error) {
	return SimulateWith(ctx, c, fn, Options{})
}

// SimulateWith is Simulate with Options: it skips the samples that o marks
// done and reports each sample it completes. Fractions reported to fn count
// the skipped samples as done.
func SimulateWith(ctx context.Context, c Config, fn progress.Func, o Options) (*Trajectories, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("navierstokes: %w", err)
	}
	samples := c.Samples
	skip := make([]bool, samples)
	tr := o.Resume
	if tr == nil {
		tr = NewTrajectories(c)
	} else {
		if tr.N != c.N || tr.Samples != samples || tr.Frames != c.Frames() {
			panic(fmt.Sprintf("navierstokes: Options.Resume holds %d samples of %d frames on %d², want %d of %d on %d²",
				tr.Samples, tr.Frames, tr.N, samples, c.Frames(), c.N))
		}
		if o.Done != nil && len(o.Done) != samples {
			panic(fmt.Sprintf("navierstokes: len(Options.Done) = %d, want %d", len(o.Done), samples))
		}
		copy(skip, o.Done)
	}
	todo := 0
	for _, d := range skip {
		if !d {
			todo++
		}
	}

	procs := runtime.GOMAXPROCS(0)
	conc := max(min(procs, todo), 1)
	// One sample: parallel steps (the solver keeps small passes on one
	// goroutine).
	fftWorkers := 1
	if conc == 1 {
		fftWorkers = procs
	}
	steps := c.TotalSteps()
	total := float64(steps) * float64(samples)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next, done, finished atomic.Int64
		slotStep             = make([]atomic.Int64, conc)
		errMu                sync.Mutex
		firstErr             error
		wg                   sync.WaitGroup
		doneMu               sync.Mutex // serialises o.SampleDone
	)
	done.Store(int64(samples-todo) * steps)
	finished.Store(int64(samples - todo))
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	for w := range conc {
		wg.Go(func() {
			s, err := NewSolver(c)
			if err != nil {
				fail(err)
				return
			}
			s.SetWorkers(fftWorkers)
			for {
				i := int(next.Add(1) - 1)
				if i >= samples {
					slotStep[w].Store(steps)
					return
				}
				if skip[i] {
					continue
				}
				if err := runSample(ctx, s, c, i, tr, &done, &slotStep[w]); err != nil {
					fail(err)
					return
				}
				finished.Add(1)
				if o.SampleDone != nil {
					doneMu.Lock()
					err := o.SampleDone(i, tr)
					doneMu.Unlock()
					if err != nil {
						fail(err)
						return
					}
				}
			}
		})
	}
	waitCh := make(chan struct{})
	go func() { wg.Wait(); close(waitCh) }()
	report := func() {
		tMin := math.Inf(1)
		for i := range slotStep {
			tMin = min(tMin, float64(slotStep[i].Load())*c.Dt)
		}
		frac := 1.0
		if total > 0 {
			frac = float64(done.Load()) / total
		}
		fin := finished.Load()
		fn.Report(progress.Update{
			Fraction: frac,
			Message:  fmt.Sprintf("t = %.4g of %.4g, %d of %d samples done", tMin, c.TEnd, fin, samples),
			Metrics:  map[string]float64{"t": tMin, "samples_done": float64(fin)},
		})
	}
	if fn != nil {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
	loop:
		for {
			select {
			case <-waitCh:
				break loop
			case <-tick.C:
				report()
			}
		}
	} else {
		<-waitCh
	}
	if firstErr != nil {
		return nil, firstErr
	}
	var maxCFL float64
	for _, v := range tr.MaxCFL {
		maxCFL = max(maxCFL, v)
	}
	fn.Report(progress.Update{
		Fraction: 1,
		Message:  fmt.Sprintf("t = %.4g, %d samples done", c.TEnd, samples),
		Metrics:  map[string]float64{"t": c.TEnd, "samples_done": float64(samples), "max_cfl": maxCFL},
	})
	return tr, nil
}

// runSample simulates sample i with solver s and stores its frames in tr.
func runSample(ctx context.Context, s *Solver, c Config, i int, tr *Trajectories, done, slot *atomic.Int64) error {
	n := c.N
	nn := n * n
	omega := tr.Frame(i, 0)
	initialField(omega, c, i)
	s.SetVorticity(omega)
	warm, every := c.warmupSteps(), c.snapshotSteps()
	steps := c.TotalSteps()
	record := func(f int) error {
		s.Vorticity(tr.Vorticity[(i*tr.Frames+f)*nn : (i*tr.Frames+f+1)*nn])
		e, z := s.Energy(), s.Enstrophy()
		tr.Energy[i*tr.Frames+f] = e
		tr.Enstrophy[i*tr.Frames+f] = z
		if math.IsNaN(e) || math.IsInf(e, 0) || math.IsNaN(z) || math.IsInf(z, 0) {
			return fmt.Errorf("navierstokes: sample %d: the solution is no longer finite at t = %g (max CFL %.3g): reduce dt", i, s.Time(), s.CFL())
		}
		return nil
	}
	slot.Store(0)
	if warm == 0 {
		if err := record(0); err != nil {
			return err
		}
	}
	for k := int64(1); k <= steps; k++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.Step()
		done.Add(1)
		slot.Store(k)
		if k >= warm && (k-warm)%every == 0 {
			if err := record(int((k - warm) / every)); err != nil {
				return err
			}
		}
	}
	tr.MaxCFL[i] = s.CFL()
	s.EnergySpectrum(tr.Spectrum[i*(n/2+1) : (i+1)*(n/2+1)])
	return nil
}
