package storage_test

import (
	"context"
	"testing"
	"time"

	"eddy/storage"
)

// The progress history takes entries only from the lease holder of a running
// run, keeps them in order, thins every other progress update (never a stage
// or warning), and goes with its run.
func TestProgressHistoryRows(t *testing.T) {
	for name, url := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := migrated(t, name, url)
			now := time.Now()
			insertQueued(t, db, "r1", now)
			if _, err := storage.ClaimRun(ctx, db.SQL, "r1", 1, "w", now); err != nil {
				t.Fatal(err)
			}
			add := func(lease, seq int64, kind string, f float64) {
				t.Helper()
				p := storage.ProgressPoint{Seq: seq, At: now.Add(time.Duration(seq) * time.Millisecond), Kind: kind,
					Fraction: f, Message: kind, Metrics: map[string]float64{"loss": f}}
				if err := storage.AppendProgress(ctx, db.SQL, "r1", lease, p); err != nil {
					t.Fatal(err)
				}
			}
			add(1, 0, storage.PointStage, 0)
			for i := int64(1); i <= 6; i++ {
				add(1, i, storage.PointProgress, float64(i)/6)
			}
			add(1, 7, storage.PointWarning, 1)
			add(2, 8, storage.PointProgress, 1) // not the lease holder
			add(1, 7, storage.PointProgress, 1) // seq taken
			h, err := storage.ProgressHistory(ctx, db.Read, "r1")
			if err != nil || len(h) != 8 || h[7].Kind != storage.PointWarning || h[3].Metrics["loss"] != 0.5 {
				t.Fatalf("history %+v, %v", h, err)
			}
			if n, err := storage.ThinProgress(ctx, db.SQL, "r1"); err != nil || n != 3 {
				t.Fatalf("thinned %d, %v; want 3", n, err)
			}
			h, _ = storage.ProgressHistory(ctx, db.Read, "r1")
			var seqs []int64
			for _, p := range h {
				seqs = append(seqs, p.Seq)
			}
			if want := []int64{0, 1, 3, 5, 7}; len(seqs) != len(want) || seqs[2] != 3 || seqs[3] != 5 {
				t.Fatalf("after thinning seqs %v, want %v", seqs, want)
			}
			if _, err := db.SQL.ExecContext(ctx, `DELETE FROM runs WHERE id = 'r1'`); err != nil {
				t.Fatal(err)
			}
			var left int
			if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_progress`).Scan(&left); err != nil || left != 0 {
				t.Errorf("%d history rows left after deleting the run (%v)", left, err)
			}
			if _, err := storage.ProgressHistory(ctx, db.Read, "r1"); err != storage.ErrNotFound {
				t.Errorf("history of a deleted run: %v, want ErrNotFound", err)
			}
		})
	}
}
