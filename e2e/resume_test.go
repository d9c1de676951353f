package e2e

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"eddy/hdf5io"
)

// resumableJob is a navier_stokes.simulate run of several independent
// samples, long enough for a worker to be killed between two of them.
const resumableJob = `{"kind":"navier_stokes.simulate","params":{"n":128,"samples":8,"scheme":"rk4_cn",` +
	`"dt":0.001,"t_warmup":0,"snapshot_dt":0.1,"t_end":1}}`

// A worker SIGKILLed in the middle of a long simulation loses only the work
// since its last checkpoint: the other worker resumes the run from it (its
// progress history says at which sample, > 0), and the result is
// bit-identical to an uninterrupted run of the same params.
func TestKilledWorkerResumesFromCheckpoint(t *testing.T) {
	d := postgresDeployment(t, "EDDY_CHECKPOINT_EVERY=1ms")
	c, workers, data, db := d.c, d.workers, d.data, d.db

	j := c.submit(t, resumableJob)
	ckpt := filepath.Join(data, "checkpoints", j.ID, "latest.h5")
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		if time.Now().After(deadline) || final(c.get(t, j.ID)) {
			t.Fatalf("no checkpoint while the job ran: %+v", c.get(t, j.ID))
		}
	}
	victim := workers[workerOf(t, db, j.ID)]
	if victim == nil {
		t.Fatal("job held by an unknown worker")
	}
	victim.cmd.Process.Kill()
	done := c.waitFor(t, j.ID, 3*time.Minute, final)
	if done.State != "succeeded" || done.Attempt != 2 {
		t.Fatalf("after SIGKILL: %+v (error %v)", done, done.Error)
	}

	code, b := c.req(t, "GET", "/v1/jobs/"+j.ID+"/progress", "")
	if code != 200 {
		t.Fatalf("progress: %d %s", code, b)
	}
	var hist struct {
		Progress []struct {
			Kind    string `json:"kind"`
			Message string `json:"message"`
		} `json:"progress"`
	}
	if err := json.Unmarshal(b, &hist); err != nil {
		t.Fatal(err)
	}
	at := -1
	re := regexp.MustCompile(`^resumed at sample (\d+) of 8`)
	for _, p := range hist.Progress {
		if m := re.FindStringSubmatch(p.Message); m != nil && p.Kind == "stage" {
			at, _ = strconv.Atoi(m[1])
		}
	}
	if at <= 0 || at >= 8 {
		t.Fatalf("resumed at sample %d; progress history %s", at, b)
	}
	t.Logf("resumed at sample %d of 8 on the other worker", at)
	if _, err := os.Stat(ckpt); !os.IsNotExist(err) {
		t.Errorf("checkpoint left after success: %v", err)
	}

	ref := c.submit(t, resumableJob)
	ref = c.waitFor(t, ref.ID, 3*time.Minute, final)
	if ref.State != "succeeded" {
		t.Fatalf("uninterrupted run: %+v", ref)
	}
	resumed, whole := c.download(t, done), c.download(t, ref)
	for _, name := range []string{"vorticity", "t", "energy", "enstrophy", "max_cfl", "wavenumber", "spectrum"} {
		a, sa, err := resumed.ReadFloat64(name)
		if err != nil {
			t.Fatal(err)
		}
		w, sw, err := whole.ReadFloat64(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(w) || len(sa) != len(sw) {
			t.Fatalf("%s: shape %v, uninterrupted %v", name, sa, sw)
		}
		for k := range w {
			if math.Float64bits(a[k]) != math.Float64bits(w[k]) {
				t.Fatalf("%s[%d] = %v, uninterrupted %v (bit for bit)", name, k, a[k], w[k])
			}
		}
	}
}

// download fetches a succeeded job's result and opens it.
func (c client) download(t testing.TB, j job) *hdf5io.File {
	t.Helper()
	code, body := c.req(t, "GET", j.Result.URL, "")
	if code != 200 {
		t.Fatalf("result of %s: %d", j.ID, code)
	}
	path := filepath.Join(t.TempDir(), j.ID+".h5")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
