package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"eddy/hdf5io"
	"eddy/jobs"
)

// Kinds that exist only in this test binary, to drive chains of jobs through
// the real API.

// flowParams reference a navier_stokes.simulate job's vorticity.
type flowParams struct {
	Flow string `json:"flow" required:"true" ref:"upload|job:navier_stokes.simulate" datasets:"vorticity:4" doc:"a simulation whose vorticity is averaged"`
}

func (*flowParams) Validate(*jobs.Checker) {}

// meanParams reference any job's result with a dataset mean.
type meanParams struct {
	Of string `json:"of" required:"true" ref:"job" datasets:"mean:1" doc:"a job with a mean"`
}

func (*meanParams) Validate(*jobs.Checker) {}

// afterParams reference the result of a job of any kind.
type afterParams struct {
	After string `json:"after" required:"true" ref:"job" doc:"a job whose result this one needs"`
}

func (*afterParams) Validate(*jobs.Checker) {}

// gatedFailRelease lets every test.gated_fail run fail.
var gatedFailRelease = make(chan struct{})

func init() {
	// Reads the vorticity of a simulation through Env.Resolve and writes its
	// mean and its element count.
	jobs.Register(jobs.Spec[*flowParams]{
		Name: "test.vorticity_mean", Defaults: func() *flowParams { return &flowParams{} },
		Outputs: []string{"mean"}, Timeout: time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *flowParams, env *jobs.Env) error {
			path, err := env.Resolve(p.Flow)
			if err != nil {
				return jobs.Permanent(err)
			}
			f, err := hdf5io.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			w, shape, err := f.ReadFloat64("vorticity")
			if err != nil {
				return err
			}
			if len(shape) != 4 {
				return jobs.Permanent(fmt.Errorf("vorticity has shape %v", shape))
			}
			sum := 0.0
			for _, x := range w {
				sum += x
			}
			env.Metrics["count"] = int64(len(w))
			return env.Out.WriteFloat64("mean", []float64{sum / float64(len(w))}, []int{1}, "i", "")
		},
	})
	// Succeeds at once once its parent has.
	jobs.Register(jobs.Spec[*afterParams]{
		Name: "test.after", Defaults: func() *afterParams { return &afterParams{} },
		Outputs: []string{"x"}, Timeout: time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *afterParams, env *jobs.Env) error {
			if _, err := env.Resolve(p.After); err != nil {
				return jobs.Permanent(err)
			}
			return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
		},
	})
	// Only its declaration is used: it never gets past submit in the tests.
	jobs.Register(jobs.Spec[*meanParams]{
		Name: "test.needs_mean", Defaults: func() *meanParams { return &meanParams{} },
		Timeout: time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *meanParams, env *jobs.Env) error {
			return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
		},
	})
	// Fails, permanently, when the test lets it.
	jobs.Register(jobs.Spec[*noParams]{
		Name: "test.gated_fail", Defaults: func() *noParams { return &noParams{} },
		Timeout: time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *noParams, env *jobs.Env) error {
			select {
			case <-gatedFailRelease:
				return jobs.Permanent(errors.New("the gate opened"))
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
}

// chainJob is the job object with the fields chain tests read.
type chainJob struct {
	ID         string   `json:"id"`
	State      string   `json:"state"`
	Error      *string  `json:"error"`
	WaitingFor []string `json:"waiting_for"`
	Result     *struct {
		Metrics map[string]any `json:"metrics"`
	} `json:"result"`
}

func (e *env) chainJob(t *testing.T, id string) chainJob {
	t.Helper()
	resp, b := e.do(t, "GET", "/v1/jobs/"+id, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("get job %s: %d %s", id, resp.StatusCode, b)
	}
	var j chainJob
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

// mustSubmit submits body and returns the job's id, failing on anything but 202.
func (e *env) mustSubmit(t *testing.T, body string) string {
	t.Helper()
	code, j, p := e.submit(t, body)
	if code != 202 {
		t.Fatalf("submit %s: %d %+v", body, code, p)
	}
	return j.ID
}

// mixtureUpload uploads an HDF5 cube Y, bands×pixels = 10×20, of nonnegative
// mixtures of three spectra.
func (e *env) mixtureUpload(t *testing.T) string {
	t.Helper()
	const bands, pixels, k = 10, 20, 3
	y := make([]float64, bands*pixels)
	for n := 0; n < pixels; n++ {
		a := []float64{1 + float64(n%4), 1 + float64(n%5), 1 + float64(n%3)}
		s := a[0] + a[1] + a[2]
		for b := 0; b < bands; b++ {
			for j := 0; j < k; j++ {
				spectrum := 0.2 + 0.7*math.Abs(math.Sin(float64((j+1)*(b+1))/3))
				y[b*pixels+n] += a[j] / s * spectrum
			}
		}
	}
	id, _ := e.uploadArrays(t, map[string]array{"Y": {y, []int{bands, pixels}}})
	return id
}

// A chain submitted in one burst, without waiting in between, runs to its
// end: a simulation and a job that averages its vorticity; an uploaded cube,
// unmixed by VCA+FCLS, whose endmembers start an NMF run.
func TestChainSubmittedInOneBurst(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		sim := e.mustSubmit(t, `{"kind":"navier_stokes.simulate","params":{"n":16,"dt":0.01,"t_end":0.2,"snapshot_dt":0.1,"samples":2,"seed":3}}`)
		mean := e.mustSubmit(t, fmt.Sprintf(`{"kind":"test.vorticity_mean","params":{"flow":%q}}`, sim))
		cube := e.mixtureUpload(t)
		vca := e.mustSubmit(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"endmembers":3,"method":"vca_fcls","seed":5}}`, cube))
		nmf := e.mustSubmit(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"endmembers":3,"method":"nmf","init":"upload","init_endmembers":%q,"iterations":20}}`, cube, vca))

		for _, id := range []string{sim, mean, vca, nmf} {
			if j := e.wait(t, id, 2*time.Minute, "succeeded", "failed", "cancelled"); j.State != "succeeded" {
				t.Fatalf("job %s ended %s: %v", id, j.State, deref(j.Error))
			}
		}
		m := e.chainJob(t, mean)
		if len(m.WaitingFor) != 0 || m.Result == nil || m.Result.Metrics["count"] != float64(2*3*16*16) {
			t.Errorf("vorticity mean job %+v, want the mean over 2×3×16×16 values", m)
		}
	})
}

// A child waits, visibly, for a parent that is running; when the parent is
// cancelled the child fails with parent_failed, and so does the child's own
// child; a parent that fails ends its children the same way.
func TestParentFailedEndsTheChain(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		parent := e.mustSubmit(t, `{"kind":"test.hold","params":{}}`)
		child := e.mustSubmit(t, fmt.Sprintf(`{"kind":"test.after","params":{"after":%q}}`, parent))
		grandchild := e.mustSubmit(t, fmt.Sprintf(`{"kind":"test.after","params":{"after":%q}}`, child))
		if j := e.chainJob(t, child); j.State != "queued" || len(j.WaitingFor) != 1 || j.WaitingFor[0] != parent {
			t.Errorf("child %+v, want queued waiting for %s", j, parent)
		}
		if j := e.chainJob(t, grandchild); len(j.WaitingFor) != 1 || j.WaitingFor[0] != child {
			t.Errorf("grandchild %+v, want waiting for %s", j, child)
		}
		e.wait(t, parent, time.Minute, "running")
		if resp, b := e.do(t, "POST", "/v1/jobs/"+parent+"/cancel", "", nil); resp.StatusCode != 202 {
			t.Fatalf("cancel: %d %s", resp.StatusCode, b)
		}
		e.wait(t, parent, time.Minute, "cancelled")
		for _, id := range []string{child, grandchild} {
			j := e.wait(t, id, time.Minute, "succeeded", "failed", "cancelled")
			if j.State != "failed" || j.Error == nil || !strings.HasPrefix(*j.Error, "parent_failed:") {
				t.Errorf("job %s ended %s with %v, want failed with parent_failed", id, j.State, deref(j.Error))
			}
		}
		if j := e.chainJob(t, child); !strings.Contains(deref(j.Error), parent) || len(j.WaitingFor) != 0 {
			t.Errorf("child %+v: the error should name the parent %s", j, parent)
		}

		failing := e.mustSubmit(t, `{"kind":"test.gated_fail","params":{}}`)
		after := e.mustSubmit(t, fmt.Sprintf(`{"kind":"test.after","params":{"after":%q}}`, failing))
		e.wait(t, failing, time.Minute, "running")
		gatedFailRelease <- struct{}{}
		e.wait(t, failing, time.Minute, "failed")
		j := e.wait(t, after, time.Minute, "succeeded", "failed", "cancelled")
		if j.State != "failed" || !strings.HasPrefix(deref(j.Error), "parent_failed: job "+failing) {
			t.Errorf("child of a failed job ended %s with %v", j.State, deref(j.Error))
		}
		// A reference to a job that has failed is refused at submit.
		code, _, p := e.submit(t, fmt.Sprintf(`{"kind":"test.after","params":{"after":%q}}`, failing))
		if code != 422 || len(p.Errors) != 1 || p.Errors[0].Path != "/params/after" {
			t.Errorf("reference to a failed job: %d %+v, want 422 at /params/after", code, p)
		}
	})
}

// A reference of the wrong kind, to nothing, or to a file without a dataset
// the param declares (or with another rank) is a 422 at its path; the
// schema publishes the declaration.
func TestReferencesAreCheckedAgainstTheirDeclaration(t *testing.T) {
	e := start(t, "sqlite")
	flat := e.h5Upload(t, map[string][]int{"vorticity": {2, 2}})
	other := e.h5Upload(t, map[string][]int{"omega": {1, 1, 2, 2}})
	poisson := e.mustSubmit(t, `{"kind":"poisson.solve","params":{}}`)
	cases := []struct{ name, body, path, want string }{
		{"job of another kind", fmt.Sprintf(`{"kind":"test.vorticity_mean","params":{"flow":%q}}`, poisson), "/params/flow", "is a poisson.solve job; this param takes an upload or a navier_stokes.simulate job"},
		{"nothing", `{"kind":"test.vorticity_mean","params":{"flow":"no-such-id"}}`, "/params/flow", "no upload or job"},
		{"upload with another rank", fmt.Sprintf(`{"kind":"test.vorticity_mean","params":{"flow":%q}}`, flat), "/params/flow", "has 2 dimensions; this param needs 4"},
		{"upload without the dataset", fmt.Sprintf(`{"kind":"test.vorticity_mean","params":{"flow":%q}}`, other), "/params/flow", `no dataset "vorticity"`},
		{"upload where a job is needed", fmt.Sprintf(`{"kind":"test.needs_mean","params":{"of":%q}}`, flat), "/params/of", "is an upload; this param takes a job"},
		{"job without the dataset", fmt.Sprintf(`{"kind":"test.needs_mean","params":{"of":%q}}`, poisson), "/params/of", `no dataset "mean"`},
		{"job where an upload is needed", fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"endmembers":3}}`, poisson), "/params/cube", "takes an upload"},
		{"initial endmembers from another kind", fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"endmembers":3,"init":"upload","init_endmembers":%q}}`, flat, poisson), "/params/init_endmembers", "takes an upload or an unmix job"},
	}
	for _, tc := range cases {
		code, _, p := e.submit(t, tc.body)
		if code != 422 || len(p.Errors) == 0 || p.Errors[0].Path != tc.path || !strings.Contains(p.Errors[0].Message, tc.want) {
			t.Errorf("%s: %d %+v, want 422 at %s saying %q", tc.name, code, p, tc.path, tc.want)
		}
	}

	resp, b := e.do(t, "GET", "/v1/kinds", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/kinds: %d", resp.StatusCode)
	}
	var kinds struct {
		Kinds []kindDoc `json:"kinds"`
	}
	json.Unmarshal(b, &kinds)
	want := `{"accepts":["upload","navier_stokes.simulate"],"datasets":[{"name":"vorticity","rank":4}]}`
	for _, k := range kinds.Kinds {
		if k.Name != "test.vorticity_mean" {
			continue
		}
		got, _ := json.Marshal(properties(k.Params)["flow"]["x-eddy-ref"])
		if string(got) != want {
			t.Errorf("x-eddy-ref of flow %s, want %s", got, want)
		}
		return
	}
	t.Error("test.vorticity_mean not listed")
}

// An upload or a result that a queued job needs cannot be deleted (409,
// naming the job); once the job has ended it can (204). A running job cannot
// be deleted; an ended one can, and its record is gone.
func TestDeleteProtectsWhatJobsNeed(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		sim := e.mustSubmit(t, `{"kind":"navier_stokes.simulate","params":{"n":16,"dt":0.01,"t_end":0.1,"snapshot_dt":0.1,"samples":1}}`)
		e.wait(t, sim, 2*time.Minute, "succeeded")
		cube := e.mixtureUpload(t)
		// Both workers held: the jobs submitted next stay queued.
		hold1 := e.mustSubmit(t, `{"kind":"test.hold","params":{}}`)
		hold2 := e.mustSubmit(t, `{"kind":"test.hold","params":{}}`)
		e.wait(t, hold1, time.Minute, "running")
		e.wait(t, hold2, time.Minute, "running")
		unmix := e.mustSubmit(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"endmembers":3,"method":"vca_fcls"}}`, cube))
		reader := e.mustSubmit(t, fmt.Sprintf(`{"kind":"test.vorticity_mean","params":{"flow":%q}}`, sim))

		if resp, b := e.do(t, "DELETE", "/v1/uploads/"+cube, "", nil); resp.StatusCode != 409 || !strings.Contains(string(b), unmix) {
			t.Errorf("DELETE of a needed upload: %d %s, want 409 naming %s", resp.StatusCode, b, unmix)
		}
		if resp, b := e.do(t, "DELETE", "/v1/jobs/"+sim, "", nil); resp.StatusCode != 409 || !strings.Contains(string(b), reader) {
			t.Errorf("DELETE of a needed result: %d %s, want 409 naming %s", resp.StatusCode, b, reader)
		}
		if resp, b := e.do(t, "DELETE", "/v1/jobs/"+hold1, "", nil); resp.StatusCode != 409 {
			t.Errorf("DELETE of a running job: %d %s, want 409", resp.StatusCode, b)
		}

		for _, id := range []string{unmix, reader} {
			e.do(t, "POST", "/v1/jobs/"+id+"/cancel", "", nil)
			e.wait(t, id, time.Minute, "cancelled")
		}
		for _, path := range []string{"/v1/uploads/" + cube, "/v1/jobs/" + sim} {
			if resp, b := e.do(t, "DELETE", path, "", nil); resp.StatusCode != 204 {
				t.Errorf("DELETE %s once no job needs it: %d %s, want 204", path, resp.StatusCode, b)
			}
			if resp, _ := e.do(t, "GET", path, "", nil); resp.StatusCode != 404 {
				t.Errorf("GET %s after DELETE: %d, want 404", path, resp.StatusCode)
			}
			if resp, _ := e.do(t, "DELETE", path, "", nil); resp.StatusCode != 404 {
				t.Errorf("second DELETE %s: %d, want 404", path, resp.StatusCode)
			}
		}
		for _, id := range []string{hold1, hold2} {
			e.do(t, "POST", "/v1/jobs/"+id+"/cancel", "", nil)
			e.wait(t, id, time.Minute, "cancelled")
		}
		if resp, b := e.do(t, "DELETE", "/v1/jobs/"+hold1, "", nil); resp.StatusCode != 204 {
			t.Errorf("DELETE of a cancelled job: %d %s, want 204", resp.StatusCode, b)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// A succeeded job's result is checked against the other params as an upload
// is: endmembers of an unmix result with another K, and trajectories of a
// simulation too short for the training windows, are 422s at the param that
// does not fit.
func TestResultsAreCheckedLikeUploads(t *testing.T) {
	e := start(t, "sqlite")
	cube, _ := e.cubeUpload(t)
	unmix := e.succeeded(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"variable":"Y","endmembers":3,"rows":4,"cols":5,"iterations":20}}`, cube))
	sim := e.succeeded(t, `{"kind":"navier_stokes.simulate","params":{"n":16,"dt":0.01,"t_end":0.5,"snapshot_dt":0.1,"samples":3}}`)
	for _, tc := range []struct{ name, body, path, want string }{
		{"endmembers of another K", fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"variable":"Y","endmembers":2,"init":"upload","init_endmembers":%q}}`, cube, unmix),
			"/params/endmembers", "K = 3"},
		{"trajectories too short", fmt.Sprintf(`{"kind":"stfno.train","params":{"dataset":%q,"modes_x":4,"modes_y":4}}`, sim),
			"/params/t_out", "does not fit the data set's 6 frames"},
	} {
		code, _, p := e.submit(t, tc.body)
		if code != 422 || len(p.Errors) == 0 || p.Errors[0].Path != tc.path || !strings.Contains(p.Errors[0].Message, tc.want) {
			t.Errorf("%s: %d %+v, want 422 at %s saying %q", tc.name, code, p, tc.path, tc.want)
		}
	}
	// The same references that fit are accepted.
	for _, body := range []string{
		fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"variable":"Y","endmembers":3,"init":"upload","init_endmembers":%q,"iterations":5}}`, cube, unmix),
		fmt.Sprintf(`{"kind":"stfno.train","params":{"dataset":%q,"modes_x":4,"modes_y":4,"modes_t":2,"t_latent":4,"t_in":3,"t_out":3,"epochs":1}}`, sim),
	} {
		if code, _, p := e.submit(t, body); code != 202 {
			t.Errorf("%s: %d %+v", body, code, p)
		}
	}
}
