package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"eddy/field"
	"eddy/storage"
)

func TestDecodeAndValidatePoissonParams(t *testing.T) {
	k, ok := Lookup("poisson.solve")
	if !ok {
		t.Fatal("poisson.solve not registered")
	}
	norm, p, err := k.Decode(json.RawMessage(`{"n": 32}`))
	if err != nil {
		t.Fatal(err)
	}
	pp := p.(*PoissonParams)
	if pp.N != 32 || pp.Dim != 2 || pp.Tol != 1e-10 || pp.Method != "cg" {
		t.Fatalf("defaults not applied: %+v", pp)
	}
	var back map[string]any
	json.Unmarshal(norm, &back)
	if back["dim"] != 2.0 || back["method"] != "cg" {
		t.Fatalf("normalised params %s", norm)
	}
	for raw, path := range map[string]string{
		`{"n": 1}`:              "/params/n",
		`{"n": 9000}`:           "/params/n",
		`{"tol": 0}`:            "/params/tol",
		`{"tol": 2}`:            "/params/tol",
		`{"max_iter": -1}`:      "/params/max_iter",
		`{"method": "sor"}`:     "/params/method",
		`{"dim": 1}`:            "/params/dim",
		`{"n": true}`:           "/params/n",
		`{"bogus": 1}`:          "/params/bogus",
		`{"dim": 3, "n": 4096}`: "/params/n",
	} {
		_, _, err := k.Decode(json.RawMessage(raw))
		verr, ok := err.(ValidationError)
		if !ok || len(verr) == 0 || verr[0].Path != path {
			t.Errorf("%s: got %v, want an error at %s", raw, err, path)
		}
	}
	if _, _, err := k.Decode(nil); err != nil {
		t.Errorf("absent params should mean defaults: %v", err)
	}
}

func TestSchemaFromStruct(t *testing.T) {
	s := field.Schema(&PoissonParams{Dim: 2, N: 64, Tol: 1e-10, Method: "cg"})
	props := s["properties"].(map[string]any)
	dim := props["dim"].(map[string]any)
	if dim["type"] != "integer" || dim["default"] != 2 {
		t.Fatalf("dim schema %+v", dim)
	}
	if e := dim["enum"].([]any); len(e) != 2 || e[0] != 2 || e[1] != 3 {
		t.Fatalf("dim enum %+v", dim["enum"])
	}
	if m := props["method"].(map[string]any); m["type"] != "string" || m["default"] != "cg" {
		t.Fatalf("method schema %+v", m)
	}
	if n := props["n"].(map[string]any); n["minimum"] != 2.0 || n["maximum"] != 8192.0 {
		t.Fatalf("n schema %+v", n)
	}
	if s["additionalProperties"] != false {
		t.Fatal("schema admits unknown params")
	}
}

// newTestService starts a service with two workers on dbURL and dataDir; opts
// adjust its configuration.
func newTestService(t *testing.T, dbURL, dataDir string, opts ...func(*Config)) (*Service, *storage.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	art, err := storage.NewDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := Config{DB: db, Artifacts: art, Workers: 2, FetchPollInterval: 50 * time.Millisecond, Logger: quiet}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return svc, db
}

func waitState(t *testing.T, svc *Service, id string, timeout time.Duration, states ...storage.State) *storage.Run {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r, err := svc.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if r.State == s {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %s after %v, want %v (error %q)", id, r.State, timeout, states, r.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A run whose heartbeat went stale is taken over: the first worker sees its lease
// gone, stops and discards its attempt; the new lease's attempt produces the result.
func TestStaleRunIsTakenOverAndOldAttemptDiscarded(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	run, _, err := svc.Submit(ctx, SubmitRequest{Kind: "poisson.solve",
		Params: json.RawMessage(`{"n": 512, "tol": 1e-12, "max_iter": 100000}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, svc, run.ID, 30*time.Second, storage.Running)
	// Make the worker look dead, and reap as another process would. A heartbeat
	// may land between the two statements; then try again.
	for try := 0; ; try++ {
		if _, err := db.SQL.ExecContext(ctx, `UPDATE runs SET heartbeat_at = 0 WHERE id = $1`, run.ID); err != nil {
			t.Fatal(err)
		}
		if err := svc.reap(ctx); err != nil {
			t.Fatal(err)
		}
		r, _ := svc.Get(ctx, run.ID)
		if r.Lease == 2 {
			break
		}
		if try == 5 {
			t.Fatalf("lease after reap = %d, want 2", r.Lease)
		}
	}
	final := waitState(t, svc, run.ID, 60*time.Second, storage.Succeeded, storage.Failed)
	if final.State != storage.Succeeded || final.Attempt != 2 || final.Lease != 2 {
		t.Fatalf("final run: state %s attempt %d lease %d error %q", final.State, final.Attempt, final.Lease, final.Error)
	}
	// The first worker learns at its next heartbeat that the run moved on, stops
	// and removes its unfinished file: wait for that.
	deadline := time.Now().Add(60 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(dataDir, "results", run.ID, "*"))
		if len(files) == 1 && filepath.Base(files[0]) == filepath.Base(final.ResultPath) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("result files %v, want only %s", files, final.ResultPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stopping a worker hands its running job back to the queue without using up an
// attempt; a new worker finishes it.
func TestStopRequeuesRunningJob(t *testing.T) {
	ctx := context.Background()
	dbURL, dataDir := "sqlite://"+t.TempDir()+"/eddy.db", t.TempDir()
	svc, db := newTestService(t, dbURL, dataDir)
	run, _, err := svc.Submit(ctx, SubmitRequest{Kind: "poisson.solve",
		Params: json.RawMessage(`{"n": 512, "tol": 1e-12, "max_iter": 100000}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, svc, run.ID, 30*time.Second, storage.Running)
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ := svc.Get(ctx, run.ID)
	if r.State != storage.Queued {
		t.Fatalf("after stop: %s (%q)", r.State, r.Error)
	}
	db.Close()
	svc2, _ := newTestService(t, dbURL, dataDir)
	defer svc2.Stop(ctx)
	final := waitState(t, svc2, run.ID, 60*time.Second, storage.Succeeded, storage.Failed)
	if final.State != storage.Succeeded || final.Attempt != 1 {
		t.Fatalf("final: %s attempt %d %q", final.State, final.Attempt, final.Error)
	}
}
