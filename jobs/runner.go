package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/riverqueue/river/riverdriver"
	"math"
	"runtime/debug"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"eddy/fileformat"
	"eddy/hdf5io"
	"eddy/progress"
	"eddy/storage"
)

// Causes of a run's context being cancelled by the runner itself.
var (
	errCancelRequested = errors.New("cancelled by request")
	errLeaseLost       = errors.New("run was re-queued to another worker")
)

// PermanentError marks a failure that retrying cannot fix (a malformed input file,
// an impossible combination found only at run time): the run fails at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

type runWorker struct {
	river.WorkerDefaults[RunArgs]
	svc *Service
}

// Timeout is the kind's own timeout.
func (w *runWorker) Timeout(job *river.Job[RunArgs]) time.Duration {
	if k, ok := Lookup(job.Args.JobKind); ok {
		return k.Timeout()
	}
	return time.Minute
}

func (w *runWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	return w.svc.execute(ctx, job)
}

// execute runs one River job: claim the run under the job's lease, heartbeat it,
// run the kind into a fresh result file, and finish the run and the River job in
// one transaction. A result whose lease was lost meanwhile is discarded.
func (s *Service) execute(ctx context.Context, job *river.Job[RunArgs]) error {
	a := job.Args
	log := s.log.With("run", a.RunID, "kind", a.JobKind, "lease", a.Lease, "attempt", job.Attempt)
	now, err := s.db.Now(ctx)
	if err != nil {
		return err
	}
	held, err := storage.ClaimRun(ctx, s.db.SQL, a.RunID, a.Lease, s.workerID, now)
	if err != nil {
		return err
	}
	if !held {
		log.Info("stale job: run no longer under this lease; skipping")
		return nil
	}
	// From here on, every exit must move the run out of "running".
	bg := context.WithoutCancel(ctx)
	finish := func(state storage.State, msg string) {
		if _, err := storage.Finish(bg, s.db.SQL, a.RunID, a.Lease, state, msg, nil, "", time.Now()); err != nil {
			log.Error("recording the end of a run failed", "state", state, "err", err)
		}
	}
	k, ok := Lookup(a.JobKind)
	if !ok {
		finish(storage.Failed, "unknown job kind "+a.JobKind)
		return river.JobCancel(fmt.Errorf("unknown kind %q", a.JobKind))
	}
	// fail ends an attempt that produced no result: a permanent error, or the
	// last attempt, fails the run; any other error puts it back in the queue for
	// River to retry.
	fail := func(err error) error {
		var perm *PermanentError
		if errors.As(err, &perm) || job.Attempt >= job.MaxAttempts {
			finish(storage.Failed, err.Error())
			observeRun(k.Name(), storage.Failed, 0)
			return river.JobCancel(err)
		}
		finish(storage.Queued, fmt.Sprintf("attempt %d failed, retrying: %v", job.Attempt, err))
		return err
	}
	run, err := storage.GetRun(ctx, s.db.SQL, a.RunID)
	if err != nil {
		return fail(fmt.Errorf("loading the run failed: %w", err))
	}
	_, params, err := k.Decode(run.Params)
	if err != nil {
		finish(storage.Failed, "stored params no longer valid: "+err.Error())
		return river.JobCancel(err)
	}
	// The process that accepted the run may allow more memory than this one.
	if need, _, over := s.overBudget(k, params, s.referencedUploads(ctx, params)); over {
		return fail(Permanent(errors.New(s.budgetMessage(need, "worker"))))
	}
	inputs := map[string]string{}
	for name, id := range run.Inputs {
		p, err := s.inputPath(ctx, id)
		if err != nil {
			finish(storage.Failed, fmt.Sprintf("input %s: %v", name, err))
			return river.JobCancel(err)
		}
		inputs[name] = p
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hbDone := make(chan struct{})
	go s.heartbeat(runCtx, cancel, a, hbDone)
	defer func() { cancel(nil); <-hbDone }()

	key := fmt.Sprintf("results/%s/lease%d-attempt%d.h5", a.RunID, a.Lease, job.Attempt)
	outPath, err := s.artifacts.LocalPath(key)
	if err != nil {
		return fail(err)
	}
	out, err := hdf5io.Create(outPath)
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	env := &Env{RunID: a.RunID, Inputs: inputs, Out: out, Metrics: map[string]any{},
		Limits:   fileformat.Limits{MaxInflated: s.maxInflated},
		Progress: s.progressWriter(bg, a),
		Resolve:  func(id string) (string, error) { return s.inputPath(ctx, id) }}
	err = writeRootAttrs(out, k.Name(), a.RunID, string(run.Params))
	if err == nil {
		err = runKind(runCtx, k, params, env)
	}
	if err == nil && runCtx.Err() == nil {
		err = writeMetrics(out, env.Metrics)
		if err == nil {
			err = out.Close()
		} else {
			out.Abort()
		}
		if err == nil {
			// A result that cannot be recorded is a failed attempt like any other:
			// the run must not stay "running" with nobody holding it.
			if err = s.succeed(bg, job, k, key, outPath, env.Metrics, start); err == nil {
				return nil
			}
		}
	} else {
		out.Abort()
	}
	observeRun(k.Name(), "", time.Since(start))

	cause := context.Cause(runCtx)
	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("run was taken over by another worker; discarding this attempt")
		return nil
	case errors.Is(cause, errCancelRequested) || errors.Is(cause, river.ErrJobCancelledRemotely):
		finish(storage.Cancelled, "cancelled by request")
		observeRun(k.Name(), storage.Cancelled, 0)
		return river.JobCancel(errCancelRequested)
	case s.stopping.Load() && runCtx.Err() != nil:
		finish(storage.Queued, "interrupted by a worker shutdown; re-queued")
		return river.JobSnooze(0)
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("timed out after %v", k.Timeout())
	}
	return fail(err)
}

// jsonMetrics returns the metrics as the job's JSON shows them: non-finite
// numbers, which JSON cannot carry, become null (the HDF5 file keeps them).
func jsonMetrics(m map[string]any) map[string]any {
	finite := func(x float64) any {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	}
	out := make(map[string]any, len(m))
	for name, v := range m {
		switch x := v.(type) {
		case float64:
			out[name] = finite(x)
		case []float64:
			vals := make([]any, len(x))
			for i, e := range x {
				vals[i] = finite(e)
			}
			out[name] = vals
		default:
			out[name] = v
		}
	}
	return out
}

// runKind runs the kind, turning a panic into an error.
func runKind(ctx context.Context, k Kind, params any, env *Env) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("internal error in %s: %v\n%s", k.Name(), p, debug.Stack()))
		}
	}()
	return k.run(ctx, params, env)
}

// succeed publishes the result and finishes the run and its River job in one
// transaction; if the lease was lost meanwhile the result is removed instead.
func (s *Service) succeed(ctx context.Context, job *river.Job[RunArgs], k Kind, key, path string, metrics map[string]any, start time.Time) error {
	a := job.Args
	size, sum, err := storage.FileDigest(path)
	if err != nil {
		s.artifacts.Remove(key)
		return err
	}
	infos, err := hdf5io.Inspect(path)
	if err != nil {
		s.artifacts.Remove(key)
		return err
	}
	var names []string
	for _, d := range infos {
		if len(d.Name) > 0 && d.Name[0] == '/' {
			names = append(names, d.Name[1:])
		} else {
			names = append(names, d.Name)
		}
	}
	res := &storage.Result{Bytes: size, SHA256: sum, Datasets: names, Metrics: jsonMetrics(metrics)}
	won := false
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		ok, err := storage.Finish(ctx, tx, a.RunID, a.Lease, storage.Succeeded, "", res, key, time.Now())
		if err != nil || !ok {
			return err
		}
		won = true
		_, err = river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx, job)
		return err
	})
	if err != nil {
		s.artifacts.Remove(key)
		return fmt.Errorf("jobs: finishing run %s: %w", a.RunID, err)
	}
	if !won {
		s.log.Warn("result discarded: the run's lease moved to another worker", "run", a.RunID)
		s.artifacts.Remove(key)
		return nil
	}
	observeRun(k.Name(), storage.Succeeded, time.Since(start))
	return nil
}

// heartbeat renews the run every heartbeatEvery and cancels the run's context when
// the lease is lost or a cancel was requested.
func (s *Service) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, a RunArgs, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := s.db.Now(ctx)
		held, cancelReq := true, false
		if err == nil {
			held, cancelReq, err = storage.Heartbeat(ctx, s.db.SQL, a.RunID, a.Lease, s.workerID, now)
		}
		switch {
		case err != nil:
			if ctx.Err() == nil {
				s.log.Warn("heartbeat failed", "run", a.RunID, "err", err)
			}
		case !held:
			cancel(errLeaseLost)
			return
		case cancelReq:
			cancel(errCancelRequested)
			return
		}
	}
}

// progressWriter returns a progress.Func that stores the latest update at most every
// progressEvery (and always the first one), so that a kind may report freely.
func (s *Service) progressWriter(ctx context.Context, a RunArgs) progress.Func {
	var (
		mu   sync.Mutex
		last time.Time
	)
	return func(u progress.Update) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if now.Sub(last) < progressEvery && u.Fraction < 1 {
			return
		}
		last = now
		p := storage.Progress{Fraction: u.Fraction, Message: u.Message, Metrics: u.Metrics}
		if err := storage.SetProgress(ctx, s.db.SQL, a.RunID, a.Lease, p, now); err != nil {
			s.log.Warn("progress not recorded", "run", a.RunID, "err", err)
		}
	}
}

func writeRootAttrs(w *hdf5io.Writer, kind, id, params string) error {
	for _, kv := range [][2]string{{"eddy_kind", kind}, {"eddy_job_id", id}, {"eddy_version", Version}, {"params_json", params}} {
		if err := w.SetAttrString("/", kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// writeMetrics writes the scalar results as attributes of the group /metrics.
func writeMetrics(w *hdf5io.Writer, m map[string]any) error {
	if err := w.CreateGroup("/metrics"); err != nil {
		return err
	}
	for name, v := range m {
		var err error
		switch x := v.(type) {
		case float64:
			err = w.SetAttrFloat64("/metrics", name, x)
		case int:
			err = w.SetAttrInt64("/metrics", name, int64(x))
		case int64:
			err = w.SetAttrInt64("/metrics", name, x)
		case bool:
			b := int64(0)
			if x {
				b = 1
			}
			err = w.SetAttrInt64("/metrics", name, b)
		case string:
			err = w.SetAttrString("/metrics", name, x)
		case []float64:
			err = w.SetAttrFloat64s("/metrics", name, x)
		default:
			err = fmt.Errorf("jobs: metric %s has unsupported type %T", name, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
