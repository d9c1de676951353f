package jobs

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/storage"
)

// A result that does not fit the data folder fails the run at once, with a
// message that says so and names no server path; no partial file is left,
// and the worker goes on with the next job.
func TestFullDataFolderFailsTheRunCleanly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small data folder needs root")
	}
	data := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", data).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", data).Run() })
	ctx := context.Background()
	svc, _ := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", data)
	defer svc.Stop(ctx)

	// 2 × 21 frames of 128² float64: 5.5 MB of vorticity.
	r, _, err := svc.Submit(ctx, SubmitRequest{Kind: "navier_stokes.simulate", Params: json.RawMessage(
		`{"n":128,"samples":2,"dt":0.004,"t_end":0.4,"snapshot_dt":0.02}`)})
	if err != nil {
		t.Fatal(err)
	}
	r = waitState(t, svc, r.ID, 2*time.Minute, storage.Succeeded, storage.Failed)
	if r.State != storage.Failed || r.Attempt != 1 {
		t.Fatalf("run %s on attempt %d, want failed on the first: %s", r.State, r.Attempt, r.Error)
	}
	if !strings.Contains(r.Error, "no space left") || strings.Contains(r.Error, data) {
		t.Errorf("error %q", r.Error)
	}
	t.Logf("error: %s", r.Error)
	filepath.Walk(filepath.Join(data, "results"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			t.Errorf("left behind: %s (%d bytes)", p, info.Size())
		}
		return nil
	})

	ok, _, err := svc.Submit(ctx, SubmitRequest{Kind: "poisson.solve", Params: json.RawMessage(`{"n":16}`)})
	if err != nil {
		t.Fatal(err)
	}
	if ok = waitState(t, svc, ok.ID, time.Minute, storage.Succeeded, storage.Failed); ok.State != storage.Succeeded {
		t.Fatalf("the next job: %s %s", ok.State, ok.Error)
	}
}
