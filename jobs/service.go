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
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"eddy/field"
	"eddy/hdf5io"
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
	// Workers is how many jobs this process runs at once, in all classes; 0 (with
	// ClassWorkers nil or all zero) makes an insert-only client (the API in front
	// of separate worker processes). When ClassWorkers is nil, Workers is read as
	// a plain count and split by DefaultClassWorkers; otherwise it must be 0 or
	// the sum of ClassWorkers.
	Workers int
	// ClassWorkers is how many jobs of each class (ClassSolve, ClassTrain) this
	// process runs at once. A class with no workers is not run by this process;
	// other processes may run it.
	ClassWorkers map[string]int
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
	// worker refuses to run one. Zero means DefaultMaxJobMemory of the
	// workers of all classes; NoMemoryLimit turns the check off.
	MaxJobMemory int64
	// CheckpointEvery is how often a long run saves a checkpoint (see
	// Env.CheckpointDue); 0 means DefaultCheckpointEvery.
	CheckpointEvery time.Duration
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
	// checkpointEvery is Config.CheckpointEvery.
	checkpointEvery time.Duration
	// orphanAfter is how long a run may sit queued under a River job still
	// running before rescueOrphans takes the job for lost (staleAfter; tests
	// shorten it).
	orphanAfter time.Duration
	// handedBack, if set, is called when an attempt has put its run back in
	// the queue and is about to tell River: tests stop there to play a
	// process that dies at that point.
	handedBack func()
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
	queues, total, err := riverQueues(cfg.Workers, cfg.ClassWorkers)
	if err != nil {
		return nil, err
	}
	s := &Service{db: cfg.DB, artifacts: cfg.Artifacts, workerID: id, workers: total, log: log,
		maxInflated: cfg.MaxInflatedBytes}
	s.maxJobMemory = cfg.MaxJobMemory
	s.checkpointEvery = cmp.Or(cfg.CheckpointEvery, DefaultCheckpointEvery)
	s.orphanAfter = staleAfter
	if s.maxJobMemory == 0 {
		s.maxJobMemory = DefaultMaxJobMemory(total)
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
	if total > 0 {
		rc.Queues = queues
	}
	client, err := river.NewClient(cfg.DB.RiverDriver(), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: river client: %w", err)
	}
	s.client = client
	return s, nil
}

// DefaultClassWorkers splits a plain worker count n: n workers for ClassSolve
// and one for ClassTrain, so that solves keep the concurrency they had before
// classes existed and a training run has a worker of its own; n ≤ 0 gives none
// (an insert-only process).
func DefaultClassWorkers(n int) map[string]int {
	if n <= 0 {
		return map[string]int{ClassSolve: 0, ClassTrain: 0}
	}
	return map[string]int{ClassSolve: n, ClassTrain: 1}
}

// riverQueues returns River's queues for a process with the given workers
// (see Config.Workers and Config.ClassWorkers) and their total. Each class
// with workers gets a queue of its name. River jobs inserted before there
// were classes wait in River's default queue; a process that runs solves
// also works that queue, one job at a time, so that they are not stranded.
func riverQueues(workers int, classWorkers map[string]int) (map[string]river.QueueConfig, int, error) {
	if classWorkers == nil {
		classWorkers = DefaultClassWorkers(workers)
		workers = 0
	}
	total := 0
	for class, n := range classWorkers {
		if !slices.Contains(Classes(), class) {
			return nil, 0, fmt.Errorf("jobs: workers for an unknown job class %q; the classes are %v", class, Classes())
		}
		if n < 0 {
			return nil, 0, fmt.Errorf("jobs: %d workers for class %s", n, class)
		}
		total += n
	}
	if workers != 0 && workers != total {
		return nil, 0, fmt.Errorf("jobs: Workers is %d but the class workers add up to %d", workers, total)
	}
	queues := map[string]river.QueueConfig{}
	for class, n := range classWorkers {
		if n > 0 {
			queues[class] = river.QueueConfig{MaxWorkers: n}
		}
	}
	if classWorkers[ClassSolve] > 0 {
		queues[river.QueueDefault] = river.QueueConfig{MaxWorkers: 1}
	}
	return queues, total, nil
}

// WorkerID is the name this process puts on the runs it holds.
func (s *Service) WorkerID() string { return s.workerID }

// RiverClient is the service's River client, for River's own operator UI.
func (s *Service) RiverClient() *river.Client[*sql.Tx] { return s.client }

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
			if err != nil || !ok {
				return err
			}
			// A run whose cancellation was requested ended cancelled.
			if err := s.settleTx(ctx, tx, r.ID); err != nil || r.CancelRequested {
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
	// Owner owns the new run ("": storage.AnonymousOwner). Its references
	// and inputs must name Owner's uploads and jobs, unless AnyOwner (an
	// admin's submission); another owner's are refused as if they did not
	// exist. Idempotency keys are Owner's own.
	Owner    string `json:"-"`
	AnyOwner bool   `json:"-"`
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
	params, typed, err := decodeAtSubmit(ctx, k, req.Params)
	if err != nil {
		return nil, false, err
	}
	if err := s.checkOwners(ctx, req, typed); err != nil {
		return nil, false, err
	}
	refs, err := s.checkReferences(ctx, typed)
	if err != nil {
		return nil, false, err
	}
	if need, param, over := s.overBudget(k, typed, refs.uploads); over {
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
		Owner: req.Owner,
	}
	for name, id := range req.Inputs {
		refs.refs = append(refs.refs, storage.RunRef{RefID: id, Path: "/inputs/" + name})
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		waiting, err := s.lockReferencesTx(ctx, tx, refs.refs)
		if err != nil {
			return err
		}
		r.WaitingFor = waiting
		if err := storage.InsertRun(ctx, tx, r); err != nil {
			return err
		}
		if err := storage.InsertRunRefs(ctx, tx, r.ID, refs.refs); err != nil {
			return err
		}
		if len(waiting) > 0 {
			return nil // settleTx inserts the River job once they have succeeded
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

// decodeAtSubmit decodes and validates raw params of kind k, then runs the
// kind's data checks (DataChecker), which only a submission pays for.
func decodeAtSubmit(ctx context.Context, k Kind, raw json.RawMessage) (json.RawMessage, any, error) {
	params, typed, err := k.Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	if dc, ok := typed.(DataChecker); ok {
		var c Checker
		dc.CheckData(ctx, &c)
		if err := prefixPaths("/params", c.Err()); err != nil {
			return nil, nil, err
		}
	}
	return params, typed, nil
}

// insertJobTx inserts the River job carrying run runID under lease, with the
// attempts the run has left (attempts under earlier leases count), in the
// queue of its kind's class. Every River job of a run is inserted here:
// at submission, when a chain's parents have succeeded, and when a run is
// re-queued after its worker died or stopped.
func (s *Service) insertJobTx(ctx context.Context, tx *sql.Tx, runID string, k Kind, lease int64, attemptsUsed int) error {
	res, err := s.client.InsertTx(ctx, tx, RunArgs{RunID: runID, JobKind: k.Name(), Lease: lease},
		&river.InsertOpts{Queue: k.Class(), MaxAttempts: max(k.MaxAttempts()-attemptsUsed, 1)})
	if err != nil {
		return fmt.Errorf("insert river job: %w", err)
	}
	return storage.SetRiverJobID(ctx, tx, runID, res.Job.ID)
}

// sameRequest returns the run submitted earlier with req's idempotency key, or
// ErrConflict if that run asked for something else.
func (s *Service) sameRequest(ctx context.Context, req SubmitRequest, params json.RawMessage) (*storage.Run, error) {
	prev, err := storage.GetRunByIdempotencyKey(ctx, s.db.SQL, req.Owner, req.IdempotencyKey)
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
		if _, err := s.inputKey(ctx, id); err != nil {
			errs = append(errs, FieldError{Path: "/inputs/" + name, Message: err.Error()})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// references are the uploads and jobs a submission names, checked.
type references struct {
	// uploads holds the uploads among them, by param pointer ("/cube").
	uploads map[string]*storage.Upload
	// refs lists every reference with its path in the request ("/params/cube",
	// "/inputs/model"), as recorded in run_refs.
	refs []storage.RunRef
}

// checkReferences checks the reference params of params (see field.References)
// against what they name: it must exist and be of a kind the param accepts
// (an upload, or a job of an accepted kind that has not failed), and it must
// hold the datasets the param declares — an upload its recorded datasets, a
// succeeded job its result's, an unfinished job its kind's outputs. Then the
// kind's UploadChecker checks the uploads. Problems are reported at the
// param's path.
func (s *Service) checkReferences(ctx context.Context, params any) (*references, error) {
	out := &references{uploads: map[string]*storage.Upload{}}
	var errs ValidationError
	for _, ref := range field.References(params) {
		path := "/params" + ref.Path
		out.refs = append(out.refs, storage.RunRef{RefID: ref.ID, Path: path})
		u, err := storage.GetUpload(ctx, s.db.SQL, ref.ID)
		if err == nil {
			if !ref.AcceptsUpload() {
				errs = append(errs, FieldError{Path: path, Message: fmt.Sprintf("%s is an upload; this param takes %s", ref.ID, ref.AcceptedText())})
				continue
			}
			if msg := missingDataset(ref.Datasets, "upload "+ref.ID, uploadRanks(u)); msg != "" {
				errs = append(errs, FieldError{Path: path, Message: msg})
				continue
			}
			out.uploads[ref.Path] = u
			continue
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		msg, result, err := s.checkJobReference(ctx, ref)
		if err != nil {
			return nil, err
		}
		if msg != "" {
			errs = append(errs, FieldError{Path: path, Message: msg})
		} else if result != nil {
			out.uploads[ref.Path] = result
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
		return nil, errs
	}
	if uc, ok := params.(UploadChecker); ok {
		var c Checker
		uc.CheckUploads(&c, out.uploads)
		if err := prefixPaths("/params", c.Err()); err != nil {
			return nil, err
		}
	}
	if fc, ok := params.(FileChecker); ok {
		var held []*storage.Local
		defer func() {
			for _, l := range held {
				l.Close()
			}
		}()
		file := func(path string) (string, bool) {
			u := out.uploads[path]
			if u == nil {
				return "", false
			}
			l, err := storage.Fetch(ctx, s.artifacts, u.Path)
			if err != nil {
				return "", false
			}
			held = append(held, l)
			return l.Path, true
		}
		var c Checker
		fc.CheckFiles(&c, out.uploads, file)
		if err := prefixPaths("/params", c.Err()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkJobReference checks a reference that names no upload: it must name a
// job of an accepted kind that has succeeded, with the declared datasets in
// its result, or is queued or running, with them among its kind's outputs.
// It returns what is wrong, or "" and, for a succeeded job, its result
// described as an Upload (ID the job's, Datasets its result's), so that the
// kind's UploadChecker and memory estimate see a result as they see an
// upload.
func (s *Service) checkJobReference(ctx context.Context, ref field.Ref) (string, *storage.Upload, error) {
	r, err := storage.GetRun(ctx, s.db.SQL, ref.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Sprintf("no upload or job with id %q", ref.ID), nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	if !ref.AcceptsJob(r.Kind) {
		return fmt.Sprintf("job %s is %s %s job; this param takes %s", r.ID, field.Article(r.Kind), r.Kind, ref.AcceptedText()), nil, nil
	}
	switch r.State {
	case storage.Succeeded:
		result := &storage.Upload{ID: r.ID, Format: "hdf5", Path: r.ResultPath}
		if local, err := storage.Fetch(ctx, s.artifacts, r.ResultPath); err == nil {
			if infos, err := hdf5io.Inspect(local.Path); err == nil {
				for _, d := range infos {
					result.Datasets = append(result.Datasets, storage.Dataset{Name: d.Name, Shape: d.Shape, Dtype: d.Dtype})
				}
			}
			local.Close()
		}
		ranks := uploadRanks(result)
		if len(ranks) == 0 {
			return fmt.Sprintf("the result of job %s can no longer be read", r.ID), nil, nil
		}
		return missingDataset(ref.Datasets, "the result of job "+r.ID, ranks), result, nil
	case storage.Queued, storage.Running:
		k, ok := Lookup(r.Kind)
		if !ok {
			return fmt.Sprintf("job %s is of an unknown kind %s", r.ID, r.Kind), nil, nil
		}
		ranks := map[string]int{}
		for _, name := range k.OutputNames() {
			ranks[name] = 0 // not known before the job has run
		}
		return missingDataset(ref.Datasets, "a "+r.Kind+" job's result", ranks), nil, nil
	}
	return fmt.Sprintf("job %s is %s; it has no result", r.ID, r.State), nil, nil
}

// uploadRanks returns the rank of each dataset of u, by name without a
// leading "/".
func uploadRanks(u *storage.Upload) map[string]int {
	out := map[string]int{}
	for _, d := range u.Datasets {
		out[strings.TrimPrefix(d.Name, "/")] = len(d.Shape)
	}
	return out
}

// missingDataset returns what is missing from a file (named by what, for the
// message) whose datasets have the given ranks (0: not known yet) for it to
// hold the datasets want, or "".
func missingDataset(want []field.RefDataset, what string, ranks map[string]int) string {
	for _, d := range want {
		rank, ok := ranks[d.Name]
		switch {
		case !ok:
			have := make([]string, 0, len(ranks))
			for name := range ranks {
				have = append(have, name)
			}
			sort.Strings(have)
			return fmt.Sprintf("%s has no dataset %q, which this param needs (it has %s)", what, d.Name, strings.Join(have, ", "))
		case d.Rank != 0 && rank != 0 && rank != d.Rank:
			return fmt.Sprintf("dataset %q of %s has %d dimensions; this param needs %d", d.Name, what, rank, d.Rank)
		}
	}
	return ""
}

// lockReferencesTx reads again, in the transaction that inserts a run, what
// its references name, holding them (see storage.DB.LockTargets) until the
// run is committed, and returns the unfinished jobs among them, for which the
// run waits. A reference whose target has gone or failed since it was checked
// is refused as at the check.
func (s *Service) lockReferencesTx(ctx context.Context, tx *sql.Tx, refs []storage.RunRef) ([]string, error) {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.RefID
	}
	targets, err := s.db.LockTargets(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	var waiting []string
	var errs ValidationError
	for _, ref := range refs {
		t := targets[ref.RefID]
		switch {
		case t.Upload:
		case t.Run == nil:
			errs = append(errs, FieldError{Path: ref.Path, Message: fmt.Sprintf("no upload or job with id %q", ref.RefID)})
		case t.Run.State == storage.Succeeded:
		case t.Run.State.Final():
			errs = append(errs, FieldError{Path: ref.Path, Message: fmt.Sprintf("job %s is %s; it has no result", ref.RefID, t.Run.State)})
		case !slices.Contains(waiting, ref.RefID):
			waiting = append(waiting, ref.RefID)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return waiting, nil
}

// referencedUploads returns the uploads that params name (see
// field.References), by field pointer; ids of other jobs' results, and uploads
// that cannot be read, are left out.
func (s *Service) referencedUploads(ctx context.Context, params any) map[string]*storage.Upload {
	uploads := map[string]*storage.Upload{}
	for _, ref := range field.References(params) {
		if u, err := storage.GetUpload(ctx, s.db.Read, ref.ID); err == nil {
			uploads[ref.Path] = u
		}
	}
	return uploads
}

// localFiles holds the local copies of an attempt's inputs until it ends.
type localFiles struct {
	mu    sync.Mutex
	files []*storage.Local
}

// fetch returns key of store as a local file, held until release.
func (h *localFiles) fetch(ctx context.Context, store storage.Artifacts, key string) (string, error) {
	l, err := storage.Fetch(ctx, store, key)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.files = append(h.files, l)
	h.mu.Unlock()
	return l.Path, nil
}

// release lets go of every file held.
func (h *localFiles) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range h.files {
		l.Close()
	}
	h.files = nil
}

// inputPath resolves an upload id or a succeeded job id to a local file,
// held by held.
func (s *Service) inputPath(ctx context.Context, id string, held *localFiles) (string, error) {
	key, err := s.inputKey(ctx, id)
	if err != nil {
		return "", err
	}
	return held.fetch(ctx, s.artifacts, key)
}

// inputKey resolves an upload id or a succeeded job id to its artifact key.
func (s *Service) inputKey(ctx context.Context, id string) (string, error) {
	if u, err := storage.GetUpload(ctx, s.db.SQL, id); err == nil {
		return u.Path, nil
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
	return r.ResultPath, nil
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
		if r.State != storage.Queued {
			return nil
		}
		if r.RiverJobID != 0 {
			if _, err := s.client.JobCancelTx(ctx, tx, r.RiverJobID); err != nil && !errors.Is(err, rivertype.ErrNotFound) {
				return fmt.Errorf("cancel river job: %w", err)
			}
		}
		return s.settleTx(ctx, tx, id)
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
			ended, err = s.endRun(ctx, r.ID, func(tx *sql.Tx) (bool, error) {
				return storage.FailStale(ctx, tx, r, storage.Cancelled, cutoff, now, "cancelled by request")
			})
			if ended {
				log.Info("job cancelled by request; its worker stopped responding")
				observeRun(r.Kind, outcomeCancelled, 0)
			}
		case !ok || r.Attempt >= r.MaxAttempts:
			msg := fmt.Sprintf("its worker stopped responding on attempt %d of %d", r.Attempt, r.MaxAttempts)
			ended, err = s.endRun(ctx, r.ID, func(tx *sql.Tx) (bool, error) {
				return storage.FailStale(ctx, tx, r, storage.Failed, cutoff, now, msg)
			})
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
	return s.rescueOrphans(ctx, now)
}

// rescueOrphans closes the window between an attempt handing its run back to
// the queue (a failed attempt to be retried, or a worker shutting down) and
// River recording it (the retry, or the snooze). A process that dies in
// between leaves the run queued and its River job "running", which River
// rescues only after RescueStuckJobsAfter (maxKindTimeout + 1 h, chosen so
// that River never re-runs a job that is merely slow), and the heartbeats
// cannot tell, since the run is no longer running. A River job that has been
// running for longer than orphanAfter while its run, under the same lease,
// has been queued for longer than orphanAfter is such an orphan: a live
// process records the hand-back within milliseconds. The run moves to a new
// lease with a new River job, at once; if River ever runs the orphan again,
// it finds its lease gone and does nothing. Running River jobs are at most
// as many as the workers of all processes, so the check is cheap.
func (s *Service) rescueOrphans(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-s.orphanAfter)
	params := river.NewJobListParams().Kinds(RunArgs{}.Kind()).States(rivertype.JobStateRunning).First(10000)
	list, err := s.client.JobList(ctx, params)
	if err != nil {
		return fmt.Errorf("jobs: running river jobs: %w", err)
	}
	for _, j := range list.Jobs {
		if j.AttemptedAt == nil || !j.AttemptedAt.Before(cutoff) {
			continue
		}
		var a RunArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			continue
		}
		r, err := storage.GetRun(ctx, s.db.SQL, a.RunID)
		if err != nil || r.State != storage.Queued || r.Lease != a.Lease || !r.UpdatedAt.Before(cutoff) {
			continue
		}
		k, ok := Lookup(r.Kind)
		if !ok {
			continue
		}
		moved := false
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			ok, err := storage.RequeueOrphan(ctx, tx, r.ID, r.Lease, cutoff, now)
			if err != nil || !ok {
				return err
			}
			moved = true
			return s.insertJobTx(ctx, tx, r.ID, k, r.Lease+1, r.Attempt)
		})
		if err != nil {
			return err
		}
		if moved {
			s.log.Warn("run handed back by a worker that stopped before the queue recorded it; re-queued",
				"job_id", r.ID, "kind", r.Kind, "lease", r.Lease+1, "river_job", j.ID)
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
