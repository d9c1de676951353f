package api_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"eddy/hyperspectral"
	"eddy/internal/h5test"
	"eddy/jobs"
)

// cubeUpload uploads a synthetic 10-band, 4×5-pixel cube of three endmembers
// as the HDF5 dataset Y (bands×pixels) and returns its id and SHA-256.
func (e *env) cubeUpload(t *testing.T) (id, sha string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	m := mat.NewDense(10, 3, nil)
	for i := range 10 {
		for j := range 3 {
			m.Set(i, j, 0.1+rng.Float64())
		}
	}
	y, _ := hyperspectral.Synthetic(m, 4, 5, 0.2, 40, 3)
	return e.uploadArrays(t, map[string]array{"Y": {mat.DenseCopyOf(y).RawMatrix().Data, []int{10, 20}}})
}

// lineageOf reads and decodes the root attribute lineage of a job's result.
func (e *env) lineageOf(t *testing.T, id string) jobs.Lineage {
	t.Helper()
	text, err := e.resultFile(t, id).AttrString("/", "lineage")
	if err != nil {
		t.Fatalf("job %s: root attribute lineage: %v", id, err)
	}
	var l jobs.Lineage
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		t.Fatalf("lineage %s: %v", text, err)
	}
	return l
}

// succeeded submits body and waits for the job to succeed.
func (e *env) succeeded(t *testing.T, body string) string {
	t.Helper()
	j := e.wait(t, e.mustSubmit(t, body), 5*time.Minute, "succeeded", "failed", "cancelled")
	if j.State != "succeeded" {
		t.Fatalf("job %s: %s, error %v", body, j.State, *j.Error)
	}
	return j.ID
}

// checkEnvironment checks the environment part of a lineage against this
// process, which runs the workers.
func checkEnvironment(t *testing.T, env jobs.LineageEnv, seed *uint64) {
	t.Helper()
	if env.EddyVersion != jobs.Version || env.GoVersion != runtime.Version() || env.GOMAXPROCS != runtime.GOMAXPROCS(0) ||
		env.OSArch != runtime.GOOS+"/"+runtime.GOARCH || env.BLASEngine == "" {
		t.Errorf("environment %+v", env)
	}
	switch {
	case seed == nil && env.Seed != nil:
		t.Errorf("seed %d recorded for a run that drew no random numbers", *env.Seed)
	case seed != nil && (env.Seed == nil || *env.Seed != *seed):
		t.Errorf("seed %v, want %d", env.Seed, *seed)
	}
}

// The result of a job that read an upload names the upload, its format and
// its SHA-256 in the root attribute lineage, with the seed VCA drew from; a
// job without inputs records the environment only.
func TestLineage(t *testing.T) {
	e := start(t, "sqlite")
	cube, sha := e.cubeUpload(t)
	id := e.succeeded(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"variable":"Y","endmembers":3,"rows":4,"cols":5,"seed":11,"iterations":30}}`, cube))
	l := e.lineageOf(t, id)
	if len(l.Inputs) != 1 {
		t.Fatalf("inputs %+v, want the cube", l.Inputs)
	}
	in := l.Inputs[0]
	if in.Ref != "/params/cube" || in.ID != cube || in.Kind != "upload" || in.Format != "hdf5" || in.SHA256 != sha || in.Missing || in.Inputs != nil {
		t.Errorf("input %+v, want the upload %s with SHA-256 %s", in, cube, sha)
	}
	seed := uint64(11)
	checkEnvironment(t, l.Environment, &seed)

	// Initial endmembers from an upload: VCA does not run, no seed is used.
	init := e.h5Upload(t, map[string][]int{"M0": {10, 3}})
	id = e.succeeded(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"variable":"Y","endmembers":3,"rows":4,"cols":5,"init":"upload","init_endmembers":%q,"iterations":5}}`, cube, init))
	l = e.lineageOf(t, id)
	if len(l.Inputs) != 2 || l.Inputs[0].Ref != "/params/cube" || l.Inputs[1].Ref != "/params/init_endmembers" || l.Inputs[1].ID != init {
		t.Errorf("inputs %+v, want the cube and the initial endmembers", l.Inputs)
	}
	checkEnvironment(t, l.Environment, nil)

	id = e.succeeded(t, `{"kind":"poisson.solve","params":{"n":16}}`)
	l = e.lineageOf(t, id)
	if l.Inputs == nil || len(l.Inputs) != 0 {
		t.Errorf("inputs %#v, want []", l.Inputs)
	}
	checkEnvironment(t, l.Environment, nil)
}

// Re-running a job from the params recorded in its result (root attribute
// params_json), on the same build and cores, gives bit-identical datasets,
// for every kind that promises it.
func TestRerunIsBitIdentical(t *testing.T) {
	e := start(t, "sqlite")
	cube, _ := e.cubeUpload(t)
	for _, c := range []struct{ kind, params string }{
		{"poisson.solve", `{"dim":2,"n":24}`},
		{"navier_stokes.simulate", `{"n":16,"dt":0.01,"t_end":0.2,"snapshot_dt":0.1,"samples":2,"seed":42}`},
		{"gp.solve", `{"pde":"poisson1d","exact":"sin(6*x)","n":24,"iterations":30,"seed":5}`},
		{"unmix", fmt.Sprintf(`{"cube":%q,"variable":"Y","endmembers":3,"rows":4,"cols":5,"seed":11,"iterations":30}`, cube)},
	} {
		t.Run(c.kind, func(t *testing.T) {
			first := e.succeeded(t, fmt.Sprintf(`{"kind":%q,"params":%s}`, c.kind, c.params))
			f1 := e.resultFile(t, first)
			params, err := f1.AttrString("/", "params_json")
			if err != nil {
				t.Fatal(err)
			}
			second := e.succeeded(t, fmt.Sprintf(`{"kind":%q,"params":%s}`, c.kind, params))
			f2 := e.resultFile(t, second)
			if p2, _ := f2.AttrString("/", "params_json"); p2 != params {
				t.Errorf("params_json of the re-run %s, first %s", p2, params)
			}
			h5test.SameDatasets(t, f1, f2)
		})
	}
	// The neural operator's chain: its data, its training, its refined predictions.
	sim := e.succeeded(t, `{"kind":"navier_stokes.simulate","params":{"n":32,"samples":4,"dt":0.002,"t_warmup":0.5,"snapshot_dt":0.2,"t_end":3.5,"seed":3}}`)
	train := fmt.Sprintf(`{"dataset":%q,"width":6,"modes_x":4,"modes_y":4,"modes_t":3,"t_latent":6,"expansion":2,"t_in":6,"t_out":6,"epochs":2,"batch":2,"val_fraction":0.3,"seed":7}`, sim)
	model := ""
	for _, c := range []struct{ kind, params string }{
		{"stfno.train", train},
		{"stfno.predict", `{"model":%q,"refine":true,"refine_iterations":5}`},
	} {
		t.Run(c.kind, func(t *testing.T) {
			params := c.params
			if strings.Contains(params, "%q") {
				params = fmt.Sprintf(params, model)
			}
			first := e.succeeded(t, fmt.Sprintf(`{"kind":%q,"params":%s}`, c.kind, params))
			f1 := e.resultFile(t, first)
			recorded, err := f1.AttrString("/", "params_json")
			if err != nil {
				t.Fatal(err)
			}
			second := e.succeeded(t, fmt.Sprintf(`{"kind":%q,"params":%s}`, c.kind, recorded))
			h5test.SameDatasets(t, f1, e.resultFile(t, second))
			model = first
		})
	}
}
