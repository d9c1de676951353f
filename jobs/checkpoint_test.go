package jobs

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"eddy/hdf5io"
	"eddy/pde/navierstokes"
	"eddy/storage"
)

// newCheckpointingService starts a one-worker service on dbURL and dataDir that
// saves a checkpoint whenever a kind offers one.
func newCheckpointingService(t *testing.T, dbURL, dataDir string) (*Service, *storage.DB) {
	return newTestService(t, dbURL, dataDir, func(c *Config) {
		c.Workers, c.CheckpointEvery = 1, time.Nanosecond
	})
}

// A navier_stokes.simulate run stopped after a checkpoint continues, on the
// next worker, from the samples the checkpoint holds: its progress history
// says at which sample it resumed (> 0), its datasets are bit-identical to an
// uninterrupted simulation, and the checkpoint is gone once it succeeded.
func TestNavierStokesResumesFromCheckpoint(t *testing.T) {
	ctx := context.Background()
	dbURL, dataDir := "sqlite://"+t.TempDir()+"/eddy.db", t.TempDir()
	c := navierstokes.DefaultConfig()
	c.N, c.Samples, c.Scheme = 64, 8, navierstokes.SchemeRK4CN
	c.Dt, c.TWarmup, c.SnapshotDt, c.TEnd = 1e-3, 0, 0.1, 0.5
	params, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}

	svc, db := newCheckpointingService(t, dbURL, dataDir)
	id := submitKind(t, svc, "navier_stokes.simulate", string(params))
	ckpt := dataDir + "/" + checkpointKey(id)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		if r, _ := svc.Get(ctx, id); r != nil && r.State.Final() {
			t.Fatalf("run ended (%s) before any checkpoint was saved", r.State)
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint saved")
		}
	}
	// A shutdown hands the run back to the queue, as SIGTERM does.
	if err := svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := storage.GetRun(ctx, db.SQL, id); err != nil || r.State != storage.Queued {
		t.Fatalf("after the stop: %+v, %v", r, err)
	}
	db.Close()

	svc, db = newCheckpointingService(t, dbURL, dataDir)
	defer func() { svc.Stop(ctx); db.Close() }()
	r := waitState(t, svc, id, 2*time.Minute, storage.Succeeded, storage.Failed, storage.Cancelled)
	if r.State != storage.Succeeded {
		t.Fatalf("resumed run: %s (%q)", r.State, r.Error)
	}
	hist, err := storage.ProgressHistory(ctx, db.SQL, id)
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	re := regexp.MustCompile(`^resumed at sample (\d+) of 8`)
	for _, p := range hist {
		if m := re.FindStringSubmatch(p.Message); m != nil && p.Kind == storage.PointStage {
			at, _ = strconv.Atoi(m[1])
		}
	}
	if at <= 0 || at >= c.Samples {
		t.Fatalf("resumed at sample %d; history %+v", at, hist)
	}
	t.Logf("resumed at sample %d of %d", at, c.Samples)
	if _, err := os.Stat(ckpt); !os.IsNotExist(err) {
		t.Fatalf("checkpoint left after success: %v", err)
	}

	want, err := navierstokes.Simulate(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := hdf5io.Open(dataDir + "/" + r.ResultPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, w := range map[string][]float64{"vorticity": want.Vorticity, "t": want.T, "energy": want.Energy,
		"enstrophy": want.Enstrophy, "max_cfl": want.MaxCFL, "spectrum": want.Spectrum} {
		got, _, err := f.ReadFloat64(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(w) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(w))
		}
		for k := range w {
			if math.Float64bits(got[k]) != math.Float64bits(w[k]) {
				t.Fatalf("%s[%d] = %v, want %v (bit for bit)", name, k, got[k], w[k])
			}
		}
	}
}
