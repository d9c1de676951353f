package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

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

// Permanent reports true: see IsPermanent.
func (e *PermanentError) Permanent() bool { return true }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err will repeat on another attempt: some error
// in its chain has a method Permanent() bool that returns true. Such a failure
// ends the run on its first attempt. Kinds mark one with Permanent(err); the
// numerical packages report their data errors (values that are not finite,
// inputs of the wrong shape) as field.Errors, which has the method, since
// they do not import jobs.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

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
	// The job's id in logs is the run's, as the API shows it; River's own logs
	// name River's job id.
	log := s.log.With("job_id", a.RunID, "kind", a.JobKind, "lease", a.Lease, "attempt", job.Attempt)
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
		end := func(tx *sql.Tx) (bool, error) {
			return storage.Finish(bg, tx, a.RunID, a.Lease, state, msg, nil, "", time.Now())
		}
		if _, err := s.endRun(bg, a.RunID, end); err != nil {
			log.Error("recording the end of a run failed", "state", state, "err", err)
		}
	}
	k, ok := Lookup(a.JobKind)
	if !ok {
		log.Error("job failed: unknown kind")
		finish(storage.Failed, "unknown job kind "+a.JobKind)
		return river.JobCancel(fmt.Errorf("unknown kind %q", a.JobKind))
	}
	// fail ends an attempt that produced no result: a permanent error, or the
	// last attempt, fails the run; any other error puts it back in the queue for
	// River to retry.
	// interrupted hands the run back to the queue when this worker stops. It
	// is not an attempt: River's snooze does not count one, and neither does
	// the run, so that attempt never exceeds max_attempts.
	interrupted := func() error {
		log.Info("job interrupted by a worker shutdown; re-queued")
		interrupt := func(tx *sql.Tx) (bool, error) {
			return storage.Interrupt(bg, tx, a.RunID, a.Lease, time.Now(), "interrupted by a worker shutdown; re-queued")
		}
		if _, err := s.endRun(bg, a.RunID, interrupt); err != nil {
			log.Error("re-queueing an interrupted run failed", "err", err)
		}
		if s.handedBack != nil {
			s.handedBack()
		}
		return river.JobSnooze(0)
	}
	fail := func(err error) error {
		if s.stopping.Load() && ctx.Err() != nil {
			// Whatever failed, it failed because this worker is stopping.
			return interrupted()
		}
		if perm := IsPermanent(err); perm || job.Attempt >= job.MaxAttempts {
			log.Error("job failed", append([]any{"permanent", perm, "max_attempts", job.MaxAttempts, "err", err}, logDetail(err)...)...)
			finish(storage.Failed, s.publicMessage(err))
			observeRun(k.Name(), outcomeFailed, 0)
			return river.JobCancel(err)
		}
		log.Warn("attempt failed; retrying", "max_attempts", job.MaxAttempts, "err", err)
		finish(storage.Queued, fmt.Sprintf("attempt %d failed, retrying: %s", job.Attempt, s.publicMessage(err)))
		observeRun(k.Name(), outcomeRetried, 0)
		if s.handedBack != nil {
			s.handedBack()
		}
		return err
	}
	run, err := storage.GetRun(ctx, s.db.SQL, a.RunID)
	if err != nil {
		return fail(fmt.Errorf("loading the run failed: %w", err))
	}
	_, params, err := k.Decode(run.Params)
	if err != nil {
		return fail(Permanent(fmt.Errorf("stored params no longer valid: %w", err)))
	}
	// The process that accepted the run may allow more memory than this one.
	if need, _, over := s.overBudget(k, params, s.referencedUploads(ctx, params)); over {
		return fail(Permanent(errors.New(s.budgetMessage(need, "worker"))))
	}
	// Inputs in a remote store are fetched into the local cache and held
	// there until the attempt ends.
	locals := &localFiles{}
	defer locals.release()
	inputs := map[string]string{}
	for name, id := range run.Inputs {
		p, err := s.inputPath(ctx, id, locals)
		if err != nil {
			return fail(Permanent(fmt.Errorf("input %s: %w", name, err)))
		}
		inputs[name] = p
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hbDone := make(chan struct{})
	go s.heartbeat(runCtx, cancel, a, hbDone)
	defer func() { cancel(nil); <-hbDone }()

	key := fmt.Sprintf("results/%s/lease%d-attempt%d.h5", a.RunID, a.Lease, job.Attempt)
	// HDF5 writes a real file: the result is staged locally and published
	// under key only once complete (see succeed), so no partial result is
	// ever visible in the store.
	staged, err := storage.Stage(s.artifacts, key)
	if err != nil {
		return fail(err)
	}
	defer staged.Abort()
	out, err := hdf5io.Create(staged.Path)
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	prog := s.newProgressWriter(bg, a)
	env := &Env{RunID: a.RunID, Inputs: inputs, Out: out, Metrics: map[string]any{},
		Limits:   fileformat.Limits{MaxInflated: s.maxInflated},
		Progress: prog.report, log: prog.log, kind: k.Name(),
		ckpt:    &checkpointer{ctx: bg, store: s.artifacts, key: checkpointKey(a.RunID), every: s.checkpointEvery, last: start},
		Resolve: func(id string) (string, error) { return s.inputPath(ctx, id, locals) }}
	err = writeRootAttrs(out, k.Name(), a.RunID, string(run.Params))
	if err == nil {
		err = runKind(runCtx, k, params, env)
	}
	if err == nil && runCtx.Err() == nil {
		warnings := env.Warnings()
		err = s.writeLineage(ctx, out, params, run.Inputs, env)
		if err == nil {
			err = writeMetrics(out, env.Metrics)
		}
		if err == nil {
			err = writeWarnings(out, warnings)
		}
		if err == nil {
			err = out.Close()
		} else {
			out.Abort()
		}
		if err == nil {
			// A result that cannot be recorded is a failed attempt like any other:
			// the run must not stay "running" with nobody holding it.
			res := outcome{key: key, staged: staged, metrics: env.Metrics, warnings: warnings, progress: prog.final()}
			res.point = prog.finalPoint(res.progress)
			if err = s.succeed(bg, job, k, res, start); err == nil {
				return nil
			}
		}
	} else {
		out.Abort()
	}
	// Before the run is marked as ended, so that nothing of a failed
	// attempt is left once its end is visible.
	staged.Abort()

	cause := context.Cause(runCtx)
	switch {
	case errors.Is(cause, errLeaseLost):
		log.Warn("run was taken over by another worker; discarding this attempt")
		return nil
	case errors.Is(cause, errCancelRequested) || errors.Is(cause, river.ErrJobCancelledRemotely):
		log.Info("job cancelled by request")
		finish(storage.Cancelled, "cancelled by request")
		observeRun(k.Name(), outcomeCancelled, 0)
		return river.JobCancel(errCancelRequested)
	case s.stopping.Load() && runCtx.Err() != nil:
		return interrupted()
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

// publicMessage is the text of a run's error as its owner reads it: the
// server's folders are left out of the paths it names (the log keeps them).
func (s *Service) publicMessage(err error) string {
	return storage.Redact(s.artifacts, err.Error())
}

// runKind runs the kind, turning a panic into an error.
func runKind(ctx context.Context, k Kind, params any, env *Env) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicError(k.Name(), p, debug.Stack())
		}
	}()
	return k.run(ctx, params, env)
}

// internalError is a kind's panic as its run's error. Error is the panic's
// first line, which the run's owner reads; detail keeps the rest of it and
// the stack, which only the server's log shows (a stack names the server's
// source files and says nothing the owner can act on).
type internalError struct{ msg, detail string }

func (e *internalError) Error() string { return e.msg }

// panicError is the permanent error of kind's panic p, raised with stack.
func panicError(kind string, p any, stack []byte) error {
	first, rest, _ := strings.Cut(fmt.Sprint(p), "\n")
	return Permanent(&internalError{
		msg:    fmt.Sprintf("internal error in %s: %s", kind, first),
		detail: strings.TrimSpace(rest + "\n" + string(stack)),
	})
}

// logDetail returns the log attributes of an internal error in err's chain:
// its stack; none for other errors.
func logDetail(err error) []any {
	var ie *internalError
	if errors.As(err, &ie) {
		return []any{"stack", ie.detail}
	}
	return nil
}

// outcome is what a successful attempt produced.
type outcome struct {
	key      string          // the result's artifact key
	staged   *storage.Staged // the complete result file, not yet published
	metrics  map[string]any
	warnings []string
	// progress is the run's final progress: fraction 1 and the kind's last
	// message, which throttling may have kept from the runs row.
	progress storage.Progress
	// point is progress as the last entry of the progress history.
	point storage.ProgressPoint
}

// succeed publishes the result and finishes the run and its River job in one
// transaction; if the lease was lost meanwhile the result is removed instead.
func (s *Service) succeed(ctx context.Context, job *river.Job[RunArgs], k Kind, o outcome, start time.Time) error {
	a := job.Args
	key := o.key
	size, sum, err := storage.FileDigest(o.staged.Path)
	if err != nil {
		return err
	}
	infos, err := hdf5io.Inspect(o.staged.Path)
	if err != nil {
		return err
	}
	if err := o.staged.Commit(ctx, key); err != nil {
		return fmt.Errorf("storing the result: %w", err)
	}
	var names []string
	for _, d := range infos {
		if len(d.Name) > 0 && d.Name[0] == '/' {
			names = append(names, d.Name[1:])
		} else {
			names = append(names, d.Name)
		}
	}
	res := &storage.Result{Bytes: size, SHA256: sum, Datasets: names, Metrics: jsonMetrics(o.metrics), Warnings: o.warnings}
	won := false
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		if err := storage.SetProgress(ctx, tx, a.RunID, a.Lease, o.progress, now); err != nil {
			return err
		}
		if err := storage.AppendProgress(ctx, tx, a.RunID, a.Lease, o.point); err != nil {
			return err
		}
		ok, err := storage.Finish(ctx, tx, a.RunID, a.Lease, storage.Succeeded, "", res, key, now)
		if err != nil || !ok {
			return err
		}
		won = true
		if err := s.settleTx(ctx, tx, a.RunID); err != nil {
			return err
		}
		_, err = river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx, job)
		return err
	})
	if err != nil {
		s.artifacts.Remove(key)
		return fmt.Errorf("jobs: finishing run %s: %w", a.RunID, err)
	}
	if !won {
		s.log.Warn("result discarded: the run's lease moved to another worker", "job_id", a.RunID)
		s.artifacts.Remove(key)
		return nil
	}
	s.dropCheckpoint(a.RunID)
	observeRun(k.Name(), outcomeSucceeded, time.Since(start))
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
				s.log.Warn("heartbeat failed", "job_id", a.RunID, "err", err)
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

// progressWriter stores a run's latest progress update at most every
// progressEvery (and always the first one, and any of fraction 1), so that a
// kind may report freely; it remembers the latest update for the final
// progress of a run that succeeds.
//
// It also keeps the attempt's progress history (storage.ProgressPoint, served
// by GET /v1/jobs/{id}/progress): every update it stores in the runs row, the
// stages and warnings of the attempt, and the final update of a run that
// succeeds. A new attempt starts a new history. The history is bounded: when
// it holds maxHistoryPoints progress updates, every other one is deleted and
// from then on only every other update (every 4th after the next halving, …)
// is kept, so that a long run keeps its whole curve at a coarser spacing;
// updates of fraction 1 are always kept. At most maxHistoryLog stages and
// warnings are kept; a last stage says when more were left out (the result
// lists every warning).
type progressWriter struct {
	s      *Service
	ctx    context.Context
	a      RunArgs
	mu     sync.Mutex
	stored time.Time
	latest progress.Update

	seq     int64 // next entry's sequence number
	offered int64 // progress updates stored in the runs row so far
	stride  int64 // only every stride-th of them enters the history
	points  int   // progress updates in the history
	logged  int   // stages and warnings in the history
}

// Bounds of a run's progress history (see progressWriter).
const (
	maxHistoryPoints = 10000
	maxHistoryLog    = 1000
)

// newProgressWriter returns the writer of a run's attempt, whose history
// starts empty with the stage "started".
func (s *Service) newProgressWriter(ctx context.Context, a RunArgs) *progressWriter {
	w := &progressWriter{s: s, ctx: ctx, a: a, stride: 1}
	if err := storage.ClearProgress(ctx, s.db.SQL, a.RunID); err != nil {
		s.log.Warn("progress history of an earlier attempt not cleared", "job_id", a.RunID, "err", err)
	}
	w.log(storage.PointStage, "started on worker "+s.workerID)
	return w
}

// appendLocked adds an entry to the history; w.mu is held.
func (w *progressWriter) appendLocked(kind string, fraction float64, msg string, metrics map[string]float64, at time.Time) {
	p := storage.ProgressPoint{Seq: w.seq, At: at, Kind: kind, Fraction: fraction, Message: msg, Metrics: finiteMetrics(metrics)}
	w.seq++
	if err := storage.AppendProgress(w.ctx, w.s.db.SQL, w.a.RunID, w.a.Lease, p); err != nil {
		w.s.log.Warn("progress history not recorded", "job_id", w.a.RunID, "err", err)
	}
}

// history adds a stored progress update to the history, thinning it when
// full; w.mu is held.
func (w *progressWriter) history(u progress.Update, at time.Time) {
	n := w.offered
	w.offered++
	if n%w.stride != 0 && u.Fraction < 1 {
		return
	}
	if w.points >= maxHistoryPoints {
		deleted, err := storage.ThinProgress(w.ctx, w.s.db.SQL, w.a.RunID)
		if err != nil {
			w.s.log.Warn("progress history not thinned", "job_id", w.a.RunID, "err", err)
			return
		}
		w.points -= deleted
		w.stride *= 2
		if n%w.stride != 0 && u.Fraction < 1 {
			return
		}
	}
	w.points++
	w.appendLocked(storage.PointProgress, u.Fraction, u.Message, u.Metrics, at)
}

// log adds a stage or a warning to the history, with the latest fraction.
func (w *progressWriter) log(kind, msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.logged > maxHistoryLog:
		return
	case w.logged == maxHistoryLog:
		kind, msg = storage.PointStage, fmt.Sprintf("more than %d stages and warnings: the rest are not recorded here", maxHistoryLog)
	}
	w.logged++
	w.appendLocked(kind, max(w.latest.Fraction, 0), msg, nil, time.Now())
}

// finalPoint returns the history's last entry for a run that succeeded: the
// final progress (see final).
func (w *progressWriter) finalPoint(p storage.Progress) storage.ProgressPoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	pt := storage.ProgressPoint{Seq: w.seq, At: time.Now(), Kind: storage.PointProgress,
		Fraction: p.Fraction, Message: p.Message, Metrics: p.Metrics}
	w.seq++
	return pt
}

// finiteMetrics returns the finite metrics of m, nil if there are none.
func finiteMetrics(m map[string]float64) map[string]float64 {
	var out map[string]float64
	for name, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			if out == nil {
				out = map[string]float64{}
			}
			out[name] = v
		}
	}
	return out
}

// report is the run's progress.Func.
func (w *progressWriter) report(u progress.Update) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.latest = u
	now := time.Now()
	if now.Sub(w.stored) < progressEvery && u.Fraction < 1 {
		return
	}
	w.stored = now
	p := storage.Progress{Fraction: u.Fraction, Message: u.Message, Metrics: u.Metrics}
	if err := storage.SetProgress(w.ctx, w.s.db.SQL, w.a.RunID, w.a.Lease, p, now); err != nil {
		w.s.log.Warn("progress not recorded", "job_id", w.a.RunID, "err", err)
		return
	}
	w.history(u, now)
}

// final returns the progress of a run that succeeded: fraction 1, with the
// message and the finite metrics of the latest update ("done" if there was
// none).
func (w *progressWriter) final() storage.Progress {
	w.mu.Lock()
	defer w.mu.Unlock()
	msg := w.latest.Message
	if msg == "" {
		msg = "done"
	}
	return storage.Progress{Fraction: 1, Message: msg, Metrics: finiteMetrics(w.latest.Metrics)}
}

func writeRootAttrs(w *hdf5io.Writer, kind, id, params string) error {
	if err := writeIdentityAttrs(w, kind, id); err != nil {
		return err
	}
	return w.SetAttrString("/", "params_json", params)
}

// writeIdentityAttrs writes the root attributes that name the file's job:
// eddy_kind, eddy_job_id and eddy_version.
func writeIdentityAttrs(w *hdf5io.Writer, kind, id string) error {
	for _, kv := range [][2]string{{"eddy_kind", kind}, {"eddy_job_id", id}, {"eddy_version", Version}} {
		if err := w.SetAttrString("/", kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// writeWarnings writes the warnings as the root attribute warnings, a JSON
// array of strings ("[]" when there are none).
func writeWarnings(w *hdf5io.Writer, warnings []string) error {
	text, err := json.Marshal(append([]string{}, warnings...))
	if err != nil {
		return err
	}
	return w.SetAttrString("/", "warnings", string(text))
}

// writeMetrics writes the scalar results as attributes of the group /metrics:
// float64 and []float64 as float64, int and int64 as int64, bool as uint8 0 or
// 1, string as string.
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
			var b uint8
			if x {
				b = 1
			}
			err = w.SetAttrUint8("/metrics", name, b)
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
