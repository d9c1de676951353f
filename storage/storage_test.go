package storage_test

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"
	"time"

	"eddy/internal/pgtest"
	"eddy/storage"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// dialects returns a freshly opened, not yet migrated database of each dialect.
func dialects(t *testing.T) map[string]string {
	return map[string]string{
		"sqlite":   "sqlite://" + t.TempDir() + "/eddy.db",
		"postgres": "",
	}
}

func open(t *testing.T, name, url string) *storage.DB {
	t.Helper()
	if name == "postgres" && url == "" {
		url = pgtest.NewDatabase(t)
	}
	db, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrateBothDialectsConcurrently(t *testing.T) {
	for name, url := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" {
				url = pgtest.NewDatabase(t)
			}
			ctx := context.Background()
			// Three processes' worth of handles migrate at once, then once more.
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				db := open(t, name, url)
				wg.Add(1)
				go func() { defer wg.Done(); errs[i] = db.Migrate(ctx) }()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("migration %d: %v", i, err)
				}
			}
			db := open(t, name, url)
			if err := db.Migrate(ctx); err != nil {
				t.Fatalf("second migration: %v", err)
			}
			for _, table := range []string{"runs", "uploads", "river_job", "river_migration"} {
				if _, err := db.SQL.ExecContext(ctx, "SELECT COUNT(*) FROM "+table); err != nil {
					t.Errorf("table %s missing: %v", table, err)
				}
			}
		})
	}
}

func TestRunLeaseFencing(t *testing.T) {
	for name, url := range dialects(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t, name, url)
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			r := &storage.Run{ID: "r1", Kind: "k", State: storage.Queued, Params: json.RawMessage(`{"a":1}`),
				Lease: 1, MaxAttempts: 3, CreatedAt: now, IdempotencyKey: "key-1"}
			if err := storage.InsertRun(ctx, db.SQL, r); err != nil {
				t.Fatal(err)
			}
			if err := storage.InsertRun(ctx, db.SQL, &storage.Run{ID: "r2", Kind: "k", State: storage.Queued,
				Params: json.RawMessage(`{}`), Lease: 1, MaxAttempts: 1, CreatedAt: now, IdempotencyKey: "key-1"}); err == nil {
				t.Fatal("duplicate idempotency key accepted")
			}
			if ok, err := storage.ClaimRun(ctx, db.SQL, "r1", 2, "w1", now); err != nil || ok {
				t.Fatalf("claim under a wrong lease: ok=%v err=%v", ok, err)
			}
			if ok, err := storage.ClaimRun(ctx, db.SQL, "r1", 1, "w1", now); err != nil || !ok {
				t.Fatalf("claim: ok=%v err=%v", ok, err)
			}
			if held, cancel, err := storage.Heartbeat(ctx, db.SQL, "r1", 1, "w1", now.Add(time.Second)); err != nil || !held || cancel {
				t.Fatalf("heartbeat: held=%v cancel=%v err=%v", held, cancel, err)
			}
			// The worker goes silent; a reaper moves the run to lease 2.
			cutoff := now.Add(5 * time.Second)
			stale, err := storage.StaleRuns(ctx, db.SQL, cutoff)
			if err != nil || len(stale) != 1 || stale[0].Lease != 1 || stale[0].Attempt != 1 {
				t.Fatalf("stale runs: %+v, %v", stale, err)
			}
			if ok, err := storage.Requeue(ctx, db.SQL, stale[0], cutoff, cutoff, "lost"); err != nil || !ok {
				t.Fatalf("requeue: ok=%v err=%v", ok, err)
			}
			if ok, _ := storage.Requeue(ctx, db.SQL, stale[0], cutoff, cutoff, "lost"); ok {
				t.Fatal("a second reaper re-queued the same run again")
			}
			// The old worker wakes up: its heartbeat and its result are refused.
			if held, _, _ := storage.Heartbeat(ctx, db.SQL, "r1", 1, "w1", cutoff); held {
				t.Fatal("late heartbeat of the old lease accepted")
			}
			if ok, _ := storage.ClaimRun(ctx, db.SQL, "r1", 2, "w2", cutoff); !ok {
				t.Fatal("new lease not claimable")
			}
			if ok, _ := storage.Finish(ctx, db.SQL, "r1", 1, storage.Succeeded, "", &storage.Result{Bytes: 1}, "old.h5", cutoff); ok {
				t.Fatal("old lease finished the run")
			}
			res := &storage.Result{Bytes: 10, SHA256: "ab", Datasets: []string{"u"}, Metrics: map[string]any{"x": 1.5}}
			if ok, err := storage.Finish(ctx, db.SQL, "r1", 2, storage.Succeeded, "", res, "new.h5", cutoff); err != nil || !ok {
				t.Fatalf("finish: ok=%v err=%v", ok, err)
			}
			got, err := storage.GetRun(ctx, db.SQL, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if got.State != storage.Succeeded || got.ResultPath != "new.h5" || got.Attempt != 2 || got.Lease != 2 ||
				got.Result.Metrics["x"] != 1.5 || got.FinishedAt.IsZero() {
				t.Fatalf("final run wrong: %+v result %+v", got, got.Result)
			}
			if ok, _ := storage.Finish(ctx, db.SQL, "r1", 2, storage.Failed, "x", nil, "", cutoff); ok {
				t.Fatal("a finished run was finished again")
			}
		})
	}
}

func TestListRunsPaging(t *testing.T) {
	ctx := context.Background()
	db := open(t, "sqlite", "sqlite://"+t.TempDir()+"/eddy.db")
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, id := range []string{"a1", "a2", "a3", "a4", "a5"} {
		kind := "even"
		if i%2 == 0 {
			kind = "odd"
		}
		if err := storage.InsertRun(ctx, db.SQL, &storage.Run{ID: id, Kind: kind, State: storage.Queued,
			Params: json.RawMessage(`{}`), Lease: 1, MaxAttempts: 1, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	before := ""
	for {
		page, err := storage.ListRuns(ctx, db.SQL, storage.RunFilter{Kind: "odd", Limit: 2, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			seen = append(seen, r.ID)
		}
		if len(page) < 2 {
			break
		}
		before = page[len(page)-1].ID
	}
	if want := "a5,a3,a1"; join(seen) != want {
		t.Fatalf("paging gave %s, want %s", join(seen), want)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestArtifactKeysStayInside(t *testing.T) {
	d, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "../x", "/etc/passwd", "a/../../x"} {
		if _, err := d.LocalPath(bad); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
	if _, err := d.LocalPath("results/a/b.h5"); err != nil {
		t.Fatal(err)
	}
}
