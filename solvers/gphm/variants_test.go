package gphm

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/progress"
)

// The order in which Solve runs kernels and their trend/nugget variants,
// with each training path replaced by a scripted check residual (the paths
// themselves are tested elsewhere): a kernel whose first variant stalls is
// restarted with the other kernel before its own other variants, which run
// only when the other kernel stalls too; a kernel that does not stall runs
// its variants until one is at most the switch threshold.
func TestKernelAndVariantOrder(t *testing.T) {
	r := scriptedProblem(t)
	for _, tc := range []struct {
		name     string
		residual map[string]float64 // kernel/trend/nugget → check residual; missing: 1
		runs     []string
		kernel   string
		reason   string
		kept     string // trend/nugget of the returned run; "" unchecked
	}{
		{"first variant succeeds", map[string]float64{"stm/none/relative": 1e-8},
			[]string{"stm/none/relative"}, "stm", "at most", ""},
		{"not stalled, next variants", map[string]float64{"stm/none/relative": 3e-6, "stm/polynomial/relative": 2e-6, "stm/none/absolute": 5e-7},
			[]string{"stm/none/relative", "stm/polynomial/relative", "stm/none/absolute"}, "stm", "least check residual", ""},
		{"stalled, other kernel first", map[string]float64{"stm/none/relative": 9e-5, "gm/none/relative": 3e-7},
			[]string{"stm/none/relative", "gm/none/relative"}, "gm", "at most", ""},
		{"both stalled", map[string]float64{"stm/none/relative": 9e-5, "stm/none/absolute": 2e-5, "gm/none/relative": 8e-5, "gm/polynomial/relative": 7e-5, "gm/none/absolute": 6e-5},
			[]string{"stm/none/relative", "gm/none/relative", "gm/polynomial/relative", "gm/none/absolute", "gm/none/relative10", "stm/polynomial/relative", "stm/none/absolute", "stm/none/relative10"}, "stm", "least check residual", ""},
		{"larger relative nugget last", map[string]float64{"stm/none/relative": 3e-6, "stm/polynomial/relative": 2e-6, "stm/none/absolute": 4e-6, "stm/none/relative10": 1.5e-6},
			[]string{"stm/none/relative", "stm/polynomial/relative", "stm/none/absolute", "stm/none/relative10"}, "stm", "least check residual", "none/relative10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []string
			once := func(_ context.Context, _ *resolved, k Kernel, tr, nug string, _ progress.Func) (*Result, error) {
				key := fmt.Sprintf("%s/%s/%s", k, tr, nug)
				runs = append(runs, key)
				return scripted(tc.residual, k, tr, nug), nil
			}
			res, err := solveKernels(t.Context(), r, nil, once, parallel{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(runs, tc.runs) {
				t.Errorf("runs %v, want %v", runs, tc.runs)
			}
			if kept := res.Trend + "/" + res.Nugget; tc.kept != "" && kept != tc.kept {
				t.Errorf("kept %s, want %s", kept, tc.kept)
			}
			if res.Kernel != tc.kernel || !strings.Contains(res.NuggetReason, tc.reason) {
				t.Errorf("kernel %s (%s), want %s and a reason with %q", res.Kernel, res.NuggetReason, tc.kernel, tc.reason)
			}
			restarted := len(tc.runs) > 1 && strings.HasPrefix(tc.runs[1], "gm")
			if restarted != (res.Restarts == 1) {
				t.Errorf("restarts %d, want restarted %v", res.Restarts, restarted)
			}
			// The restart warning quotes the first variant's residual, and
			// says when the requested kernel's later variants won.
			warned := strings.Join(res.Warnings, "; ")
			if restarted && (!strings.Contains(warned, "stalled at check residual 9e-05; restarted with gm") ||
				strings.Contains(warned, "were kept") != (res.Kernel == "stm")) {
				t.Errorf("warnings %q", res.Warnings)
			}
		})
	}
}

// With the other kernel's first variant hedged (run beside the requested
// kernel's), Solve returns what the sequential order returns: the same run,
// reason and warnings, the hedged run taken when the requested kernel stalls
// and cancelled (and waited for) as soon as it does not.
func TestHedgedKernelOrder(t *testing.T) {
	r := scriptedProblem(t)
	for _, residual := range []map[string]float64{
		{"stm/none/relative": 1e-8},
		{"stm/none/relative": 3e-6, "stm/polynomial/relative": 2e-6, "stm/none/absolute": 5e-7},
		{"stm/none/relative": 9e-5, "gm/none/relative": 3e-7},
		{"stm/none/relative": 9e-5, "stm/none/absolute": 2e-5, "gm/none/relative": 8e-5, "gm/polynomial/relative": 7e-5, "gm/none/absolute": 6e-5},
	} {
		solve := func(hedged bool) (*Result, []string) {
			var mu sync.Mutex
			var runs []string
			requested := make(chan struct{}) // closed when the requested kernel's first run ends
			var closeOnce sync.Once
			var reports []string
			report := func(u progress.Update) {
				mu.Lock()
				reports = append(reports, u.Message)
				mu.Unlock()
			}
			once := func(ctx context.Context, _ *resolved, k Kernel, tr, nug string, fn progress.Func) (*Result, error) {
				key := fmt.Sprintf("%s/%s/%s", k, tr, nug)
				defer fn.Report(progress.Update{Message: key})
				if k == GM {
					// The hedged run may only end after the requested one, so
					// that a cancellation is seen when it is not needed.
					select {
					case <-requested:
					case <-ctx.Done():
						mu.Lock()
						runs = append(runs, key+" cancelled")
						mu.Unlock()
						return nil, ctx.Err()
					}
				}
				mu.Lock()
				runs = append(runs, key)
				mu.Unlock()
				if k == StM {
					closeOnce.Do(func() {
						if !hedged || residual["stm/none/relative"] > StallResidual1D {
							close(requested)
						}
					})
				}
				return scripted(residual, k, tr, nug), nil
			}
			res, err := solveKernels(t.Context(), r, report, once, parallel{hedge: hedged})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			// A hedged run cancelled unused reports nothing.
			if hedged && residual["stm/none/relative"] <= StallResidual1D {
				for _, m := range reports {
					if strings.HasPrefix(m, "gm") {
						t.Errorf("progress %v from the cancelled GM run", reports)
						break
					}
				}
			}
			return res, slices.Clone(runs)
		}
		seq, seqRuns := solve(false)
		hed, hedRuns := solve(true)
		if seq.Kernel != hed.Kernel || seq.Trend != hed.Trend || seq.Nugget != hed.Nugget || seq.NuggetReason != hed.NuggetReason ||
			seq.Restarts != hed.Restarts || !slices.Equal(seq.Warnings, hed.Warnings) {
			t.Errorf("hedged %+v, sequential %+v", hed, seq)
		}
		stalled := residual["stm/none/relative"] > StallResidual1D
		want := slices.Clone(seqRuns)
		if !stalled {
			// Cancelled as soon as StM's first variant did not stall.
			want = slices.Insert(want, 1, "gm/none/relative cancelled")
		}
		if !slices.Equal(hedRuns, want) {
			t.Errorf("hedged runs %v, want %v", hedRuns, want)
		}
	}
}

// A hedged run whose other kernel finishes first, at most at ResidualTol,
// stops the requested kernel's run only while that run is above the stall
// bar and more than OutrunFactor times the other's check residual;
// otherwise the order of TestKernelAndVariantOrder holds.
func TestHedgedOutrun(t *testing.T) {
	r := scriptedProblem(t)
	for _, tc := range []outrunCase{
		{"outrun", 1e-4, 3e-7, true, "gm", "stm kernel was at check residual 0.0001 (iteration 1) when gm reached 3e-07, more than 10 times less, and was stopped; restarted with gm"},
		{"requested below the bar", 2e-6, 3e-7, false, "stm", ""},
		{"within the factor", 2e-5, 5e-6, false, "gm", "stalled at check residual 2e-05; restarted with gm"},
		{"other above the bar", 1e-3, 3e-5, true, "gm", "stm kernel was at check residual 0.001 (iteration 1) when gm reached 3e-05, more than 10 times less, and was stopped"},
		{"other above the bar, within the factor", 1e-4, 3e-5, false, "gm", "stalled at check residual 0.0001; restarted with gm"},
		{"other failed", 1e-1, 2e-3, false, "gm", "stalled at check residual 0.1; restarted with gm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gmDone := make(chan struct{})
			var stopped atomic.Bool
			once := func(ctx context.Context, _ *resolved, k Kernel, tr, nug string, fn progress.Func) (*Result, error) {
				res := &Result{Kernel: k.String(), Trend: tr, Nugget: nug, CheckResidual: tc.gm}
				if k == GM {
					if tr == TrendNone && nug == NuggetRelative {
						defer close(gmDone)
					}
					return res, nil
				}
				res.CheckResidual = tc.stm
				// StM reports its residual every millisecond, and ends 200
				// reports after GM's first run has.
				after := 0
				for it := 1; after < 200; it++ {
					fn.Report(progress.Update{Message: fmt.Sprintf("iteration %d", it), Metrics: map[string]float64{"check_residual": tc.stm}})
					if ctx.Err() != nil {
						stopped.Store(true)
						return nil, ctx.Err()
					}
					select {
					case <-gmDone:
						after++
					default:
					}
					time.Sleep(time.Millisecond)
				}
				return res, nil
			}
			res, err := solveKernels(t.Context(), r, nil, once, parallel{hedge: true})
			if err != nil {
				t.Fatal(err)
			}
			warned := strings.Join(res.Warnings, "; ")
			if stopped.Load() != tc.stopped || res.Kernel != tc.kernel || !strings.Contains(anyIteration(warned), anyIteration(tc.warnings)) || (res.Restarts == 1) != (tc.kernel == "gm") {
				t.Errorf("stopped %v, kernel %s, restarts %d, warnings %q; want stopped %v, kernel %s, a warning with %q",
					stopped.Load(), res.Kernel, res.Restarts, res.Warnings, tc.stopped, tc.kernel, tc.warnings)
			}
		})
	}
}

// A hedged GM run going on stops a flat StM run as soon as its least check
// residual so far outruns StM's (a run returns its iterate of least check
// residual), not only once it has ended; it does not stop a StM run that is
// still falling (here by 0.8 per iteration, to below the stall bar), nor
// stop StM when its grid error shows another solution of the equation. GM's
// run here ends only after StM's has.
func TestHedgedOutrunByRunGoingOn(t *testing.T) {
	r := scriptedProblem(t)
	for _, tc := range []struct {
		name    string
		relGrid float64 // GM's grid error beside its check residual 3e-7
		falling bool    // StM's residual 1e-2·0.8^it instead of 1e-4
		stopped bool
		kernel  string
	}{
		{"outrun while going on", 1e-7, false, true, "gm"},
		{"another solution", 0.5, false, false, "gm"},
		{"requested still falling", 1e-7, true, false, "stm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stmDone := make(chan struct{})
			var stopped atomic.Bool
			once := func(ctx context.Context, _ *resolved, k Kernel, tr, nug string, fn progress.Func) (*Result, error) {
				res := &Result{Kernel: k.String(), Trend: tr, Nugget: nug, CheckResidual: 3e-7}
				if k == GM {
					fn.Report(progress.Update{Message: "iteration 1", Metrics: map[string]float64{"check_residual": 3e-7, "rel_l2_grid": tc.relGrid}})
					select {
					case <-stmDone:
					case <-ctx.Done():
						return nil, ctx.Err()
					}
					return res, nil
				}
				defer close(stmDone)
				rho := 1e-4
				if tc.falling {
					rho = 1e-2
				}
				for it := 1; it <= 500 && rho > 1e-8; it++ {
					if tc.falling {
						rho *= 0.8
					}
					fn.Report(progress.Update{Message: fmt.Sprintf("iteration %d", it), Metrics: map[string]float64{"check_residual": rho}})
					if ctx.Err() != nil {
						stopped.Store(true)
						return nil, ctx.Err()
					}
					time.Sleep(time.Millisecond)
				}
				res.CheckResidual = rho
				return res, nil
			}
			res, err := solveKernels(t.Context(), r, nil, once, parallel{hedge: true})
			if err != nil {
				t.Fatal(err)
			}
			warned := strings.Join(res.Warnings, "; ")
			outrun := strings.Contains(warned, "when gm reached 3e-07, more than 10 times less, and was stopped")
			if stopped.Load() != tc.stopped || outrun != tc.stopped || res.Kernel != tc.kernel || (res.Restarts == 1) != (tc.kernel == "gm") {
				t.Errorf("stopped %v, kernel %s, restarts %d, warnings %q; want stopped %v, kernel %s", stopped.Load(), res.Kernel, res.Restarts, res.Warnings, tc.stopped, tc.kernel)
			}
		})
	}
}

// timedSolve runs solveKernels on r with par, each training path replaced by
// a scripted run (residual) lasting dur(trend/nugget) unless cancelled, and
// returns the result and the runs' events in order: "start", "cancel" and
// "end" with kernel/trend/nugget.
func timedSolve(t *testing.T, r *resolved, par parallel, residual map[string]float64, dur func(string) time.Duration) (*Result, []string) {
	t.Helper()
	once, events := timedOnce(residual, dur)
	res, err := solveKernels(t.Context(), r, nil, once, par)
	if err != nil {
		t.Fatal(err)
	}
	return res, events()
}

// timedOnce is a run of one variant that takes dur(trend/nugget), or ends
// when cancelled, and then returns its scripted result; events returns what
// the runs recorded so far, in order: "start k/trend/nugget", "end …" and
// "cancel …".
func timedOnce(residual map[string]float64, dur func(string) time.Duration) (once onceFunc, events func() []string) {
	var mu sync.Mutex
	var log []string
	event := func(e string) {
		mu.Lock()
		log = append(log, e)
		mu.Unlock()
	}
	once = func(ctx context.Context, _ *resolved, k Kernel, tr, nug string, _ progress.Func) (*Result, error) {
		key := fmt.Sprintf("%s/%s/%s", k, tr, nug)
		event("start " + key)
		select {
		case <-time.After(dur(tr + "/" + nug)):
		case <-ctx.Done():
			event("cancel " + key)
			return nil, ctx.Err()
		}
		event("end " + key)
		return scripted(residual, k, tr, nug), nil
	}
	events = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(log)
	}
	return once, events
}

// With variants started ahead of their turn (parallel.ahead), Solve returns
// what the sequential order returns, and the variant started ahead runs
// beside the current one (when Go may use two cores) and is cancelled when
// its turn does not come. Unhedged, the requested kernel's first variant has
// one beside it too (stm/none/absolute, the next with its trend), taken when
// the first does not stall and cancelled when it does.
func TestVariantsAhead(t *testing.T) {
	r := scriptedProblem(t)
	for _, tc := range []struct {
		residual  map[string]float64
		overlap   string // a variant that starts before the one named after it ends
		before    string
		cancelled string
	}{
		{map[string]float64{"stm/none/relative": 3e-6, "stm/polynomial/relative": 5e-7}, "stm/none/absolute", "stm/polynomial/relative", "stm/none/absolute"},
		{map[string]float64{"stm/none/relative": 3e-6, "stm/polynomial/relative": 2e-6, "stm/none/absolute": 5e-7}, "stm/none/absolute", "stm/polynomial/relative", ""},
		// StM stalls: its other variants run beside GM's restart (one at
		// a time) and are cancelled when GM does not stall.
		{map[string]float64{"stm/none/relative": 9e-5, "gm/none/relative": 3e-7}, "stm/polynomial/relative", "gm/none/relative", "stm/polynomial/relative"},
		// Both stall: StM's other variants, already going, are taken.
		{map[string]float64{"stm/none/relative": 9e-5, "gm/none/relative": 2e-5, "gm/polynomial/relative": 3e-5, "gm/none/absolute": 4e-5, "stm/polynomial/relative": 5e-7}, "stm/polynomial/relative", "gm/none/relative", ""},
	} {
		// Runs of 50, 100 and 200 ms in list order, so that a run started
		// ahead is still going when its turn is decided.
		ms := map[string]time.Duration{"none/relative": 50, "polynomial/relative": 100, "none/absolute": 200}
		solve := func(par parallel) (*Result, []string) {
			return timedSolve(t, r, par, tc.residual, func(v string) time.Duration { return ms[v] * time.Millisecond })
		}
		seq, _ := solve(parallel{})
		got, events := solve(parallel{ahead: true})
		if seq.Kernel != got.Kernel || seq.Trend != got.Trend || seq.Nugget != got.Nugget || seq.NuggetReason != got.NuggetReason ||
			seq.Restarts != got.Restarts || !slices.Equal(seq.Warnings, got.Warnings) {
			t.Errorf("ahead %+v, sequential %+v", got, seq)
		}
		if running.Load() != 0 {
			t.Errorf("%d runs still counted after the solve", running.Load())
		}
		if runtime.GOMAXPROCS(0) < 2 {
			continue
		}
		start, end := slices.Index(events, "start "+tc.overlap), slices.Index(events, "end "+tc.before)
		if start < 0 || end < 0 || start > end {
			t.Errorf("events %v: %s should start before %s ends", events, tc.overlap, tc.before)
		}
		if tc.cancelled != "" && !slices.Contains(events, "cancel "+tc.cancelled) {
			t.Errorf("events %v: %s should be cancelled", events, tc.cancelled)
		}
		if start, end := slices.Index(events, "start stm/none/absolute"), slices.Index(events, "end stm/none/relative"); start < 0 || end < 0 || start > end {
			t.Errorf("events %v: stm/none/absolute should start beside the first variant", events)
		}
	}
}

// A variant started ahead beside the first that ends first is parked for its
// turn, and the core it held takes the next one (aheadIndex skips the
// parked): with a slow first variant, none/relative10 starts before it
// ends; the outcome is the sequential one.
func TestVariantsAheadParked(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("a variant starts ahead only on a second core")
	}
	r := scriptedProblem(t)
	residual := map[string]float64{"stm/none/relative": 3e-6, "stm/polynomial/relative": 2e-6, "stm/none/absolute": 4e-6, "stm/none/relative10": 5e-7}
	solve := func(par parallel) (*Result, []string) {
		return timedSolve(t, r, par, residual, func(v string) time.Duration {
			if v == "none/relative" {
				return 300 * time.Millisecond
			}
			return 30 * time.Millisecond
		})
	}
	seq, _ := solve(parallel{})
	got, events := solve(parallel{ahead: true})
	if got.Trend != seq.Trend || got.Nugget != seq.Nugget || got.NuggetReason != seq.NuggetReason {
		t.Errorf("ahead %s/%s (%s), sequential %s/%s (%s)", got.Trend, got.Nugget, got.NuggetReason, seq.Trend, seq.Nugget, seq.NuggetReason)
	}
	first := slices.Index(events, "end stm/none/relative")
	for _, key := range []string{"stm/none/absolute", "stm/none/relative10"} {
		if k := slices.Index(events, "start "+key); k < 0 || k > first {
			t.Errorf("events %v: %s should start before the first variant ends", events, key)
		}
	}
	for _, key := range []string{"stm/none/absolute", "stm/none/relative10", "stm/polynomial/relative"} {
		if n := strings.Count(strings.Join(events, ","), "start "+key); n != 1 {
			t.Errorf("events %v: %s started %d times", events, key, n)
		}
	}
	if running.Load() != 0 {
		t.Errorf("%d runs still counted", running.Load())
	}
}

// The variant started ahead is aheadIndex's: one with the running variant's
// trend first, so that the slow polynomial-trend variant of 1-D starts only
// at its turn; the outcome is the sequential one.
func TestVariantsAheadOrder(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("a variant starts ahead only on a second core")
	}
	r := scriptedProblem(t)
	residual := map[string]float64{"stm/none/relative": 4e-6, "stm/polynomial/relative": 3e-6, "stm/none/absolute": 2e-6, "stm/none/relative10": 5e-6}
	solve := func(ahead bool) (*Result, []string) {
		once, events := timedOnce(residual, func(v string) time.Duration {
			if v == "none/relative" {
				return 150 * time.Millisecond
			}
			return 20 * time.Millisecond
		})
		v := newVariants(r, StM, once)
		v.ahead = ahead
		if err := v.run(t.Context(), maxVariants, nil); err != nil {
			t.Fatal(err)
		}
		// The variants started, trend/nugget, in order.
		var started []string
		for _, e := range events() {
			if key, ok := strings.CutPrefix(e, "start "+StM.String()+"/"); ok {
				started = append(started, key)
			}
		}
		return v.result(), started
	}
	seq, _ := solve(false)
	got, started := solve(true)
	if got.Trend != seq.Trend || got.Nugget != seq.Nugget || got.NuggetReason != seq.NuggetReason {
		t.Errorf("ahead %s/%s (%s), sequential %s/%s (%s)", got.Trend, got.Nugget, got.NuggetReason, seq.Trend, seq.Nugget, seq.NuggetReason)
	}
	// The first two start together (their goroutines in either order); the
	// fourth only after the third's turn.
	if len(started) != 4 || started[2] != "polynomial/relative" || started[3] != "none/relative10" ||
		!slices.Contains(started[:2], "none/absolute") {
		t.Errorf("started %v, want none/relative and none/absolute, then polynomial/relative, then none/relative10", started)
	}
	if running.Load() != 0 {
		t.Errorf("%d runs still counted", running.Load())
	}
}

// The outrun watch counts a run as flat once its least check residual has
// not halved over flatIterations iterations, whatever the number of
// iterations between two progress updates (reportEvery).
func TestOutrunFlatWindow(t *testing.T) {
	for _, iters := range []int{100, 300, 900, 4000, 100000} {
		o := newOutrun(iters)
		every := reportEvery(iters)
		w := (flatIterations + every - 1) / every // updates in the window
		rho, lastFall := 1e-3, 0
		for k := 1; k <= 3*w+3; k++ {
			it := k * every // the iteration of the k-th update
			if it <= flatIterations {
				rho /= 3 // falling: not flat
				lastFall = it
			}
			o.watch(progress.Update{Metrics: map[string]float64{"check_residual": rho}}, nil, nil, StallResidual1D)
			if want := k > w && it-w*every >= lastFall; o.flat() != want {
				t.Errorf("%d iterations (an update every %d): flat %v at iteration %d, want %v", iters, every, o.flat(), it, want)
			}
		}
	}
}

// In 1-D on two cores, when the requested kernel (here GM) stalls, its
// other variants run beside the restart with the other kernel, and one
// that ends ten times under the restart's check residual stops it.
func TestRestartOutrun(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("the requested kernel's other variants run beside the restart only on a second core")
	}
	r := scriptedProblem(t)
	r.kernel = GM
	for _, tc := range []outrunCase{ // gm: GM's second variant's check residual
		{"outrun", 1e-3, 3e-6, true, "gm", "restarted with stm, which was at check residual 0.001 (iteration 1) when a run of gm's other variants reached 3e-06, more than 10 times less, and was stopped; gm's other variants were kept, at 3e-06"},
		{"outrun by a run above the first's", 1e-3, 3e-5, true, "gm", "when a run of gm's other variants reached 3e-05, more than 10 times less, and was stopped; gm's other variants were kept, at 2e-05"},
		{"within the factor", 2e-5, 3e-6, false, "gm", "stalled at check residual 2e-05; restarted with stm, which reached check residual 2e-05"},
		{"restart succeeds", 5e-7, 3e-6, false, "stm", "restarted with stm, which reached check residual 5e-07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stopped atomic.Bool
			var mu sync.Mutex
			var cancelled []string
			once := func(ctx context.Context, _ *resolved, k Kernel, tr, nug string, fn progress.Func) (*Result, error) {
				res := &Result{Kernel: k.String(), Trend: tr, Nugget: nug, CheckResidual: 2e-5}
				if k == GM {
					if tr == TrendPolynomial {
						res.CheckResidual = tc.gm
					}
					if tr+"/"+nug == "none/relative" {
						return res, nil
					}
					select {
					case <-time.After(20 * time.Millisecond):
						return res, nil
					case <-ctx.Done():
						mu.Lock()
						cancelled = append(cancelled, tr+"/"+nug)
						mu.Unlock()
						return nil, ctx.Err()
					}
				}
				// StM reports its residual every millisecond for 300 ms; a
				// run that does not stall is done at once.
				res.CheckResidual = tc.stm
				reports := 300
				if tc.stm <= StallResidual1D {
					reports = 1
				}
				if !reportFor(ctx, fn, tc.stm, reports) {
					stopped.Store(true)
					return nil, ctx.Err()
				}
				return res, nil
			}
			res, err := solveKernels(t.Context(), r, nil, once, parallel{ahead: true})
			if err != nil {
				t.Fatal(err)
			}
			warned := strings.Join(res.Warnings, "; ")
			if stopped.Load() != tc.stopped || res.Kernel != tc.kernel || !strings.Contains(anyIteration(warned), anyIteration(tc.warnings)) || res.Restarts != 1 {
				t.Errorf("stopped %v, kernel %s, restarts %d, warnings %q; want stopped %v, kernel %s, a warning with %q",
					stopped.Load(), res.Kernel, res.Restarts, res.Warnings, tc.stopped, tc.kernel, tc.warnings)
			}
			if tc.kernel == "stm" && len(cancelled) == 0 {
				t.Errorf("gm's other variants went on after the restart succeeded")
			}
			if running.Load() != 0 {
				t.Errorf("%d runs still counted", running.Load())
			}
		})
	}
}

// A variant started ahead that finishes first, at most at ResidualTol,
// stops the current variant while that one's least check residual so far
// is above the switch threshold and more than OutrunFactor times the
// finished one's; the stopped variant counts as tried.
func TestVariantsOutrun(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("a variant starts ahead only on a second core")
	}
	r := scriptedProblem(t)
	for _, tc := range []struct {
		name        string
		first, next float64 // check residuals of the first variant (reported while it runs) and of the second
		stopped     bool
		best        string
	}{
		{"outrun", 1e-3, 2e-5, true, "polynomial/relative"},
		{"within the factor", 1e-3, 2e-4, false, "polynomial/relative"},
		{"next failed", 1e-1, 2e-3, false, "polynomial/relative"},
		{"first below the switch threshold", 5e-7, 1e-8, false, "none/relative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stopped atomic.Bool
			once := func(ctx context.Context, _ *resolved, k Kernel, tr, nug string, fn progress.Func) (*Result, error) {
				res := &Result{Kernel: k.String(), Trend: tr, Nugget: nug}
				switch tr + "/" + nug {
				case "none/relative":
					// Reports its residual every millisecond for 300 ms.
					res.CheckResidual = tc.first
					if !reportFor(ctx, fn, tc.first, 300) {
						stopped.Store(true)
						return nil, ctx.Err()
					}
				case "polynomial/relative":
					time.Sleep(20 * time.Millisecond)
					res.CheckResidual = tc.next
				default:
					res.CheckResidual = 2 * tc.next
				}
				return res, nil
			}
			v := newVariants(r, StM, once)
			v.ahead = true
			if err := v.run(t.Context(), maxVariants, nil); err != nil {
				t.Fatal(err)
			}
			got := v.result()
			if stopped.Load() != tc.stopped || got.Trend+"/"+got.Nugget != tc.best || strings.Contains(v.tried[0], "stopped") != tc.stopped {
				t.Errorf("stopped %v, best %s/%s, tried %q; want stopped %v, best %s", stopped.Load(), got.Trend, got.Nugget, v.tried, tc.stopped, tc.best)
			}
			if running.Load() != 0 {
				t.Errorf("%d runs still counted", running.Load())
			}
		})
	}
}

// A panic in a run on another goroutine (a variant started ahead, or the
// hedged kernel's) is raised again in the solve's own goroutine, where the
// job runner turns it into a failed job, instead of ending the process.
func TestBackgroundPanicRaised(t *testing.T) {
	r := scriptedProblem(t)
	for _, tc := range []struct {
		name string
		par  parallel
		bad  string // the run that panics
	}{
		{"variant ahead", parallel{ahead: true}, "stm/none/absolute"},
		{"hedged kernel", parallel{hedge: true}, "gm/none/relative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			residual := map[string]float64{"stm/none/relative": 3e-6, "stm/polynomial/relative": 2e-6}
			once := func(ctx context.Context, _ *resolved, k Kernel, tr, nug string, _ progress.Func) (*Result, error) {
				key := fmt.Sprintf("%s/%s/%s", k, tr, nug)
				if key == tc.bad {
					panic("scripted failure in " + key)
				}
				time.Sleep(50 * time.Millisecond)
				return scripted(residual, k, tr, nug), nil
			}
			var got any
			func() {
				defer func() { got = recover() }()
				solveKernels(t.Context(), r, nil, once, tc.par)
			}()
			msg, _ := got.(string)
			if !strings.Contains(msg, "scripted failure in "+tc.bad) || !strings.Contains(msg, "in a background run") {
				t.Errorf("recovered %v, want the scripted panic of %s", got, tc.bad)
			}
			if running.Load() != 0 {
				t.Errorf("%d runs still counted", running.Load())
			}
		})
	}
}

// outrunCase is a case of the outrun tests: StM's check residual while it
// runs (and at its end), GM's, whether StM is stopped, the kernel of the
// result and a part of its warnings.
type outrunCase struct {
	name     string
	stm, gm  float64
	stopped  bool
	kernel   string
	warnings string
}

// anyIteration replaces the iteration a warning names, "(iteration 7)", by
// "(iteration n)": the scripted runs report the same check residual every
// millisecond, and which report is the first to reach the watcher depends
// on scheduling: under the race detector the restart was once seen first at
// its second.
func anyIteration(s string) string {
	return iterationRE.ReplaceAllString(s, "(iteration n)")
}

var iterationRE = regexp.MustCompile(`\(iteration \d+\)`)

// reportFor reports check residual rho to fn as iterations 1, 2, …, n, one
// per millisecond, and reports false if ctx ended first.
func reportFor(ctx context.Context, fn progress.Func, rho float64, n int) bool {
	for it := 1; it <= n; it++ {
		fn.Report(progress.Update{Message: fmt.Sprintf("iteration %d", it), Metrics: map[string]float64{"check_residual": rho}})
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Millisecond):
		}
	}
	return true
}

// scriptedProblem is the problem of the scripted-run tests, StM requested
// (its training paths are replaced, so its data do not matter).
func scriptedProblem(t *testing.T) *resolved {
	t.Helper()
	cfg := Config{PDE: "poisson1d", Exact: "sin(3*x)", XMax: 1, N: 20, Kernel: "stm", Components: 30, FreqScale: 2, LambdaB: 200}
	r, err := cfg.resolve()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// scripted returns the result of a scripted run: the check residual given
// for kernel/trend/nugget, 1 when none is.
func scripted(residual map[string]float64, k Kernel, tr, nug string) *Result {
	rho, ok := residual[fmt.Sprintf("%s/%s/%s", k, tr, nug)]
	if !ok {
		rho = 1
	}
	return &Result{Kernel: k.String(), Trend: tr, Nugget: nug, CheckResidual: rho}
}

// Real runs, hedged and sequential, give the same solution bit for bit: the
// GM runs beside StM share the resolved problem with it (run under -race by
// make test), unless GM outran StM. One problem on which StM succeeds (GM
// cancelled) and one on which 4 iterations leave both kernels stalled.
func TestHedgedRealRuns(t *testing.T) {
	for _, c := range []Config{
		{PDE: "poisson1d", Exact: "sin(6*x)+x^2", XMax: 1, N: 40, Kernel: "stm", Components: 8, FreqScale: 4, LambdaB: 200, Iterations: 30},
		{PDE: "allen_cahn1d", Source: "-900*sin(30*x)+sin(30*x)^3-sin(30*x)", Boundary: "sin(30*x)", XMax: 1, N: 60, Kernel: "stm", Components: 8, FreqScale: 4, LambdaB: 200, Iterations: 4},
	} {
		r, err := c.resolve()
		if err != nil {
			t.Fatal(err)
		}
		var got [2]*Result
		for i, hedged := range []bool{false, true} {
			if got[i], err = solveKernels(t.Context(), r, nil, solveOnce, parallel{hedge: hedged, ahead: hedged}); err != nil {
				t.Fatal(err)
			}
		}
		if strings.Contains(strings.Join(got[1].Warnings, "; "), "was stopped; restarted with gm") {
			// Outrun (TestHedgedOutrun): GM finished first, well below StM;
			// a matter of timing, so its answer need not be the sequential one.
			if got[1].Kernel != "gm" || got[1].Restarts != 1 || !(got[1].CheckResidual <= StallResidual1D) {
				t.Errorf("%s: outrun by %s (%d restarts) at check residual %.2g", c.PDE, got[1].Kernel, got[1].Restarts, got[1].CheckResidual)
			}
		} else if got[0].Kernel != got[1].Kernel || got[0].Restarts != got[1].Restarts || !slices.Equal(got[0].U, got[1].U) {
			t.Errorf("%s: sequential %s (%d restarts), hedged %s (%d restarts), same U %v",
				c.PDE, got[0].Kernel, got[0].Restarts, got[1].Kernel, got[1].Restarts, slices.Equal(got[0].U, got[1].U))
		}
		t.Logf("%s: kernel %s, restarts %d, check residual %.2g", c.PDE, got[1].Kernel, got[1].Restarts, got[1].CheckResidual)
	}
}

// TestCGIterationsAll checks that a solve reports the CG iterations of every
// run it made beside those of the returned one: equal when one run is made
// (trend and nugget given, no stall), larger when a short budget leaves the
// check residual above the variants' bar, so that the other variants run too.
func TestCGIterationsAll(t *testing.T) {
	c := Config{PDE: "poisson2d", Exact: "x*y + sin(5*x)*sin(4*y)", XMax: 1, YMax: 1, N: 20, Kernel: "gm",
		Components: 8, FreqScale: 4, LambdaB: 200, Trend: TrendPolynomial, Nugget: NuggetRelative, Iterations: 40}
	one, err := Solve(t.Context(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if one.Restarts != 0 || one.CGIterations == 0 || one.CGIterationsAll != one.CGIterations {
		t.Errorf("one run: %d restarts, %d CG iterations, %d in all", one.Restarts, one.CGIterations, one.CGIterationsAll)
	}
	c.Trend, c.Nugget, c.Iterations = TrendAuto, NuggetAuto, 3
	more, err := Solve(t.Context(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(more.CheckResidual > SwitchResidual2D) || more.CGIterationsAll <= more.CGIterations {
		t.Errorf("short budget: check residual %.2g, %d CG iterations, %d in all (%s)", more.CheckResidual, more.CGIterations, more.CGIterationsAll, more.NuggetReason)
	}
	t.Logf("one run %d; short budget %d of %d (%s)", one.CGIterations, more.CGIterations, more.CGIterationsAll, more.NuggetReason)
}
