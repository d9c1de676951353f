package jobs

import (
	"context"
	"testing"
	"time"

	"eddy/storage"
)

// stubbornRelease is closed at the end of the test to let the stubborn job go;
// stubbornStarted receives once the job's body is running (the run turns
// running when claimed, before its kind's Run is entered: a Stop in between
// interrupts the run rather than abandoning a job).
var (
	stubbornRelease = make(chan struct{})
	stubbornStarted = make(chan struct{}, 1)
)

func init() {
	// Ignores its context: only the end of the test lets it return.
	Register(Spec[*emptyParams]{
		Name: "test.stubborn", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 2,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			select {
			case stubbornStarted <- struct{}{}:
			default:
			}
			<-stubbornRelease
			return nil
		},
	})
}

// A job that ignores its context does not hold the shutdown: Stop returns within
// its budget and the run goes back to the queue under a new lease, its
// interrupted attempt not counted, with a River job to carry it.
func TestStopAbandonsJobThatIgnoresItsContext(t *testing.T) {
	defer close(stubbornRelease)
	svc, db := newIdleService(t, nil)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := submitKind(t, svc, "test.stubborn", `{}`)
	run := waitState(t, svc, id, 10*time.Second, storage.Running)
	if run.Attempt != 1 || run.Lease != 1 {
		t.Fatalf("running run: attempt %d lease %d", run.Attempt, run.Lease)
	}
	select {
	case <-stubbornStarted:
	case <-time.After(10 * time.Second):
		t.Fatal("the stubborn job's body did not start")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*releaseMargin+time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- svc.Stop(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	case <-time.After(time.Minute): // a generous cap: Stop has a few seconds' budget
		t.Fatal("Stop waited for a job that ignores its context")
	}

	after, err := storage.GetRun(context.Background(), db.SQL, id)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != storage.Queued || after.Lease != 2 || after.Attempt != 0 || after.WorkerID != "" {
		t.Fatalf("abandoned run: state %s lease %d attempt %d worker %q", after.State, after.Lease, after.Attempt, after.WorkerID)
	}
	var jobs int
	if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM river_job WHERE state = 'available' AND args->>'run_id' = $1`, id).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 1 {
		t.Fatalf("%d available River jobs carry the re-queued run, want 1", jobs)
	}
}
