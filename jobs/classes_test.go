package jobs

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"eddy/storage"
)

// trainGate holds the channel whose closing lets the running test.train_gate
// jobs finish.
var trainGate struct {
	sync.Mutex
	ch chan struct{}
}

// openTrainGate returns a fresh gate for test.train_gate jobs; closing it
// releases them.
func openTrainGate() chan struct{} {
	trainGate.Lock()
	defer trainGate.Unlock()
	trainGate.ch = make(chan struct{})
	return trainGate.ch
}

func init() {
	// A training job that runs until the gate is closed (or its context ends).
	Register(Spec[*emptyParams]{
		Name: "test.train_gate", Class: ClassTrain, Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			trainGate.Lock()
			gate := trainGate.ch
			trainGate.Unlock()
			select {
			case <-gate:
				return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	// A solve that finishes at once.
	Register(Spec[*emptyParams]{
		Name: "test.quick", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
		},
	})
}

// newClassService builds a service, not yet started, with the given workers
// per class.
func newClassService(t *testing.T, classWorkers map[string]int) (*Service, *storage.DB) {
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
	art, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	svc, err := New(Config{DB: db, Artifacts: art, ClassWorkers: classWorkers,
		FetchPollInterval: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return svc, db
}

// riverQueue returns the River queue of run id's current River job.
func riverQueue(t *testing.T, svc *Service, id string) string {
	t.Helper()
	r, err := svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	j, err := svc.client.JobGet(context.Background(), r.RiverJobID)
	if err != nil {
		t.Fatal(err)
	}
	return j.Queue
}

// A running training job does not hold up a solve: with one worker per
// class, a solve submitted while the training job runs succeeds before the
// training job is released.
func TestTrainingDoesNotBlockSolve(t *testing.T) {
	gate := openTrainGate()
	svc, _ := newClassService(t, map[string]int{ClassSolve: 1, ClassTrain: 1})
	startService(t, svc, context.Background())

	train := submitKind(t, svc, "test.train_gate", `{}`)
	waitState(t, svc, train, time.Minute, storage.Running)
	if q := riverQueue(t, svc, train); q != ClassTrain {
		t.Errorf("training job in River queue %q, want %q", q, ClassTrain)
	}
	solve := submitKind(t, svc, "test.quick", `{}`)
	if q := riverQueue(t, svc, solve); q != ClassSolve {
		t.Errorf("solve in River queue %q, want %q", q, ClassSolve)
	}
	r := waitState(t, svc, solve, time.Minute, storage.Succeeded, storage.Failed, storage.Cancelled)
	if r.State != storage.Succeeded {
		t.Fatalf("solve %s (%q), want succeeded", r.State, r.Error)
	}
	if r := waitState(t, svc, train, 0, storage.Running, storage.Queued, storage.Succeeded,
		storage.Failed, storage.Cancelled); r.State != storage.Running {
		t.Fatalf("training job %s while the gate was shut, want running", r.State)
	}
	close(gate)
	if r := waitState(t, svc, train, time.Minute, storage.Succeeded, storage.Failed, storage.Cancelled); r.State != storage.Succeeded {
		t.Fatalf("training job %s (%q) after its release, want succeeded", r.State, r.Error)
	}
}

// A process without workers for a class leaves that class's jobs queued for
// other processes, and still runs its own class.
func TestClassWithoutWorkersIsNotRun(t *testing.T) {
	openTrainGate()
	svc, _ := newClassService(t, map[string]int{ClassSolve: 1, ClassTrain: 0})
	startService(t, svc, context.Background())
	train := submitKind(t, svc, "test.train_gate", `{}`)
	solve := submitKind(t, svc, "test.quick", `{}`)
	if r := waitState(t, svc, solve, time.Minute, storage.Succeeded, storage.Failed, storage.Cancelled); r.State != storage.Succeeded {
		t.Fatalf("solve %s (%q), want succeeded", r.State, r.Error)
	}
	if r, err := svc.Get(context.Background(), train); err != nil || r.State != storage.Queued {
		t.Fatalf("training job in a process without training workers: %v, %v; want queued", r.State, err)
	}
}

// River jobs queued before there were classes wait in River's default queue;
// a process with solve workers still works them.
func TestDefaultQueueStillWorked(t *testing.T) {
	svc, db := newClassService(t, map[string]int{ClassSolve: 1, ClassTrain: 1})
	id := submitKind(t, svc, "test.quick", `{}`)
	if _, err := db.SQL.Exec(`UPDATE river_job SET queue = ? WHERE queue = ?`, river.QueueDefault, ClassSolve); err != nil {
		t.Fatal(err)
	}
	if q := riverQueue(t, svc, id); q != river.QueueDefault {
		t.Fatalf("River job in queue %q, want %q", q, river.QueueDefault)
	}
	startService(t, svc, context.Background())
	if r := waitState(t, svc, id, time.Minute, storage.Succeeded, storage.Failed, storage.Cancelled); r.State != storage.Succeeded {
		t.Fatalf("run %s (%q), want succeeded", r.State, r.Error)
	}
}

func TestClassWorkersChecked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
		classes map[string]int
		total   int
		ok      bool
	}{
		{"plain count", 3, nil, 4, true},
		{"insert only", 0, nil, 0, true},
		{"by class", 0, map[string]int{ClassSolve: 2, ClassTrain: 1}, 3, true},
		{"by class with the total", 3, map[string]int{ClassSolve: 2, ClassTrain: 1}, 3, true},
		{"total differs", 2, map[string]int{ClassSolve: 2, ClassTrain: 1}, 0, false},
		{"unknown class", 0, map[string]int{"gpu": 1}, 0, false},
		{"negative", 0, map[string]int{ClassSolve: -1}, 0, false},
	} {
		_, total, err := riverQueues(tc.workers, tc.classes)
		if (err == nil) != tc.ok || total != tc.total {
			t.Errorf("%s: total %d, error %v; want total %d, ok %v", tc.name, total, err, tc.total, tc.ok)
		}
	}
}
