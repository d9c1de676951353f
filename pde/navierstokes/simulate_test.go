package navierstokes

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"eddy/field"
	"eddy/progress"
)

func smallConfig() Config {
	c := DefaultConfig()
	c.N, c.Samples, c.Scheme = 32, 3, SchemeRK4CN
	c.Dt, c.TWarmup, c.SnapshotDt, c.TEnd = 1e-2, 0.1, 0.05, 0.3
	return c
}

// TestSimulateDeterministic: the same seed gives bit-identical output whatever
// GOMAXPROCS (samples run concurrently or one at a time with parallel
// transforms); another seed gives another field.
func TestSimulateDeterministic(t *testing.T) {
	c := smallConfig()
	var runs []*Trajectories
	for _, procs := range []int{1, 2, 3} {
		old := runtime.GOMAXPROCS(procs)
		tr, err := Simulate(context.Background(), c, nil)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, tr)
	}
	c1 := c
	c1.Samples = 1
	single, err := Simulate(context.Background(), c1, nil) // one sample, parallel FFTs
	if err != nil {
		t.Fatal(err)
	}
	for r := 1; r < len(runs); r++ {
		for i, v := range runs[0].Vorticity {
			if runs[r].Vorticity[i] != v {
				t.Fatalf("run %d differs from run 0 at %d", r, i)
			}
		}
		for i, v := range runs[0].Energy {
			if runs[r].Energy[i] != v || runs[r].Enstrophy[i] != runs[0].Enstrophy[i] {
				t.Fatalf("run %d: diagnostics differ at %d", r, i)
			}
		}
	}
	for i, v := range single.Vorticity {
		if runs[0].Vorticity[i] != v {
			t.Fatalf("single-sample run differs from sample 0 of the batch at %d", i)
		}
	}
	c2 := c
	c2.Seed++
	other, err := Simulate(context.Background(), c2, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Sample 0 of seed+1 is sample 1 of seed (sample i uses seed + i).
	nn := c.N * c.N
	f := runs[0].Frames
	for i := range f * nn {
		if other.Vorticity[i] != runs[0].Vorticity[f*nn+i] {
			t.Fatalf("sample 0 of seed+1 differs from sample 1 of seed at %d", i)
		}
	}
	if other.Vorticity[0] == runs[0].Vorticity[0] {
		t.Error("different seeds gave the same first value")
	}
}

// TestSimulateSnapshots checks the frame times, that frame 0 is the state at
// t_warmup and the last the state at t_end (compared with a Solver driven by
// hand), and the spectrum against the final energy.
func TestSimulateSnapshots(t *testing.T) {
	c := smallConfig()
	c.Samples = 1
	tr, err := Simulate(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Frames != 5 || len(tr.T) != 5 {
		t.Fatalf("frames = %d, want 5", tr.Frames)
	}
	for f, tt := range tr.T {
		if want := 0.1 + 0.05*float64(f); math.Abs(tt-want) > 1e-15 {
			t.Errorf("T[%d] = %v, want %v", f, tt, want)
		}
	}
	s, _ := NewSolver(c)
	w := make([]float64, c.N*c.N)
	initialField(w, c, 0)
	s.SetVorticity(w)
	got := make([]float64, c.N*c.N)
	for step := 1; step <= 30; step++ {
		s.Step()
		if step == 10 || step == 30 {
			s.Vorticity(got)
			f := (step - 10) / 5
			for i, v := range tr.Frame(0, f) {
				if v != got[i] {
					t.Fatalf("frame %d differs from the solver state at step %d", f, step)
				}
			}
		}
	}
	var sum float64
	for _, e := range tr.Spectrum {
		sum += e
	}
	if e := tr.Energy[tr.Frames-1]; math.Abs(sum-e) > 1e-13*e {
		t.Errorf("Σ spectrum %.15g ≠ final energy %.15g", sum, e)
	}
	if tr.MaxCFL[0] <= 0 || tr.MaxCFL[0] > 1 {
		t.Errorf("max CFL %v out of range", tr.MaxCFL[0])
	}
}

func TestSimulateProgressAndCancel(t *testing.T) {
	c := smallConfig()
	var last progress.Update
	calls := 0
	if _, err := Simulate(context.Background(), c, func(u progress.Update) { last = u; calls++ }); err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Fraction != 1 || last.Metrics["t"] != c.TEnd {
		t.Errorf("last progress %+v after %d calls", last, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.TEnd = 1000
	if _, err := Simulate(ctx, c, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

func TestSimulateBlowUp(t *testing.T) {
	c := DefaultConfig()
	c.N, c.Length, c.Viscosity, c.Forcing, c.Initial = 32, 2*math.Pi, 0, ForcingNone, InitialMcWilliams
	c.Scheme, c.Dt, c.SnapshotDt, c.TEnd = SchemeEulerCN, 1, 1, 200
	_, err := Simulate(context.Background(), c, nil)
	if err == nil || !strings.Contains(err.Error(), "reduce dt") {
		t.Errorf("err = %v, want a blow-up error", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"n", func(c *Config) { c.N = 4 }},
		{"length", func(c *Config) { c.Length = -1 }},
		{"viscosity", func(c *Config) { c.Viscosity = math.NaN() }},
		{"drag", func(c *Config) { c.Drag = -0.1 }},
		{"forcing", func(c *Config) { c.Forcing = "wind" }},
		{"initial", func(c *Config) { c.Initial = "random" }},
		{"alpha", func(c *Config) { c.Alpha = 1 }},
		{"tau", func(c *Config) { c.Tau = 0 }},
		{"k0", func(c *Config) { c.Initial, c.K0 = InitialMcWilliams, 0 }},
		{"wavenumber", func(c *Config) { c.Initial, c.Wavenumber = InitialTaylorGreen, 22 }},
		{"scheme", func(c *Config) { c.Scheme = "rk3" }},
		{"dt", func(c *Config) { c.Dt = 0 }},
		{"t_warmup", func(c *Config) { c.TWarmup = 0.0015 }},
		{"snapshot_dt", func(c *Config) { c.SnapshotDt = 0.0005 }},
		{"t_end", func(c *Config) { c.TEnd = 10.1 }},
		{"samples", func(c *Config) { c.Samples = 0 }},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		var fe field.Errors
		if !errors.As(err, &fe) || !fe.Has("/"+tc.field) {
			t.Errorf("%s: err = %v, want a field error at /%s", tc.field, err, tc.field)
		}
	}
	// Several bad fields are all reported.
	c := DefaultConfig()
	c.N, c.Dt = 2, -1
	err := c.Validate()
	if fe, ok := err.(field.Errors); !ok || len(fe) != 2 {
		t.Errorf("want two field errors, got %v", err)
	}
}

func TestConfigJSONNames(t *testing.T) {
	b, err := json.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	names := []string{"n", "length", "viscosity", "forcing", "drag", "initial", "alpha", "tau", "k0",
		"wavenumber", "scheme", "dt", "t_warmup", "t_end", "snapshot_dt", "samples", "seed"}
	if len(m) != len(names) {
		t.Errorf("JSON has %d fields, want %d: %s", len(m), len(names), b)
	}
	for _, k := range names {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
}

func TestEstimate(t *testing.T) {
	c := DefaultConfig()
	c.Samples = 16
	e := c.Estimate(2)
	// 16 samples × 51 frames × 64² float64 dominate the output.
	if want := int64(16 * 51 * 64 * 64 * 8); e.OutputBytes < want || e.OutputBytes > want+want/50 {
		t.Errorf("OutputBytes = %d, want ≈ %d", e.OutputBytes, want)
	}
	if e.Steps != 16*10000 {
		t.Errorf("Steps = %d, want %d", e.Steps, 16*10000)
	}
	if e.WorkBytes <= 0 || e.Flops <= 0 || e.MemoryBytes() != e.OutputBytes+e.WorkBytes {
		t.Errorf("estimate %+v", e)
	}
}

// TestInitialCFL checks the estimate against the CFL number Simulate reports
// for its first step, and that CheckCFL refuses only time steps that blow up.
func TestInitialCFL(t *testing.T) {
	for _, init := range []Initial{InitialGRF, InitialMcWilliams} {
		c := DefaultConfig()
		c.N, c.Initial, c.Viscosity, c.Forcing, c.Scheme = 64, init, 1e-4, ForcingNone, SchemeRK4CN
		c.Dt, c.SnapshotDt, c.TEnd = 0.01, 0.01, 0.01
		est := c.InitialCFL()
		tr, err := Simulate(context.Background(), c, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The first step's stages see the initial field and, within one
		// step, fields close to it.
		if got := tr.MaxCFL[0]; est > got*(1+1e-9) || est < 0.9*got {
			t.Errorf("%s: InitialCFL %.4g, first step's CFL %.4g", init, est, got)
		}
		if err := c.CheckCFL(); err != nil {
			t.Errorf("%s: dt = %g refused: %v", init, c.Dt, err)
		}
		// A step 10% beyond the bound is refused, and would have blown up.
		c.Dt *= 1.1 * c.Scheme.maxStableCFL() / est
		c.SnapshotDt, c.TEnd = c.Dt*10, c.Dt*100
		var fe field.Errors
		if err := c.CheckCFL(); !errors.As(err, &fe) || !fe.Has("/dt") {
			t.Errorf("%s: dt = %g (CFL %.3g) accepted: %v", init, c.Dt, c.InitialCFL(), err)
		}
		if _, err := Simulate(context.Background(), c, nil); err == nil {
			t.Errorf("%s: dt = %g refused by CheckCFL, yet Simulate succeeds", init, c.Dt)
		}
	}
	// On a large grid the estimate comes from a 256² field: about n/256
	// times that of the 256² grid itself.
	c := DefaultConfig()
	small := c
	small.N = 256
	c.N = 2048
	if got, want := c.InitialCFL(), small.InitialCFL()*8; math.Abs(got-want) > 1e-9*want {
		t.Errorf("n = 2048: InitialCFL %g, want %g", got, want)
	}
	// The Taylor–Green vortex is never refused: its advection term vanishes.
	c = DefaultConfig()
	c.Initial, c.Forcing, c.Dt, c.SnapshotDt, c.TEnd = InitialTaylorGreen, ForcingNone, 1, 1, 1
	if err := c.CheckCFL(); err != nil {
		t.Errorf("Taylor–Green: %v", err)
	}
}

// A simulation stopped after some samples and continued with SimulateWith
// from the samples it finished gives bit-identical output to one that ran
// through; SampleDone sees each sample once.
func TestSimulateWithResumes(t *testing.T) {
	c := smallConfig()
	c.Samples = 4
	want, err := Simulate(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}

	// First run: stop once two samples are done, keeping only those.
	ctx, cancel := context.WithCancel(context.Background())
	saved := NewTrajectories(c)
	done := make([]bool, c.Samples)
	stopAfter := func(i int, tr *Trajectories) error {
		for name, part := range tr.SampleArrays(i) {
			copy(saved.SampleArrays(i)[name], part)
		}
		done[i] = true
		if n := countTrue(done); n == 2 {
			cancel()
		}
		return nil
	}
	if _, err := SimulateWith(ctx, c, nil, Options{SampleDone: stopAfter}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	if n := countTrue(done); n < 2 || n == c.Samples {
		t.Fatalf("%d samples done before the interruption took effect", n)
	}

	var seen []int
	got, err := SimulateWith(context.Background(), c, nil, Options{Resume: saved, Done: done,
		SampleDone: func(i int, _ *Trajectories) error { seen = append(seen, i); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen)+countTrue(done) != c.Samples {
		t.Fatalf("resumed run completed samples %v after %v were done", seen, done)
	}
	for _, a := range [][2][]float64{{want.Vorticity, got.Vorticity}, {want.Energy, got.Energy},
		{want.Enstrophy, got.Enstrophy}, {want.MaxCFL, got.MaxCFL}, {want.Spectrum, got.Spectrum}, {want.T, got.T}} {
		for k := range a[0] {
			if math.Float64bits(a[0][k]) != math.Float64bits(a[1][k]) {
				t.Fatalf("resumed output differs at %d: %v, want %v", k, a[1][k], a[0][k])
			}
		}
	}
}

func countTrue(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}
