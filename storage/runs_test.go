package storage_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"eddy/storage"
)

func migrated(t *testing.T, name, url string) *storage.DB {
	t.Helper()
	db := open(t, name, url)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func insertQueued(t *testing.T, db *storage.DB, id string, now time.Time) {
	t.Helper()
	if err := storage.InsertRun(context.Background(), db.SQL, &storage.Run{ID: id, Kind: "k", State: storage.Queued,
		Params: json.RawMessage(`{}`), Lease: 1, MaxAttempts: 3, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

// A cancel requested while an attempt is running, followed by that attempt handing
// the run back to the queue (it failed, or its worker shut down before it saw the
// request), must end the run cancelled: queued with cancel_requested set, it could
// never be claimed again and would stay queued for ever.
func TestRequeueAfterCancelRequestEndsCancelled(t *testing.T) {
	for name, url := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := migrated(t, name, url)
			now := time.Now()
			insertQueued(t, db, "r1", now)
			if ok, err := storage.ClaimRun(ctx, db.SQL, "r1", 1, "w1", now); err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			if _, err := storage.RequestCancel(ctx, db.SQL, "r1", now); err != nil {
				t.Fatal(err)
			}
			if _, err := storage.Finish(ctx, db.SQL, "r1", 1, storage.Queued, "attempt 1 failed, retrying: boom", nil, "", now); err != nil {
				t.Fatal(err)
			}
			r, err := storage.GetRun(ctx, db.SQL, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if r.State != storage.Cancelled || r.FinishedAt.IsZero() {
				t.Fatalf("run is %s (finished %v, error %q): a cancelled run was queued again", r.State, r.FinishedAt, r.Error)
			}
			// A plain retry without a cancel request still goes back to the queue.
			insertQueued(t, db, "r2", now)
			storage.ClaimRun(ctx, db.SQL, "r2", 1, "w1", now)
			storage.Finish(ctx, db.SQL, "r2", 1, storage.Queued, "retrying", nil, "", now)
			if r, _ := storage.GetRun(ctx, db.SQL, "r2"); r.State != storage.Queued || !r.FinishedAt.IsZero() {
				t.Fatalf("retried run is %s, finished %v", r.State, r.FinishedAt)
			}
		})
	}
}

// racingQuerier runs race once, just before the first statement that writes, as a
// concurrent process would between RequestCancel's read and its update.
type racingQuerier struct {
	storage.Querier
	race func()
}

func (q *racingQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if q.race != nil {
		race := q.race
		q.race = nil
		race()
	}
	return q.Querier.ExecContext(ctx, query, args...)
}

// A cancel request must not be lost when the run changes between the request's
// read and its update (on PostgreSQL nothing serialises the two).
func TestCancelRequestSurvivesConcurrentChange(t *testing.T) {
	ctx := context.Background()
	db := migrated(t, "sqlite", "sqlite://"+t.TempDir()+"/eddy.db")
	now := time.Now()

	// Running → re-queued by a reaper in between: the re-queued run is cancelled.
	insertQueued(t, db, "a", now)
	storage.ClaimRun(ctx, db.SQL, "a", 1, "w1", now)
	q := &racingQuerier{Querier: db.SQL, race: func() {
		stale := storage.StaleRun{ID: "a", Kind: "k", Lease: 1, Attempt: 1, MaxAttempts: 3}
		if ok, err := storage.Requeue(ctx, db.SQL, stale, now.Add(time.Minute), now, "lost"); err != nil || !ok {
			t.Errorf("requeue: %v %v", ok, err)
		}
	}}
	if _, err := storage.RequestCancel(ctx, q, "a", now); err != nil {
		t.Fatal(err)
	}
	if r, _ := storage.GetRun(ctx, db.SQL, "a"); r.State != storage.Cancelled {
		t.Fatalf("run re-queued during the cancel request is %s, cancel_requested=%v", r.State, r.CancelRequested)
	}

	// Queued → claimed by a worker in between: the running run is flagged.
	insertQueued(t, db, "b", now)
	q = &racingQuerier{Querier: db.SQL, race: func() {
		if ok, err := storage.ClaimRun(ctx, db.SQL, "b", 1, "w1", now); err != nil || !ok {
			t.Errorf("claim: %v %v", ok, err)
		}
	}}
	if _, err := storage.RequestCancel(ctx, q, "b", now); err != nil {
		t.Fatal(err)
	}
	if r, _ := storage.GetRun(ctx, db.SQL, "b"); r.State != storage.Running || !r.CancelRequested {
		t.Fatalf("run claimed during the cancel request: %s, cancel_requested=%v", r.State, r.CancelRequested)
	}
}

// A cancel requested after a reaper listed a stale run, but before it re-queued
// it, must not be lost: the run used to be queued again under a new lease with
// the cancel flag set, so that no worker could claim it and it stayed queued.
func TestReaperDoesNotRequeueRunWithCancelRequest(t *testing.T) {
	for name, url := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := migrated(t, name, url)
			now := time.Now()
			insertQueued(t, db, "r", now)
			storage.ClaimRun(ctx, db.SQL, "r", 1, "w1", now)
			cutoff := now.Add(time.Minute)
			stale, err := storage.StaleRuns(ctx, db.SQL, cutoff)
			if err != nil || len(stale) != 1 || stale[0].CancelRequested {
				t.Fatalf("stale runs %+v, %v", stale, err)
			}
			if _, err := storage.RequestCancel(ctx, db.SQL, "r", now); err != nil {
				t.Fatal(err)
			}
			if ok, err := storage.Requeue(ctx, db.SQL, stale[0], cutoff, now, "lost"); err != nil || ok {
				t.Fatalf("requeue of a run with a cancel request: ok=%v err=%v", ok, err)
			}
			// The next round sees the request and ends the run.
			stale, _ = storage.StaleRuns(ctx, db.SQL, cutoff)
			if len(stale) != 1 || !stale[0].CancelRequested {
				t.Fatalf("stale runs %+v", stale)
			}
			if ok, err := storage.FailStale(ctx, db.SQL, stale[0], storage.Cancelled, cutoff, now, "cancelled by request"); err != nil || !ok {
				t.Fatalf("end stale run: %v %v", ok, err)
			}
			if r, _ := storage.GetRun(ctx, db.SQL, "r"); r.State != storage.Cancelled {
				t.Fatalf("run is %s", r.State)
			}
		})
	}
}
