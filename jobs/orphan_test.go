package jobs

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/storage"
)

// failFirstCalls counts the runs of test.fail_first.
var failFirstCalls atomic.Int64

func init() {
	// Fails its first attempt in the process, succeeds after.
	Register(Spec[*emptyParams]{
		Name: "test.fail_first", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 3,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			if failFirstCalls.Add(1) == 1 {
				return errors.New("a passing failure")
			}
			return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
		},
	})
}

// A worker that dies after putting its failed attempt's run back in the
// queue, but before River records the retry, leaves River's job "running",
// which River's own rescue would take up only after RescueStuckJobsAfter
// (13 h). The run is re-queued under a new lease within seconds instead, and
// succeeds on its next attempt.
func TestRunHandedBackByADyingWorkerIsRequeued(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite://"+t.TempDir()+"/eddy.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	art, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	// Two solve workers: the "dead" attempt keeps one.
	svc, err := New(Config{DB: db, Artifacts: art, ClassWorkers: map[string]int{ClassSolve: 2, ClassTrain: 0},
		FetchPollInterval: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	svc.orphanAfter = 500 * time.Millisecond
	// The first hand-back never reaches River, as if its process died there.
	dead := make(chan struct{})
	var once sync.Once
	svc.handedBack = func() {
		first := false
		once.Do(func() { first = true })
		if first {
			<-dead
		}
	}
	failFirstCalls.Store(0)
	startService(t, svc, ctx)
	t.Cleanup(func() { close(dead) })

	t0 := time.Now()
	id := submitKind(t, svc, "test.fail_first", `{}`)
	r := waitState(t, svc, id, time.Minute, storage.Succeeded, storage.Failed, storage.Cancelled)
	if r.State != storage.Succeeded || r.Attempt != 2 || r.Lease != 2 {
		t.Fatalf("run %s on attempt %d under lease %d: %s", r.State, r.Attempt, r.Lease, r.Error)
	}
	if took := time.Since(t0); took > 20*time.Second {
		t.Errorf("re-run after %v", took)
	}
	t.Logf("re-run and finished %v after the submission", time.Since(t0).Round(time.Millisecond))
}
