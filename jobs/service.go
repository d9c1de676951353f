package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"eddy/storage"
)

// Version is written into every result file (root attribute eddy_version).
var Version = "0.1.0"

const (
	// maxKindTimeout bounds every kind's Timeout. River's own time-based rescue is
	// set beyond it, so River never re-runs a job that is merely slow; runs whose
	// worker died are found much sooner through heartbeats (see reap).
	maxKindTimeout = 12 * time.Hour
	// heartbeatEvery is how often a worker renews the runs it holds.
	heartbeatEvery = 2 * time.Second
	// staleAfter is how old a heartbeat may get before the run is taken away from
	// its worker and re-queued.
	staleAfter = 15 * time.Second
	// reapEvery is how often each worker process looks for stale runs.
	reapEvery = 5 * time.Second
	// progressEvery throttles progress writes per run.
	progressEvery = 250 * time.Millisecond
)

// ErrConflict is returned when an idempotency key was used for a different job.
var ErrConflict = errors.New("idempotency key already used for a different job")

// Config configures a Service.
type Config struct {
	DB        *storage.DB
	Artifacts storage.Artifacts
	// Workers is how many jobs this process runs at once; 0 makes an insert-only
	// client (the API in front of separate worker processes).
	Workers int
	// WorkerID names this process in the runs it holds; a default is derived from
	// the host name and pid.
	WorkerID string
	Logger   *slog.Logger
	// RiverLogger receives River's own logs (default: Logger).
	RiverLogger *slog.Logger
	// MaxInflatedBytes bounds the total size to which the compressed variables of
	// an uploaded MAT-file may expand when a job reads it; 0 means
	// fileformat.DefaultMaxInflated. Set it like the API's bound.
	MaxInflatedBytes int64
	// Fast shortens River's polling for tests and small deployments.
	FetchPollInterval time.Duration
	// MaxJobMemory is the memory, in bytes, one job may need by its kind's
	// estimate (Spec.Memory): Submit refuses a job that needs more, and a
	// worker refuses to run one. Zero means DefaultMaxJobMemory(Workers);
	// NoMemoryLimit turns the check off.
	MaxJobMemory int64
}

// Service submits, runs and cancels jobs.
type Service struct {
	db        *storage.DB
	artifacts storage.Artifacts
	client    *river.Client[*sql.Tx]
	workerID  string
	workers   int
	log       *slog.Logger
	stopping  atomic.Bool
	// maxInflated is Config.MaxInflatedBytes.
	maxInflated int64
	reapDone    chan struct{}
	cancel      context.CancelFunc

	// maxJobMemory is the memory budget of one job, negative for none.
	maxJobMemory int64
}

// RunArgs is the River job that carries a run. Lease is the run's fencing token at
// the time the job was inserted; a job whose lease is no longer the run's is stale
// and does nothing.
type RunArgs struct {
	RunID   string `json:"run_id"`
	JobKind string `json:"kind"`
	Lease   int64  `json:"lease"`
}

// Kind is River's kind name for every Eddy job; the Eddy kind travels in JobKind.
func (RunArgs) Kind() string { return "eddy_run" }

// New builds the service and its River client (not yet started).
func New(cfg Config) (*Service, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	id := cfg.WorkerID
	if id == "" {
		host, _ := os.Hostname()
		id = host + "-" + strconv.Itoa(os.Getpid()) + "-" + uuid.NewString()[:8]
	}
	s := &Service{db: cfg.DB, artifacts: cfg.Artifacts, workerID: id, workers: cfg.Workers, log: log,
		maxInflated: cfg.MaxInflatedBytes}
	s.maxJobMemory = cfg.MaxJobMemory
	if s.maxJobMemory == 0 {
		s.maxJobMemory = DefaultMaxJobMemory(cfg.Workers)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &runWorker{svc: s})
	rc := &river.Config{
		ID:                   id,
		Workers:              workers,
		Logger:               cmp.Or(cfg.RiverLogger, log),
		JobTimeout:           -1, // per kind, see runWorker.Timeout
		RescueStuckJobsAfter: maxKindTimeout + time.Hour,
		RetryPolicy:          retryPolicy{},
		FetchPollInterval:    cfg.FetchPollInterval,
		FetchCooldown:        10 * time.Millisecond,
	}
	if cfg.Workers > 0 {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	}
	client, err := river.NewClient(cfg.DB.RiverDriver(), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	s.client = client
	return s, nil
}

// WorkerID is the name this process puts on the runs it holds.
func (s *Service) WorkerID() string { return s.workerID }

// Start starts working (when Workers > 0) and the rescue of runs whose worker died.
func (s *Service) Start(ctx context.Context) error {
	if s.workers == 0 {
		return nil
	}
	// River runs jobs under the context given to Start: cancelling it would
	// cancel every running job before Stop has marked the service as stopping,
	// and the interrupted jobs would count as failed attempts instead of going
	// back to the queue. Only Stop ends the work.
	if err := s.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start river: %w", err)
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.reapDone = make(chan struct{})
	go s.reapLoop(rctx)
	return nil
}

// Stop interrupts running jobs and returns them to the queue (without using an
// attempt), then stops. It keeps the last part of ctx's budget (releaseMargin) for
// the jobs that ignore their context: they are abandoned, and their runs are put
// back in the queue under a new lease, so that their late results are refused and
// another worker (or this one, restarted) runs them again.
func (s *Service) Stop(ctx context.Context) error {
	if s.workers == 0 {
		return nil
	}
	s.stopping.Store(true)
	if s.cancel != nil {
		s.cancel()
		<-s.reapDone
	}
	stopCtx := ctx
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) > 2*releaseMargin {
		var cancel context.CancelFunc
		stopCtx, cancel = context.WithDeadline(ctx, deadline.Add(-releaseMargin))
		defer cancel()
	}
	err := s.client.StopAndCancel(stopCtx)
	if err == nil {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseMargin)
	defer cancel()
	ids, rerr := s.releaseHeld(rctx)
	if rerr != nil {
		return fmt.Errorf("jobs: stopping: %w; re-queueing the runs still held: %w", err, rerr)
	}
	s.log.Warn("jobs that ignored their cancellation were abandoned and re-queued", "runs", ids)
	return nil
}

// releaseMargin is the part of the shutdown budget kept for re-queueing the runs
// of jobs that did not stop.
const releaseMargin = 2 * time.Second

// releaseHeld hands every run this process still holds back to the queue under a
// new lease, with a new River job.
func (s *Service) releaseHeld(ctx context.Context) ([]string, error) {
	held, err := storage.HeldRuns(ctx, s.db.SQL, s.workerID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range held {
		k, ok := Lookup(r.Kind)
		if !ok {
			continue
		}
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			now := time.Now()
			ok, err := storage.Release(ctx, tx, r, s.workerID, now, "interrupted by a worker shutdown; re-queued")
			if err != nil || !ok || r.CancelRequested {
				return err
			}
			ids = append(ids, r.ID)
			return s.insertJobTx(ctx, tx, r.ID, k, r.Lease+1, max(r.Attempt-1, 0))
		})
		if err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// SubmitRequest is a job submission.
type SubmitRequest struct {
	Kind           string            `json:"kind"`
	Params         json.RawMessage   `json:"params"`
	Inputs         map[string]string `json:"inputs,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
}

// Submit validates req and queues it: the runs row and the River job are inserted in
// one transaction. With an idempotency key that was seen before, the earlier run is
// returned (created false) if it asked for the same job, else ErrConflict.
func (s *Service) Submit(ctx context.Context, req SubmitRequest) (run *storage.Run, created bool, err error) {
	k, ok := Lookup(req.Kind)
	if !ok {
		if req.Kind == "" {
			return nil, false, ValidationError{{Path: "/kind", Message: "is required"}}
		}
		return nil, false, ValidationError{{Path: "/kind", Message: fmt.Sprintf("unknown job kind %q (GET /v1/kinds lists them)", req.Kind)}}
	}
	params, typed, err := k.Decode(req.Params)
	if err != nil {
		return nil, false, err
	}
	uploads, err := s.checkReferences(ctx, typed)
	if err != nil {
		return nil, false, err
	}
	if need, param, over := s.overBudget(k, typed, uploads); over {
		return nil, false, ValidationError{{Path: "/params" + param, Message: s.budgetMessage(need, "server")}}
	}
	if err := s.checkInputs(ctx, k, req.Inputs); err != nil {
		return nil, false, err
	}
	if len(req.IdempotencyKey) > 200 {
		return nil, false, ValidationError{{Path: "/idempotency_key", Message: "must be at most 200 characters"}}
	}
	if !storage.ValidText(req.IdempotencyKey) {
		return nil, false, ValidationError{{Path: "/idempotency_key", Message: "must not contain NUL characters"}}
	}
	if req.IdempotencyKey != "" {
		if prev, err := s.sameRequest(ctx, req, params); prev != nil || err != nil {
			return prev, false, err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, false, err
	}
	r := &storage.Run{
		ID: id.String(), Kind: k.Name(), State: storage.Queued, Params: params, Inputs: req.Inputs,
		IdempotencyKey: req.IdempotencyKey, Lease: 1, MaxAttempts: k.MaxAttempts(), CreatedAt: time.Now(),
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := storage.InsertRun(ctx, tx, r); err != nil {
			return err
		}
		return s.insertJobTx(ctx, tx, r.ID, k, r.Lease, 0)
	})
	if err != nil {
		if req.IdempotencyKey != "" {
			// Lost a race with a concurrent submission of the same key.
			if prev, perr := s.sameRequest(ctx, req, params); prev != nil || perr != nil {
				return prev, false, perr
			}
		}
		return nil, false, fmt.Errorf("jobs: submit %s: %w", k.Name(), err)
	}
	run, err = storage.GetRun(ctx, s.db.SQL, r.ID)
	return run, true, err
}

// insertJobTx inserts the River job carrying run runID under lease, with the
// attempts the run has left (attempts under earlier leases count).
func (s *Service) insertJobTx(ctx context.Context, tx *sql.Tx, runID string, k Kind, lease int64, attemptsUsed int) error {
	res, err := s.client.InsertTx(ctx, tx, RunArgs{RunID: runID, JobKind: k.Name(), Lease: lease},
		&river.InsertOpts{MaxAttempts: max(k.MaxAttempts()-attemptsUsed, 1)})
	if err != nil {
		return fmt.Errorf("insert river job: %w", err)
	}
	return storage.SetRiverJobID(ctx, tx, runID, res.Job.ID)
}

// sameRequest returns the run submitted earlier with req's idempotency key, or
// ErrConflict if that run asked for something else.
func (s *Service) sameRequest(ctx context.Context, req SubmitRequest, params json.RawMessage) (*storage.Run, error) {
	prev, err := storage.GetRunByIdempotencyKey(ctx, s.db.SQL, req.IdempotencyKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	same := prev.Kind == req.Kind && jsonEqual(prev.Params, params) && len(prev.Inputs) == len(req.Inputs)
	for k, v := range req.Inputs {
		same = same && prev.Inputs[k] == v
	}
	if !same {
		return nil, ErrConflict
	}
	return prev, nil
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(ax) == string(by)
}

// checkInputs checks that every input is one the kind takes and names an upload or
// a succeeded job.
func (s *Service) checkInputs(ctx context.Context, k Kind, inputs map[string]string) error {
	var errs ValidationError
	for name, id := range inputs {
		allowed := false
		for _, n := range k.InputNames() {
			allowed = allowed || n == name
		}
		if !allowed {
			errs = append(errs, FieldError{Path: "/inputs/" + name, Message: fmt.Sprintf("kind %s takes no input %q", k.Name(), name)})
			continue
		}
		if _, err := s.inputPath(ctx, id); err != nil {
			errs = append(errs, FieldError{Path: "/inputs/" + name, Message: err.Error()})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// checkReferences checks the upload and job ids named by params fields and
// returns the uploads among them, by field pointer.
func (s *Service) checkReferences(ctx context.Context, params any) (map[string]*storage.Upload, error) {
	ref, ok := params.(Referencer)
	if !ok {
		return nil, nil
	}
	var errs ValidationError
	for ptr, id := range ref.References() {
		if id == "" {
			continue
		}
		if _, err := s.inputPath(ctx, id); err != nil {
			errs = append(errs, FieldError{Path: "/params" + ptr, Message: err.Error()})
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
		return nil, errs
	}
	uploads := s.referencedUploads(ctx, params)
	if uc, ok := params.(UploadChecker); ok {
		var c Checker
		uc.CheckUploads(&c, uploads)
		if err := prefixPaths("/params", c.Err()); err != nil {
			return nil, err
		}
	}
	return uploads, nil
}

// referencedUploads returns the uploads that params name (see Referencer), by
// field pointer; ids of other jobs' results, and uploads that cannot be read,
// are left out.
func (s *Service) referencedUploads(ctx context.Context, params any) map[string]*storage.Upload {
	uploads := map[string]*storage.Upload{}
	ref, ok := params.(Referencer)
	if !ok {
		return uploads
	}
	for ptr, id := range ref.References() {
		if id == "" {
			continue
		}
		if u, err := storage.GetUpload(ctx, s.db.Read, id); err == nil {
			uploads[ptr] = u
		}
	}
	return uploads
}

// inputPath resolves an upload id or a succeeded job id to a local file.
func (s *Service) inputPath(ctx context.Context, id string) (string, error) {
	if u, err := storage.GetUpload(ctx, s.db.SQL, id); err == nil {
		return s.artifacts.LocalPath(u.Path)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	r, err := storage.GetRun(ctx, s.db.SQL, id)
	if errors.Is(err, storage.ErrNotFound) {
		return "", fmt.Errorf("no upload or job with id %q", id)
	}
	if err != nil {
		return "", err
	}
	if r.State != storage.Succeeded {
		return "", fmt.Errorf("job %s is %s, not succeeded", id, r.State)
	}
	return s.artifacts.LocalPath(r.ResultPath)
}

// Get returns a run.
func (s *Service) Get(ctx context.Context, id string) (*storage.Run, error) {
	return storage.GetRun(ctx, s.db.Read, id)
}

// List lists runs, newest first.
func (s *Service) List(ctx context.Context, f storage.RunFilter) ([]*storage.Run, error) {
	return storage.ListRuns(ctx, s.db.Read, f)
}

// ErrFinal is returned by Cancel for a run that has already ended.
var ErrFinal = errors.New("job has already ended")

// Cancel cancels a queued run at once, or asks a running one to stop: its worker's
// context is cancelled (River's remote cancel, and the next heartbeat) and it ends
// cancelled. A run that has ended is returned unchanged with an error wrapping
// ErrFinal.
func (s *Service) Cancel(ctx context.Context, id string) (*storage.Run, error) {
	var before *storage.Run
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		r, err := storage.RequestCancel(ctx, tx, id, time.Now())
		if err != nil {
			return err
		}
		before = r
		if r.State == storage.Queued && r.RiverJobID != 0 {
			if _, err := s.client.JobCancelTx(ctx, tx, r.RiverJobID); err != nil && !errors.Is(err, rivertype.ErrNotFound) {
				return fmt.Errorf("cancel river job: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if before.State.Final() {
		return before, fmt.Errorf("%w: it is %s", ErrFinal, before.State)
	}
	s.log.Info("cancel requested", "job_id", id, "state", before.State)
	if before.State == storage.Running && before.RiverJobID != 0 {
		if _, err := s.client.JobCancel(ctx, before.RiverJobID); err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			s.log.Warn("remote cancel failed; the heartbeat will carry it", "job_id", id, "err", err)
		}
	}
	return storage.GetRun(ctx, s.db.SQL, id)
}

// reapLoop re-queues runs whose worker stopped heartbeating.
func (s *Service) reapLoop(ctx context.Context) {
	defer close(s.reapDone)
	t := time.NewTicker(reapEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.reap(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("rescue of stale runs failed", "err", err)
			}
		}
	}
}

// reap hands every stale run to a new River job under a new lease, or ends it when
// it has no attempts left or was to be cancelled. Several processes may reap at
// once: each step is conditional on the run still being stale under the old lease.
func (s *Service) reap(ctx context.Context) error {
	now, err := s.db.Now(ctx)
	if err != nil {
		return err
	}
	cutoff := now.Add(-staleAfter)
	stale, err := storage.StaleRuns(ctx, s.db.SQL, cutoff)
	if err != nil {
		return err
	}
	for _, r := range stale {
		k, ok := Lookup(r.Kind)
		log := s.log.With("job_id", r.ID, "kind", r.Kind, "attempt", r.Attempt, "max_attempts", r.MaxAttempts)
		var ended bool
		switch {
		case r.CancelRequested:
			ended, err = storage.FailStale(ctx, s.db.SQL, r, storage.Cancelled, cutoff, now, "cancelled by request")
			if ended {
				log.Info("job cancelled by request; its worker stopped responding")
				observeRun(r.Kind, outcomeCancelled, 0)
			}
		case !ok || r.Attempt >= r.MaxAttempts:
			msg := fmt.Sprintf("its worker stopped responding on attempt %d of %d", r.Attempt, r.MaxAttempts)
			ended, err = storage.FailStale(ctx, s.db.SQL, r, storage.Failed, cutoff, now, msg)
			if ended {
				log.Error("job failed: " + msg)
				observeRun(r.Kind, outcomeFailed, 0)
			}
		default:
			err = s.db.InTx(ctx, func(tx *sql.Tx) error {
				ok, err := storage.Requeue(ctx, tx, r, cutoff, now, "worker stopped responding; re-queued")
				if err != nil || !ok {
					return err
				}
				ended = true
				return s.insertJobTx(ctx, tx, r.ID, k, r.Lease+1, r.Attempt)
			})
			if ended && err == nil {
				log.Warn("attempt lost with its worker; re-queued", "lease", r.Lease+1)
				observeRun(r.Kind, outcomeRetried, 0)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// retryPolicy waits 2^(attempt-1) seconds, at most five minutes, between attempts.
type retryPolicy struct{}

func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := time.Second << min(job.Attempt-1, 9)
	return time.Now().Add(min(d, 5*time.Minute))
}
