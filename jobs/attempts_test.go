package jobs

import (
	"context"
	"testing"
	"time"

	"eddy/storage"
)

func init() {
	// Runs until its context ends, with two attempts allowed.
	Register(Spec[*emptyParams]{
		Name: "test.until_stopped", Defaults: func() *emptyParams { return &emptyParams{} },
		Timeout: time.Minute, MaxAttempts: 2,
		Run: func(ctx context.Context, p *emptyParams, env *Env) error {
			<-ctx.Done()
			return ctx.Err()
		},
	})
}

// A job interrupted by worker shutdowns, as by SIGINT and then SIGTERM, goes
// back to the queue each time without using an attempt: attempt never exceeds
// max_attempts, and the next worker still runs it on attempt 1.
func TestShutdownsDoNotCountAttempts(t *testing.T) {
	ctx := context.Background()
	dbURL, dataDir := "sqlite://"+t.TempDir()+"/eddy.db", t.TempDir()
	var id string
	for round := 1; round <= 3; round++ {
		svc, db := newTestService(t, dbURL, dataDir)
		if id == "" {
			id = submitKind(t, svc, "test.until_stopped", `{}`)
		}
		r := waitState(t, svc, id, 30*time.Second, storage.Running)
		if r.Attempt != 1 || r.Attempt > r.MaxAttempts {
			t.Fatalf("round %d: running on attempt %d of %d", round, r.Attempt, r.MaxAttempts)
		}
		if round == 3 {
			if _, err := svc.Cancel(ctx, id); err != nil {
				t.Fatal(err)
			}
			r = waitState(t, svc, id, 30*time.Second, storage.Cancelled, storage.Failed)
			if r.State != storage.Cancelled || r.Attempt != 1 {
				t.Fatalf("after cancel: %s on attempt %d", r.State, r.Attempt)
			}
			svc.Stop(ctx)
			db.Close()
			break
		}
		if err := svc.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := storage.GetRun(ctx, db.SQL, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != storage.Queued || r.Attempt != 0 || r.Lease != 1 {
			t.Fatalf("round %d, after stop: %s attempt %d lease %d (%q)", round, r.State, r.Attempt, r.Lease, r.Error)
		}
		db.Close()
	}
}

// A run whose worker shuts down after a cancel was requested ends cancelled,
// not queued.
func TestInterruptOfCancelledRun(t *testing.T) {
	ctx := context.Background()
	svc, db := newIdleService(t, nil)
	r := &storage.Run{ID: "run-1", Kind: "test.until_stopped", State: storage.Queued, Params: []byte(`{}`),
		Lease: 1, MaxAttempts: 2, CreatedAt: time.Now()}
	if err := storage.InsertRun(ctx, db.SQL, r); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if ok, err := storage.ClaimRun(ctx, db.SQL, r.ID, 1, svc.WorkerID(), now); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, err := storage.Interrupt(ctx, db.SQL, r.ID, 1, now, "interrupted"); err != nil || !ok {
		t.Fatalf("interrupt: %v %v", ok, err)
	}
	got, _ := storage.GetRun(ctx, db.SQL, r.ID)
	if got.State != storage.Queued || got.Attempt != 0 || got.WorkerID != "" {
		t.Fatalf("interrupted: %s attempt %d worker %q", got.State, got.Attempt, got.WorkerID)
	}
	if ok, err := storage.Interrupt(ctx, db.SQL, r.ID, 1, now, "interrupted"); err != nil || ok {
		t.Fatalf("interrupt of a queued run: %v %v", ok, err)
	}

	if ok, err := storage.ClaimRun(ctx, db.SQL, r.ID, 1, svc.WorkerID(), now); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if _, err := storage.RequestCancel(ctx, db.SQL, r.ID, now); err != nil {
		t.Fatal(err)
	}
	if ok, err := storage.Interrupt(ctx, db.SQL, r.ID, 1, now, "interrupted"); err != nil || !ok {
		t.Fatalf("interrupt: %v %v", ok, err)
	}
	got, _ = storage.GetRun(ctx, db.SQL, r.ID)
	if got.State != storage.Cancelled || got.FinishedAt.IsZero() || got.Error != "cancelled by request" {
		t.Fatalf("interrupted after a cancel: %s finished %v error %q", got.State, got.FinishedAt, got.Error)
	}
}
