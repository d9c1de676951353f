package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"eddy/storage"
)

type emptyParams struct{}

func (p *emptyParams) Validate(c *Checker) {}

func init() {
	// Runs until its context ends.
	Register(Spec[*emptyParams]{
		Name: "test.block", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			<-ctx.Done()
			return ctx.Err()
		},
	})
	// Produces a small result on its only attempt.
	Register(Spec[*emptyParams]{
		Name: "test.one_shot", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
		},
	})
	// Produces a result with a metric that JSON cannot carry (NaN).
	Register(Spec[*emptyParams]{
		Name: "test.nan_metric", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 3,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			env.Metrics["error"] = math.NaN()
			env.Metrics["errors"] = []float64{1, math.Inf(1)}
			return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
		},
	})
}

// noResults is an artifact store that cannot hold result files (a full or
// read-only disk).
type noResults struct{ storage.Artifacts }

func (d noResults) Create(ctx context.Context, key string) (storage.Writer, error) {
	if strings.HasPrefix(key, "results/") {
		return nil, errors.New("no space left on device")
	}
	return d.Artifacts.Create(ctx, key)
}

// newIdleService builds a service that is not started yet.
func newIdleService(t *testing.T, art storage.Artifacts) (*Service, *storage.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite://"+t.TempDir()+"/eddy.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if art == nil {
		dir, err := storage.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		art = dir
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	svc, err := New(Config{DB: db, Artifacts: art, Workers: 1, FetchPollInterval: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return svc, db
}

func startService(t *testing.T, svc *Service, ctx context.Context) {
	t.Helper()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Stop(sctx)
	})
}

func submitKind(t *testing.T, svc *Service, kind, params string) string {
	t.Helper()
	r, _, err := svc.Submit(context.Background(), SubmitRequest{Kind: kind, Params: json.RawMessage(params)})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// When the result cannot be stored on the last attempt, the run fails; it
// used to be put back in the queue while River discarded its job, so it
// stayed queued for ever.
func TestRunWithoutRoomForResultFails(t *testing.T) {
	dir, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := newIdleService(t, noResults{dir})
	startService(t, svc, context.Background())
	id := submitKind(t, svc, "test.one_shot", `{}`)
	r := waitState(t, svc, id, time.Minute, storage.Failed, storage.Succeeded, storage.Cancelled)
	if r.State != storage.Failed || !strings.Contains(r.Error, "no space left") {
		t.Fatalf("run %s, error %q", r.State, r.Error)
	}
}

// A result whose metrics cannot be recorded fails the run at once, with the
// reason; it used to leave the run "running" with no worker (until a reaper
// called the worker dead) and to compute the result again on every attempt.
func TestNonFiniteMetricIsNullInJSON(t *testing.T) {
	svc, _ := newIdleService(t, nil)
	startService(t, svc, context.Background())
	id := submitKind(t, svc, "test.nan_metric", `{}`)
	r := waitState(t, svc, id, time.Minute, storage.Failed, storage.Succeeded, storage.Cancelled)
	if r.State != storage.Succeeded || r.Attempt != 1 {
		t.Fatalf("run %s attempt %d, error %q", r.State, r.Attempt, r.Error)
	}
	errs, _ := r.Result.Metrics["errors"].([]any)
	if v, ok := r.Result.Metrics["error"]; !ok || v != nil || len(errs) != 2 || errs[0] != 1.0 || errs[1] != nil {
		t.Fatalf("metrics %+v", r.Result.Metrics)
	}
}

// A signal cancels the context the daemons start the service with, a moment
// before they call Stop. The running job must go back to the queue, not fail.
func TestStartContextCancelledBeforeStopRequeues(t *testing.T) {
	svc, _ := newIdleService(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	startService(t, svc, ctx)
	id := submitKind(t, svc, "test.block", `{}`)
	waitState(t, svc, id, time.Minute, storage.Running)
	cancel() // SIGTERM
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if r, _ := svc.Get(context.Background(), id); r.State != storage.Running {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := svc.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := svc.Get(context.Background(), id); r.State != storage.Queued {
		t.Fatalf("after shutdown the job is %s (%q), want queued", r.State, r.Error)
	}
}

// Attempts under an earlier lease count: a run whose first attempt died with its
// worker and was re-queued has two attempts left of three, not River's three of
// the new job.
func TestAttemptsOfEarlierLeasesCount(t *testing.T) {
	ctx := context.Background()
	svc, db := newIdleService(t, nil)
	flakyCalls.Store(0)
	id := submitKind(t, svc, "test.flaky", `{"fail_times": 10}`)
	// Attempt 1 was claimed by a worker that then died.
	if _, err := db.SQL.Exec(`UPDATE runs SET state = 'running', attempt = 1, worker_id = 'dead', heartbeat_at = 0 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := svc.reap(ctx); err != nil {
		t.Fatal(err)
	}
	startService(t, svc, ctx)
	r := waitState(t, svc, id, time.Minute, storage.Failed, storage.Succeeded)
	if r.State != storage.Failed || r.Attempt != 3 || r.Lease != 2 {
		t.Fatalf("run %s after attempt %d of %d (lease %d)", r.State, r.Attempt, r.MaxAttempts, r.Lease)
	}
}

// A cancel that the worker has not seen yet when it shuts down ends the run
// cancelled; it used to be queued again with the cancel flag set, and nothing ever
// ran or ended it.
func TestShutdownAfterCancelRequestEndsCancelled(t *testing.T) {
	svc, db := newIdleService(t, nil)
	startService(t, svc, context.Background())
	id := submitKind(t, svc, "test.block", `{}`)
	waitState(t, svc, id, time.Minute, storage.Running)
	// The request as Cancel records it, before the heartbeat or River carries it.
	if _, err := db.SQL.Exec(`UPDATE runs SET cancel_requested = TRUE WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := svc.Get(context.Background(), id); r.State != storage.Cancelled {
		t.Fatalf("after shutdown the cancelled job is %s (%q)", r.State, r.Error)
	}
}
