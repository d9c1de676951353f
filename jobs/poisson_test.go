package jobs

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/hdf5io"
	"eddy/storage"
)

// A compare run on the smoke scene: every method reaches tol by its true
// residual, each has its residual history, and multigrid needs far fewer
// iterations than CG (measured at 2-D 48², tol 1e-8: CG 273, IC(0) 83,
// MIC(0) 48, MG 7; asserted MG < MIC(0) < IC(0) < CG).
func TestPoissonCompareSmoke(t *testing.T) {
	r, f := runKindToEnd(t, "poisson.solve",
		`{"n": 48, "scene": "smoke", "rhs": "random", "seed": 3, "tol": 1e-8, "compare": ["cg", "pcg-ic0", "pcg-mic0", "mg"]}`)
	m := r.Result.Metrics
	its := map[string]float64{}
	for _, meth := range []string{"cg", "pcg-ic0", "pcg-mic0", "mg"} {
		rel, _ := m[meth+".rel_residual"].(float64)
		it, _ := m[meth+".iterations"].(float64)
		its[meth] = it
		if !(rel > 0 && rel <= 1e-8) {
			t.Errorf("%s: true relative residual %v, want ≤ 1e-8", meth, m[meth+".rel_residual"])
		}
		h, shape, err := f.ReadFloat64("residual_history/" + meth)
		if err != nil || len(shape) != 1 || float64(len(h)) != it+1 {
			t.Errorf("%s: history of %d entries for %v iterations: %v", meth, len(h), it, err)
		}
	}
	t.Logf("iterations %v", its)
	if !(its["mg"] < its["pcg-ic0"] && its["pcg-ic0"] < its["cg"] && its["pcg-mic0"] < its["pcg-ic0"]) {
		t.Errorf("iterations %v, want mg < mic0 < ic0 < cg", its)
	}
	if m["converged"] != true {
		t.Errorf("converged = %v", m["converged"])
	}
	labels, shape, err := f.ReadUint8("labels")
	if err != nil || len(shape) != 2 || len(labels) != 48*48 {
		t.Fatalf("labels %v: %v", shape, err)
	}
}

// A single method on a 3-D scene with a manufactured solution: the error
// against x* is at the level of the tolerance (the system is solved, there is
// no discretisation error in b = A x*), and the metrics are documented.
func TestPoissonSceneManufactured3D(t *testing.T) {
	r, f := runKindToEnd(t, "poisson.solve",
		`{"dim": 3, "n": 16, "scene": "random", "scene_seed": 7, "rhs": "manufactured", "method": "mg", "tol": 1e-10}`)
	m := r.Result.Metrics
	if rel, _ := m["rel_residual"].(float64); !(rel > 0 && rel <= 1e-10) {
		t.Errorf("rel_residual %v", m["rel_residual"])
	}
	// ‖e‖/‖x*‖ ≤ κ·tol; κ ≈ 100 at 16³.
	if e, _ := m["error_l2"].(float64); !(e < 1e-7) {
		t.Errorf("error_l2 %v", m["error_l2"])
	}
	checkMetricDocs(t, r, f)
}

// Params that do not fit together are refused at submit.
func TestPoissonParamsRefused(t *testing.T) {
	for raw, path := range map[string]string{
		`{"rhs": "random"}`:                         "/params/rhs",
		`{"scene": "upload"}`:                       "/params/labels",
		`{"scene": "smoke", "rhs": "upload"}`:       "/params/rhs_upload",
		`{"compare": ["cg", "cg"]}`:                 "/params/compare/1",
		`{"compare": ["cg", "amg"]}`:                "/params/compare/1",
		`{"compare": ["cg", "dcdm"]}`:               "/params/model",
		`{"method": "dcdm", "n": 33, "model": "x"}`: "/params/n",
		`{"scene": "smoke", "method": "pcg-ic1"}`:   "/params/method",
	} {
		if p := decodeErrPaths(t, "poisson.solve", raw); len(p) == 0 || !strings.HasPrefix(p[0], path+" ") {
			t.Errorf("%s: errors at %v, want %s", raw, p, path)
		}
	}
}

// A solve stopped by max_iter before tol says so in its last progress
// message and in a warning, and reports converged = false.
func TestPoissonStoppedByMaxIter(t *testing.T) {
	r, _ := runKindToEnd(t, "poisson.solve", `{"n": 32, "scene": "smoke", "rhs": "random", "tol": 1e-10, "max_iter": 5, "method": "cg"}`)
	if r.Result.Metrics["converged"] != false {
		t.Errorf("converged = %v", r.Result.Metrics["converged"])
	}
	if !strings.HasPrefix(r.Progress.Message, "stopped after 5 iterations") {
		t.Errorf("last progress message %q", r.Progress.Message)
	}
	if w := strings.Join(r.Result.Warnings, "\n"); !strings.Contains(w, "cg did not converge") {
		t.Errorf("warnings %q", r.Result.Warnings)
	}
}

// An uploaded right-hand side with a non-finite value fails the job at its
// first attempt, naming the cell: the error would repeat (before, the solver
// refused ‖b‖ = NaN on each of the kind's attempts).
func TestPoissonUploadedRHSNotFinite(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	b := make([]float64, 16*16)
	for i := range b {
		b[i] = 1
	}
	b[3*16+4] = math.NaN()
	path := writeH5(t, func(w *hdf5io.Writer) error { return w.WriteFloat64("rhs", b, []int{16, 16}, "", "") })
	addUploadAs(t, db, dataDir, "rhs", path, "hdf5", []storage.Dataset{{Name: "rhs", Shape: []int{16, 16}, Dtype: "float64"}})
	id := submitKind(t, svc, "poisson.solve", `{"n": 16, "scene": "box", "rhs": "upload", "rhs_upload": "rhs"}`)
	r := waitState(t, svc, id, time.Minute, storage.Succeeded, storage.Failed)
	if r.State != storage.Failed || r.Attempt != 1 || !strings.Contains(r.Error, "rhs_upload: the value at cell 52 is NaN") {
		t.Errorf("state %s at attempt %d, error %q", r.State, r.Attempt, r.Error)
	}
}

// Labels of scene upload may come in any numeric dtype (NumPy's int64, say);
// a value other than 0, 1 or 2 fails the job at once, naming the cell.
func TestPoissonUploadedLabelsAnyDtype(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	const n = 16
	labels := make([]int64, n*n)
	for x := range n {
		labels[(n-1)*n+x] = 2 // air along the top row (y = n − 1)
	}
	half := make([]float64, n*n)
	for i, l := range labels {
		half[i] = float64(l)
	}
	half[5] = 1.5
	path := writeH5(t, func(w *hdf5io.Writer) error { return w.WriteInt64("labels", labels, []int{n, n}, "", "") })
	addUploadAs(t, db, dataDir, "int64", path, "hdf5", []storage.Dataset{{Name: "labels", Shape: []int{n, n}, Dtype: "int64"}})
	path = writeH5(t, func(w *hdf5io.Writer) error { return w.WriteFloat64("labels", half, []int{n, n}, "", "") })
	addUploadAs(t, db, dataDir, "half", path, "hdf5", []storage.Dataset{{Name: "labels", Shape: []int{n, n}, Dtype: "float64"}})
	id := submitKind(t, svc, "poisson.solve", `{"n": 16, "scene": "upload", "labels": "int64", "rhs": "random"}`)
	if r := waitState(t, svc, id, time.Minute, storage.Succeeded, storage.Failed); r.State != storage.Succeeded {
		t.Errorf("int64 labels: %s, %q", r.State, r.Error)
	}
	id = submitKind(t, svc, "poisson.solve", `{"n": 16, "scene": "upload", "labels": "half", "rhs": "random"}`)
	r := waitState(t, svc, id, time.Minute, storage.Succeeded, storage.Failed)
	if r.State != storage.Failed || r.Attempt != 1 || !strings.Contains(r.Error, "dataset labels: value 1.5 at cell 5") {
		t.Errorf("label 1.5: state %s at attempt %d, error %q", r.State, r.Attempt, r.Error)
	}
}

// writeH5 writes an HDF5 file in a temporary directory with write and
// returns its path.
func writeH5(t *testing.T, write func(*hdf5io.Writer) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.h5")
	w, err := hdf5io.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Uploads of scene upload and rhs upload are checked at submit: the dataset
// exists and holds a value per cell of the grid.
func TestPoissonUploadsCheckedAtSubmit(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	path := writeH5(t, func(w *hdf5io.Writer) error {
		return w.WriteFloat64("rhs", make([]float64, 17*16), []int{17, 16}, "", "")
	})
	addUploadAs(t, db, dataDir, "odd", path, "hdf5", []storage.Dataset{{Name: "rhs", Shape: []int{17, 16}, Dtype: "float64"}})
	for params, want := range map[string]string{
		`{"n": 16, "scene": "box", "rhs": "upload", "rhs_upload": "odd"}`:                         "/params/rhs_upload: dataset rhs has shape [17 16], 272 values; the grid has 256 cells",
		`{"n": 16, "scene": "box", "rhs": "upload", "rhs_upload": "odd", "rhs_dataset": "b"}`:     `/params/rhs_upload: upload odd has no dataset "b"`,
		`{"n": 16, "scene": "upload", "labels": "odd", "labels_dataset": "rhs", "rhs": "random"}`: "/params/labels: dataset rhs has shape [17 16]",
	} {
		_, _, err := svc.Submit(ctx, SubmitRequest{Kind: "poisson.solve", Params: json.RawMessage(params)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", params, err, want)
		}
	}
}
