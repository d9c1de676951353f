package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/api"
	"eddy/hdf5io"
	"eddy/jobs"
)

// Kinds that exist only in this test binary, to drive the accounting of
// failed attempts through the real API.
type noParams struct{}

func (*noParams) Validate(*jobs.Checker) {}

// flakyRuns counts the attempts of each test.api_flaky run.
var flakyRuns sync.Map // run id → *int

// nonFiniteData is a data error as a numerical package reports one: it says
// itself that it will repeat.
type nonFiniteData struct{}

func (nonFiniteData) Error() string   { return "source is NaN at [0.5]" }
func (nonFiniteData) Permanent() bool { return true }

func init() {
	// Fails its first attempt, succeeds on the second.
	jobs.Register(jobs.Spec[*noParams]{
		Name: "test.api_flaky", Defaults: func() *noParams { return &noParams{} },
		Timeout: time.Minute, MaxAttempts: 3,
		Run: func(ctx context.Context, p *noParams, env *jobs.Env) error {
			n, _ := flakyRuns.LoadOrStore(env.RunID, new(int))
			*n.(*int)++
			if *n.(*int) == 1 {
				return errors.New("transient failure")
			}
			return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
		},
	})
	// Fails with a data error, wrapped as a kind would wrap it.
	jobs.Register(jobs.Spec[*noParams]{
		Name: "test.api_data_error", Defaults: func() *noParams { return &noParams{} },
		Timeout: time.Minute, MaxAttempts: 2,
		Run: func(ctx context.Context, p *noParams, env *jobs.Env) error {
			return errors.Join(errors.New("solving"), nonFiniteData{})
		},
	})
}

// jobDoc is the job object with the fields these tests read.
type jobDoc struct {
	State    string   `json:"state"`
	Attempt  int      `json:"attempt"`
	Error    *string  `json:"error"`
	Warnings []string `json:"warnings"`
	Progress *struct {
		Fraction float64 `json:"fraction"`
		Message  string  `json:"message"`
	} `json:"progress"`
	Result *struct {
		URL     string         `json:"url"`
		Metrics map[string]any `json:"metrics"`
	} `json:"result"`
}

func (e *env) jobDoc(t *testing.T, id string) (jobDoc, map[string]json.RawMessage) {
	t.Helper()
	resp, b := e.do(t, "GET", "/v1/jobs/"+id, "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("get job: %d %s", resp.StatusCode, b)
	}
	var j jobDoc
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return j, raw
}

// resultFile downloads a job's result and opens it.
func (e *env) resultFile(t *testing.T, id string) *hdf5io.File {
	t.Helper()
	resp, b := e.do(t, "GET", "/v1/jobs/"+id+"/result", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("result: %d %s", resp.StatusCode, b)
	}
	path := filepath.Join(t.TempDir(), id+".h5")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// attemptsCounted reads eddy_job_attempts_total of a kind and outcome from
// /metrics (0 when absent).
func (e *env) attemptsCounted(t *testing.T, kind, outcome string) float64 {
	t.Helper()
	return e.metric(t, `eddy_job_attempts_total{kind="`+kind+`",outcome="`+outcome+`"}`)
}

// attemptsReach reads the attempts counted as attemptsCounted does until
// they reach want or five seconds pass, and returns the last count: a
// worker stores a run's end before it counts it, so a job seen ended may
// not be counted yet.
func (e *env) attemptsReach(t *testing.T, kind, outcome string, want float64) float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := e.attemptsCounted(t, kind, outcome)
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric reads one sample, named with its labels as /metrics writes it, from
// /metrics (0 when absent).
func (e *env) metric(t *testing.T, sample string) float64 {
	t.Helper()
	_, b := e.do(t, "GET", "/metrics", "", nil)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return 0
}

// Only a queued or running job can be cancelled: cancelling one that has
// succeeded, failed or been cancelled is a 409 that leaves it as it was.
func TestCancelOfFinishedJobIsConflict(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		_, done, p := e.submit(t, `{"kind":"poisson.solve","params":{"n":16}}`)
		if done.ID == "" {
			t.Fatalf("submit: %+v", p)
		}
		_, failed, _ := e.submit(t, `{"kind":"test.api_data_error","params":{}}`)
		_, long, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":1024,"tol":1e-14,"max_iter":100000}}`)
		if resp, b := e.do(t, "POST", "/v1/jobs/"+long.ID+"/cancel", "", nil); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("cancel of a live job: %d %s", resp.StatusCode, b)
		}
		ends := map[string]string{done.ID: "succeeded", failed.ID: "failed", long.ID: "cancelled"}
		for id, want := range ends {
			if j := e.wait(t, id, 60*time.Second, "succeeded", "failed", "cancelled"); j.State != want {
				t.Fatalf("job %s ended %s, want %s", id, j.State, want)
			}
		}
		for id, state := range ends {
			before, _ := e.jobDoc(t, id)
			resp, b := e.do(t, "POST", "/v1/jobs/"+id+"/cancel", "", nil)
			var prob problemDoc
			json.Unmarshal(b, &prob)
			if resp.StatusCode != http.StatusConflict || resp.Header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(prob.Detail, state) {
				t.Errorf("cancel of a %s job: %d %s", state, resp.StatusCode, b)
			}
			after, _ := e.jobDoc(t, id)
			if after.State != before.State || after.Attempt != before.Attempt || (after.Result == nil) != (before.Result == nil) {
				t.Errorf("cancel changed a %s job: %+v → %+v", state, before, after)
			}
		}
	})
}

// A succeeded job's progress reads fraction 1 with the solver's last message,
// whatever the throttling of progress writes kept while it ran.
func TestSucceededJobProgressIsComplete(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		_, j, p := e.submit(t, `{"kind":"poisson.solve","params":{"n":64,"tol":1e-10}}`)
		if j.ID == "" {
			t.Fatalf("submit: %+v", p)
		}
		e.wait(t, j.ID, 60*time.Second, "succeeded", "failed")
		got, _ := e.jobDoc(t, j.ID)
		if got.State != "succeeded" || got.Progress == nil {
			t.Fatalf("job: %+v", got)
		}
		if got.Progress.Fraction != 1 || !strings.HasPrefix(got.Progress.Message, "done in ") {
			t.Errorf("final progress %+v, want fraction 1 and the solver's last message", *got.Progress)
		}
		// A kind that reports no progress at all still ends at fraction 1.
		_, f, _ := e.submit(t, `{"kind":"test.api_flaky","params":{}}`)
		e.wait(t, f.ID, 60*time.Second, "succeeded", "failed")
		if got, _ := e.jobDoc(t, f.ID); got.Progress == nil || got.Progress.Fraction != 1 || got.Progress.Message == "" {
			t.Errorf("final progress of a silent kind: %+v", got.Progress)
		}
	})
}

// A failed attempt that is tried again counts as "retried" in
// eddy_job_attempts_total, and the attempt that succeeds as "succeeded".
func TestRetriedAttemptsAreCounted(t *testing.T) {
	e := start(t, "sqlite")
	retried := e.attemptsCounted(t, "test.api_flaky", "retried")
	succeeded := e.attemptsCounted(t, "test.api_flaky", "succeeded")
	_, j, p := e.submit(t, `{"kind":"test.api_flaky","params":{}}`)
	if j.ID == "" {
		t.Fatalf("submit: %+v", p)
	}
	if got := e.wait(t, j.ID, 60*time.Second, "succeeded", "failed"); got.State != "succeeded" || got.Attempt != 2 {
		t.Fatalf("flaky job: %s on attempt %d", got.State, got.Attempt)
	}
	if n := e.attemptsReach(t, "test.api_flaky", "retried", retried+1); n != retried+1 {
		t.Errorf("retried attempts %g, want %g", n, retried+1)
	}
	if n := e.attemptsReach(t, "test.api_flaky", "succeeded", succeeded+1); n != succeeded+1 {
		t.Errorf("succeeded attempts %g, want %g", n, succeeded+1)
	}
}

// An error that will repeat ends the job on its first attempt: a data error
// that a kind returns, and a gp.solve whose source is not finite on the grid
// (refused at submit once params checks catch it, else failed at once).
func TestDataErrorsAreNotRetried(t *testing.T) {
	e := start(t, "sqlite")
	failed := e.attemptsCounted(t, "test.api_data_error", "failed")
	_, j, _ := e.submit(t, `{"kind":"test.api_data_error","params":{}}`)
	got := e.wait(t, j.ID, 60*time.Second, "succeeded", "failed")
	if got.State != "failed" || got.Attempt != 1 || got.Error == nil || !strings.Contains(*got.Error, "NaN") {
		t.Fatalf("data error: %s on attempt %d, error %v", got.State, got.Attempt, got.Error)
	}
	if n := e.attemptsReach(t, "test.api_data_error", "failed", failed+1); n != failed+1 {
		t.Errorf("failed attempts %g, want %g", n, failed+1)
	}
	if n := e.attemptsCounted(t, "test.api_data_error", "retried"); n != 0 {
		t.Errorf("retried attempts %g, want 0", n)
	}

	code, gp, p := e.submit(t, `{"kind":"gp.solve","params":{"pde":"poisson1d","source":"1/(x-x)","boundary":"0","n":20,"iterations":2}}`)
	switch code {
	case http.StatusUnprocessableEntity:
		if len(p.Errors) == 0 || p.Errors[0].Path != "/params/source" {
			t.Errorf("refused NaN source located at %+v", p.Errors)
		}
	case http.StatusAccepted:
		got := e.wait(t, gp.ID, 60*time.Second, "succeeded", "failed")
		if got.State != "failed" || got.Attempt != 1 || got.Error == nil || !strings.Contains(*got.Error, "source") {
			t.Fatalf("NaN source: %s on attempt %d of 2, error %v", got.State, got.Attempt, got.Error)
		}
	default:
		t.Fatalf("NaN source: %d %+v", code, p)
	}
}

// Every result says whether its solver converged and what a user should know
// about it: converged and the final residual in result.metrics and in the
// file's /metrics (a boolean as uint8), warnings at the top of the job ([]
// when none) and as the file's root attribute warnings.
func TestResultsStateConvergenceAndWarnings(t *testing.T) {
	e := start(t, "sqlite")
	_, ok, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":32,"tol":1e-8}}`)
	_, cut, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":32,"tol":1e-12,"max_iter":3}}`)
	for _, c := range []struct {
		id        string
		converged bool
	}{{ok.ID, true}, {cut.ID, false}} {
		e.wait(t, c.id, 60*time.Second, "succeeded", "failed")
		j, raw := e.jobDoc(t, c.id)
		if j.State != "succeeded" {
			t.Fatalf("job %s: %+v", c.id, j)
		}
		if w, ok := raw["warnings"]; !ok || (c.converged && string(w) != "[]") {
			t.Errorf("converged job: warnings %s, want []", w)
		}
		if conv, ok := j.Result.Metrics["converged"].(bool); !ok || conv != c.converged {
			t.Errorf("result.metrics.converged = %#v, want %v", j.Result.Metrics["converged"], c.converged)
		}
		res, ok := j.Result.Metrics["rel_residual"].(float64)
		if !ok || res <= 0 {
			t.Errorf("rel_residual %#v", j.Result.Metrics["rel_residual"])
		}
		if !c.converged && (len(j.Warnings) != 1 || !strings.Contains(j.Warnings[0], "did not converge: relative residual ") ||
			!strings.Contains(j.Warnings[0], "after 3 iterations, tol 1e-12")) {
			t.Errorf("warnings of an unconverged solve: %q", j.Warnings)
		}

		f := e.resultFile(t, c.id)
		if dt, err := f.AttrDtype("/metrics", "converged"); err != nil || dt != "uint8" {
			t.Errorf("/metrics converged: %s %v, want uint8", dt, err)
		}
		if v, err := f.AttrInt64("/metrics", "converged"); err != nil || (v == 1) != c.converged || v > 1 {
			t.Errorf("/metrics converged = %d %v", v, err)
		}
		if v, err := f.AttrFloat64("/metrics", "rel_residual"); err != nil || v != res {
			t.Errorf("/metrics rel_residual = %g %v, JSON %g", v, err, res)
		}
		text, err := f.AttrString("/", "warnings")
		var inFile []string
		if err == nil {
			err = json.Unmarshal([]byte(text), &inFile)
		}
		if err != nil || len(inFile) != len(j.Warnings) || (len(inFile) > 0 && inFile[0] != j.Warnings[0]) {
			t.Errorf("root attribute warnings %q (%v), job %q", text, err, j.Warnings)
		}
	}
	// A job without a result lists no warnings, as [].
	_, failed, _ := e.submit(t, `{"kind":"test.api_data_error","params":{}}`)
	e.wait(t, failed.ID, 60*time.Second, "failed")
	if _, raw := e.jobDoc(t, failed.ID); string(raw["warnings"]) != "[]" {
		t.Errorf("failed job: warnings %s, want []", raw["warnings"])
	}
}

// GET /v1/kinds documents every kind's metrics with their types.
func TestKindsDocumentMetrics(t *testing.T) {
	e := start(t, "sqlite")
	_, b := e.do(t, "GET", "/v1/kinds", "", nil)
	var doc struct {
		Kinds []struct {
			Name    string            `json:"name"`
			Metrics map[string]string `json:"metrics"`
		} `json:"kinds"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"poisson.solve":          {"converged", "rel_residual", "iterations"},
		"gp.solve":               {"converged", "loss", "iterations"},
		"unmix":                  {"converged", "objective", "stop_reason", "iterations"},
		"navier_stokes.simulate": {"max_cfl"},
	}
	types := []string{"float64:", "int64:", "bool:", "string:", "float64 array:"}
	for _, k := range doc.Kinds {
		if k.Metrics == nil {
			t.Errorf("%s: no metrics object", k.Name)
		}
		for _, name := range want[k.Name] {
			if _, ok := k.Metrics[name]; !ok {
				t.Errorf("%s: metric %s undocumented", k.Name, name)
			}
		}
		for name, d := range k.Metrics {
			typed := false
			for _, p := range types {
				typed = typed || strings.HasPrefix(d, p)
			}
			if !typed {
				t.Errorf("%s: metric %s documented as %q, without its type", k.Name, name, d)
			}
		}
		delete(want, k.Name)
	}
	for name := range want {
		t.Errorf("kind %s not listed", name)
	}
}

// syncBuffer is a bytes.Buffer that a logger may write from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every request is logged once with its method, route pattern, status,
// duration, and the job id of routes about a job.
func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	e := start(t, "sqlite", func(c *api.Config) { c.Logger = logger })
	_, j, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":16}}`)
	e.wait(t, j.ID, 60*time.Second, "succeeded", "failed")
	e.do(t, "POST", "/v1/jobs/"+j.ID+"/cancel", "", nil)
	e.do(t, "GET", "/v1/nothing", "", nil)

	type line struct {
		Msg      string  `json:"msg"`
		Method   string  `json:"method"`
		Route    string  `json:"route"`
		Status   int     `json:"status"`
		Duration float64 `json:"duration"`
		JobID    string  `json:"job_id"`
	}
	var lines []line
	for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var l line
		if err := json.Unmarshal([]byte(s), &l); err == nil && l.Msg == "request" {
			lines = append(lines, l)
		}
	}
	find := func(method, route string, status int) *line {
		for i := range lines {
			if l := &lines[i]; l.Method == method && (route == "" || l.Route == route) && l.Status == status {
				return l
			}
		}
		t.Errorf("no log line for %s %s %d in %+v", method, route, status, lines)
		return nil
	}
	if l := find("POST", "/v1/jobs", http.StatusAccepted); l != nil && l.JobID != j.ID {
		t.Errorf("submission logged with job_id %q, want %s", l.JobID, j.ID)
	}
	if l := find("GET", "/v1/jobs/{id}", http.StatusOK); l != nil && (l.JobID != j.ID || l.Duration <= 0) {
		t.Errorf("get logged as %+v", *l)
	}
	if l := find("POST", "/v1/jobs/{id}/cancel", http.StatusConflict); l != nil && l.JobID != j.ID {
		t.Errorf("cancel logged as %+v", *l)
	}
	// An unknown path is logged under the pattern that caught it ("/v1/*").
	if l := find("GET", "", http.StatusNotFound); l != nil && (l.Route == "" || l.JobID != "") {
		t.Errorf("unmatched route logged as %+v", *l)
	}
}
