package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"eddy/hdf5io"
	"eddy/storage"
)

// stfnoData is a small forced-turbulence data set: 6 trajectories of 24
// frames at 32², after a warm-up of one time unit.
const stfnoData = `{"n":32,"samples":6,"dt":0.002,"t_warmup":1,"snapshot_dt":0.2,"t_end":5.6,"seed":3}`

// stfnoTrain is a tiny network trained for 3 epochs on it: enough to check
// the plumbing (the package's own tests check the method's accuracy).
const stfnoTrain = `"width":6,"modes_x":4,"modes_y":4,"modes_t":3,"t_latent":6,"expansion":2,"t_in":6,"t_out":6,` +
	`"epochs":3,"batch":2,"val_fraction":0.3,"seed":7`

// A chain simulate → train → predict submitted in one burst runs to the end:
// the model records its split, predict defaults to the validation
// trajectories of the training data, and refinement lowers the estimator.
func TestSTFNOChain(t *testing.T) {
	ctx := context.Background()
	svc, _ := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", t.TempDir())
	defer svc.Stop(ctx)
	submit := func(kind, params string) *storage.Run {
		t.Helper()
		r, _, err := svc.Submit(ctx, SubmitRequest{Kind: kind, Params: json.RawMessage(params)})
		if err != nil {
			t.Fatalf("%s %s: %v", kind, params, err)
		}
		return r
	}
	sim := submit("navier_stokes.simulate", stfnoData)
	train := submit("stfno.train", fmt.Sprintf(`{"dataset":%q,%s}`, sim.ID, stfnoTrain))
	pred := submit("stfno.predict", fmt.Sprintf(`{"model":%q,"refine":true,"refine_iterations":20}`, train.ID))

	// References of the wrong kind are refused at their path.
	for _, c := range []struct{ kind, params, path string }{
		{"stfno.train", fmt.Sprintf(`{"dataset":%q,%s}`, train.ID, stfnoTrain), "/params/dataset"},
		{"stfno.predict", fmt.Sprintf(`{"model":%q}`, sim.ID), "/params/model"},
		{"stfno.predict", `{"model":"nope"}`, "/params/model"},
		{"stfno.train", fmt.Sprintf(`{"dataset":%q,"modes_t":9}`, sim.ID), "/params/modes_t"},
	} {
		_, _, err := svc.Submit(ctx, SubmitRequest{Kind: c.kind, Params: json.RawMessage(c.params)})
		v, ok := err.(ValidationError)
		if !ok || len(v) == 0 || v[0].Path != c.path {
			t.Errorf("%s %s: %v, want an error at %s", c.kind, c.params, err, c.path)
		}
	}

	r := waitState(t, svc, pred.ID, 4*time.Minute, storage.Succeeded, storage.Failed, storage.Cancelled)
	if r.State != storage.Succeeded {
		tr, _ := svc.Get(ctx, train.ID)
		t.Fatalf("predict %s: %s (train %s: %s)", r.State, r.Error, tr.State, tr.Error)
	}
	tr, err := svc.Get(ctx, train.ID)
	if err != nil {
		t.Fatal(err)
	}
	tm := tr.Result.Metrics
	t.Logf("train metrics %v", tm)
	if v, ok := tm["val_rel_l2"].(float64); !ok || !(v > 0 && v < 10) {
		t.Errorf("val_rel_l2 = %v", tm["val_rel_l2"])
	}
	m := r.Result.Metrics
	t.Logf("predict metrics %v", m)
	before, _ := m["estimator_before"].(float64)
	after, _ := m["estimator_after"].(float64)
	if !(after < before) || before <= 0 {
		t.Errorf("estimator %v → %v: refinement did not lower it", before, after)
	}
	for _, name := range []string{"rel_l2_before", "rel_l2_after", "persistence_rel_l2", "estimator_truth", "estimator_repo_before"} {
		if v, ok := m[name].(float64); !ok || math.IsNaN(v) || v < 0 {
			t.Errorf("metric %s = %v", name, m[name])
		}
	}

	local, err := storage.Fetch(context.Background(), svc.artifacts, r.ResultPath)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	f, err := hdf5io.Open(local.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, _, err := f.ReadInt64("samples")
	if err != nil || fmt.Sprint(samples) != "[4 5]" {
		t.Errorf("samples %v (%v), want the validation split [4 5]", samples, err)
	}
	_, shape, err := f.ReadFloat64("prediction")
	if err != nil || fmt.Sprint(shape) != "[2 6 32 32]" {
		t.Errorf("prediction shape %v (%v)", shape, err)
	}
	loss, shape, err := f.ReadFloat64("refine_estimator")
	if err != nil || fmt.Sprint(shape) != "[2 21]" || !(loss[20] < loss[0]) {
		t.Errorf("refine_estimator shape %v, first %v, last %v (%v)", shape, loss[0], loss[len(loss)-1], err)
	}
}

// An uploaded data set whose trajectories are too short for the windows is
// refused at submit, at the param that does not fit.
func TestSTFNOTrainChecksUploadShape(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir, func(c *Config) { c.Workers = 0 })
	defer svc.Stop(ctx)
	src := t.TempDir() + "/v.h5"
	w, err := hdf5io.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("vorticity", make([]float64, 4*12*16*16), []int{4, 12, 16, 16}, "sample,t,y,x", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	addUpload(t, db, dataDir, "traj", src, []storage.Dataset{{Name: "vorticity", Shape: []int{4, 12, 16, 16}, Dtype: "float64"}})
	for params, path := range map[string]string{
		`{"dataset":"traj","t_in":10,"t_out":10}`:                         "/params/t_out",
		`{"dataset":"traj","t_in":6,"t_out":6,"modes_x":12}`:              "/params/modes_x",
		`{"dataset":"traj","t_in":6,"t_out":6,"train_resolution":32}`:     "/params/train_resolution",
		`{"dataset":"traj","t_in":4,"t_out":4,"val_start":6,"modes_t":3}`: "/params/val_start",
	} {
		_, _, err := svc.Submit(ctx, SubmitRequest{Kind: "stfno.train", Params: json.RawMessage(params)})
		v, ok := err.(ValidationError)
		if !ok || len(v) == 0 || !strings.HasPrefix(v[0].Path, path) {
			t.Errorf("%s: %v, want an error at %s", params, err, path)
		}
	}
	if _, _, err := svc.Submit(ctx, SubmitRequest{Kind: "stfno.train", Params: json.RawMessage(
		`{"dataset":"traj","t_in":6,"t_out":6,"modes_x":4,"modes_y":4,"modes_t":3}`)}); err != nil {
		t.Errorf("a fitting upload: %v", err)
	}
}
