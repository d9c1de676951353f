package hyperspectral

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"eddy/progress"
)

// IterState is the state of the iterative methods after Iteration
// iterations: everything a resumed run needs to continue exactly as an
// uninterrupted one (the same data and Config give bit-identical results).
// Arrays holds the solver's arrays by name; callers store and restore it
// whole and need not know what is inside.
type IterState struct {
	Iteration int
	// History is the objective at iterations 0 … Iteration.
	History []float64
	Arrays  map[string][]float64
}

// Options are the optional hooks of UnmixWith.
type Options struct {
	// Resume, if not nil, continues the iterations from this state, saved
	// by an earlier run on the same data with the same Config.
	Resume *IterState
	// Due is asked after each iteration whether to save the state; Save
	// then receives it (a copy it may keep). An error from Save ends the
	// run with that error.
	Due  func() bool
	Save func(*IterState) error
}

// arrays returns the solver's arrays by name, with mPrev, the endmembers at
// the start of the stop rule's window (not copies).
func (s *mmSolver) arrays(mPrev []float64) map[string][]float64 {
	a := map[string][]float64{
		"m": s.m, "a": s.a, "h": s.h, "c": s.c, "r": s.r, "d": s.d, "pm": s.pm, "g": s.g, "m_prev": mPrev,
	}
	if s.sparse {
		a["apm"] = s.apm
	}
	if s.bright != nil {
		a["brightness"] = s.bright
	}
	return a
}

// state returns a copy of the solver's state, with mPrev, the endmembers at
// the start of the stop rule's window.
func (s *mmSolver) state(mPrev []float64) map[string][]float64 {
	a := s.arrays(mPrev)
	a["beta"], a["tau"] = []float64{s.beta}, []float64{s.tau}
	a["guidance"], a["misfit_ratio"] = []float64{float64(s.opt.guidance)}, []float64{s.ratio}
	// The mixing model; absent from states saved before it could be chosen.
	a["mixing"] = []float64{0}
	if s.bright != nil {
		a["mixing"][0] = 1
	}
	if !math.IsNaN(s.angle) {
		a["mixing_angle"], a["mixing_first"] = []float64{s.angle}, []float64{float64(s.first)}
	}
	out := make(map[string][]float64, len(a))
	for name, v := range a {
		out[name] = slices.Clone(v)
	}
	return out
}

// restore overwrites the solver's state and mPrev with a saved one.
func (s *mmSolver) restore(st map[string][]float64, mPrev []float64) error {
	for name, d := range s.arrays(mPrev) {
		v, ok := st[name]
		if !ok || len(v) != len(d) {
			return fmt.Errorf("hyperspectral: saved state: %s has %d values, want %d", name, len(v), len(d))
		}
		copy(d, v)
	}
	for name, p := range map[string]*float64{"beta": &s.beta, "tau": &s.tau} {
		v, ok := st[name]
		if !ok || len(v) != 1 {
			return fmt.Errorf("hyperspectral: saved state: %s missing", name)
		}
		*p = v[0]
	}
	// The automatic guidance's choice; absent from states saved before it
	// existed, whose runs kept the learned map.
	if v, ok := st["misfit_ratio"]; ok && len(v) == 1 {
		s.ratio = v[0]
	}
	if v, ok := st["mixing_angle"]; ok && len(v) == 1 {
		s.angle = v[0]
	}
	if v, ok := st["mixing_first"]; ok && len(v) == 1 {
		s.first = int(v[0])
	}
	if v, ok := st["guidance"]; ok && len(v) == 1 && guidanceMode(v[0]) == guidanceOnes && s.opt.guidance == guidanceLearned {
		s.opt.guidance = guidanceOnes
	}
	return nil
}

// UnmixWith is Unmix with the hooks of opts: it saves the state of the
// iterations when opts.Due says so and, given opts.Resume, continues from
// a saved state instead of iterating from the start (the initialisation is
// computed again: it is deterministic and costs about one iteration's
// passes over the data).
func UnmixWith(ctx context.Context, y *mat.Dense, cfg Config, fn progress.Func, opts Options) (*Result, error) {
	return unmix(ctx, y, cfg, fn, opts)
}
