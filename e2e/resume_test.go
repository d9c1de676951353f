package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"eddy/hdf5io"
	"eddy/internal/h5test"
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
	c := d.c

	j := c.submit(t, resumableJob)
	ckpt := d.waitForCheckpoint(t, j.ID)
	done := d.killHolder(t, j.ID)

	at := c.resumedAt(t, j.ID, `^resumed at sample (\d+) of 8`)
	if at <= 0 || at >= 8 {
		t.Fatalf("resumed at sample %d", at)
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
	h5test.SameDatasets(t, c.download(t, done), c.download(t, ref))
}

// trainingJob is an stfno.train run of many short epochs on a small data
// set, long enough for a worker to be killed between two of them.
const trainingJob = `{"kind":"stfno.train","params":{"dataset":%q,"width":6,"modes_x":4,"modes_y":4,"modes_t":3,` +
	`"t_latent":6,"expansion":2,"t_in":6,"t_out":6,"epochs":40,"batch":2,"val_fraction":0.3,"seed":7}}`

// A training run SIGKILLed mid-way resumes on the other worker from the
// epoch of its last checkpoint (> 0), and the model it ends with is
// bit-identical to an uninterrupted run's. While it trains, a solve
// submitted afterwards starts at once: training has its own queue.
func TestKilledTrainingResumesFromCheckpoint(t *testing.T) {
	d := postgresDeployment(t, "EDDY_CHECKPOINT_EVERY=1ms")
	c := d.c

	// The data set and the training, submitted in one burst.
	sim := c.submit(t, `{"kind":"navier_stokes.simulate","params":{"n":32,"samples":6,"dt":0.002,"t_warmup":1,`+
		`"snapshot_dt":0.2,"t_end":5.6,"seed":3}}`)
	j := c.submit(t, fmt.Sprintf(trainingJob, sim.ID))
	d.waitForCheckpoint(t, j.ID)
	solve := c.submit(t, `{"kind":"poisson.solve","params":{"dim":2,"n":64}}`)
	solve = c.waitFor(t, solve.ID, time.Minute, final)
	if solve.State != "succeeded" {
		t.Fatalf("a solve beside the training: %+v", solve)
	}
	if tr := c.get(t, j.ID); tr.State != "running" {
		t.Logf("the training was %s when the solve ended (the solve did not wait for it in any case)", tr.State)
	}

	done := d.killHolder(t, j.ID)
	at := c.resumedAt(t, j.ID, `^resumed at epoch (\d+) of 40`)
	if at <= 0 || at >= 40 {
		t.Fatalf("resumed at epoch %d", at)
	}
	if got := done.Result.Metrics["resumed_epoch"]; got != float64(at) {
		t.Errorf("metric resumed_epoch %v, progress says %d", got, at)
	}
	t.Logf("resumed at epoch %d of 40 on the other worker", at)

	ref := c.submit(t, fmt.Sprintf(trainingJob, sim.ID))
	ref = c.waitFor(t, ref.ID, 3*time.Minute, final)
	if ref.State != "succeeded" {
		t.Fatalf("uninterrupted run: %+v", ref)
	}
	h5test.SameDatasets(t, c.download(t, done), c.download(t, ref))
}

// waitForCheckpoint waits until the running job id has saved a checkpoint
// and returns its file.
func (d pgDeployment) waitForCheckpoint(t testing.TB, id string) string {
	t.Helper()
	ckpt := filepath.Join(d.data, "checkpoints", id, "latest.h5")
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ckpt); err == nil {
			return ckpt
		}
		if time.Now().After(deadline) || final(d.c.get(t, id)) {
			t.Fatalf("no checkpoint while the job ran: %+v", d.c.get(t, id))
		}
	}
}

// killHolder SIGKILLs the worker holding job id and waits for the job to
// succeed on its second attempt, on the other worker.
func (d pgDeployment) killHolder(t testing.TB, id string) job {
	t.Helper()
	victim := d.workers[workerOf(t, d.db, id)]
	if victim == nil {
		t.Fatal("job held by an unknown worker")
	}
	victim.cmd.Process.Kill()
	done := d.c.waitFor(t, id, 3*time.Minute, final)
	if done.State != "succeeded" || done.Attempt != 2 {
		t.Fatalf("after SIGKILL: %+v (error %v)", done, done.Error)
	}
	return done
}

// resumedAt returns the number in the last stage message of a run's
// progress history that matches pattern (one group), or −1.
func (c client) resumedAt(t testing.TB, id, pattern string) int {
	t.Helper()
	code, b := c.req(t, "GET", "/v1/jobs/"+id+"/progress", "")
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
	re := regexp.MustCompile(pattern)
	for _, p := range hist.Progress {
		if m := re.FindStringSubmatch(p.Message); m != nil && p.Kind == "stage" {
			at, _ = strconv.Atoi(m[1])
		}
	}
	if at < 0 {
		t.Logf("progress history %s", b)
	}
	return at
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
