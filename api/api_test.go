package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	pngenc "image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/api"
	"eddy/hdf5io"
	"eddy/internal/pgtest"
	"eddy/jobs"
	"eddy/storage"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

type env struct {
	url    string
	client *http.Client
	token  string
}

// start runs a real API with two in-process workers on the given database.
func start(t *testing.T, dialect string, opts ...func(*api.Config)) *env {
	t.Helper()
	url := "sqlite://" + t.TempDir() + "/eddy.db"
	if dialect == "postgres" {
		url = pgtest.NewDatabase(t)
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	art, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// A fixed memory budget, so that the refusals tested do not depend on the machine.
	svc, err := jobs.New(jobs.Config{DB: db, Artifacts: art, Workers: 2, FetchPollInterval: 50 * time.Millisecond, Logger: quiet,
		MaxJobMemory: 4 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{Jobs: svc, DB: db, Artifacts: art, EventPoll: 50 * time.Millisecond, Logger: quiet}
	for _, o := range opts {
		o(&cfg)
	}
	srv := httptest.NewServer(api.New(cfg))
	t.Cleanup(func() {
		srv.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		svc.Stop(sctx)
		db.Close()
	})
	e := &env{url: srv.URL, client: srv.Client()}
	if len(cfg.Tokens) > 0 {
		e.token = cfg.Tokens[0]
	}
	return e
}

func (e *env) do(t *testing.T, method, path, ctype string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

type job struct {
	ID       string          `json:"id"`
	State    string          `json:"state"`
	Attempt  int             `json:"attempt"`
	Error    *string         `json:"error"`
	Params   json.RawMessage `json:"params"`
	Progress *struct {
		Fraction float64 `json:"fraction"`
		Message  string  `json:"message"`
	} `json:"progress"`
	Result *struct {
		URL      string         `json:"url"`
		Bytes    int64          `json:"bytes"`
		SHA256   string         `json:"sha256"`
		Datasets []string       `json:"datasets"`
		Metrics  map[string]any `json:"metrics"`
	} `json:"result"`
}

type problemDoc struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Path    string `json:"path"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (e *env) submit(t *testing.T, body string) (int, job, problemDoc) {
	t.Helper()
	resp, b := e.do(t, "POST", "/v1/jobs", "application/json", strings.NewReader(body))
	var j job
	var p problemDoc
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("job JSON: %v: %s", err, b)
		}
		if loc := resp.Header.Get("Location"); loc != "/v1/jobs/"+j.ID {
			t.Errorf("Location %q, want /v1/jobs/%s", loc, j.ID)
		}
	} else {
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("error content type %q: %s", ct, b)
		}
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("problem JSON: %v: %s", err, b)
		}
	}
	return resp.StatusCode, j, p
}

func (e *env) get(t *testing.T, id string) job {
	t.Helper()
	resp, b := e.do(t, "GET", "/v1/jobs/"+id, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("get job: %d %s", resp.StatusCode, b)
	}
	var j job
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func (e *env) wait(t *testing.T, id string, timeout time.Duration, final ...string) job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := e.get(t, id)
		for _, f := range final {
			if j.State == f {
				return j
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after %v (want %v): %+v", id, j.State, timeout, final, j)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func forDialects(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// A poisson.solve job runs to success; the HDF5 download matches its SHA-256, serves
// ranges, and holds the conventions of DESIGN.md and a correct solution.
func TestPoissonJobEndToEnd(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		code, j, p := e.submit(t, `{"kind":"poisson.solve","params":{"dim":2,"n":48,"tol":1e-11}}`)
		if code != http.StatusAccepted {
			t.Fatalf("submit: %d %+v", code, p)
		}
		j = e.wait(t, j.ID, 60*time.Second, "succeeded", "failed", "cancelled")
		if j.State != "succeeded" || j.Result == nil || j.Attempt != 1 {
			t.Fatalf("job ended %s: %+v", j.State, j)
		}
		if got := strings.Join(j.Result.Datasets, ","); got != "exact,residual_history,rhs,solution" {
			t.Errorf("datasets %s", got)
		}
		if it := j.Result.Metrics["iterations"].(float64); it < 10 || j.Result.Metrics["converged"] != true {
			t.Errorf("metrics %+v", j.Result.Metrics)
		}

		resp, body := e.do(t, "GET", j.Result.URL, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-hdf5" {
			t.Fatalf("result: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != j.Result.SHA256 || resp.Header.Get("X-Content-SHA256") != j.Result.SHA256 || int64(len(body)) != j.Result.Bytes {
			t.Fatalf("digest mismatch: body %x, job %s, header %s", sum, j.Result.SHA256, resp.Header.Get("X-Content-SHA256"))
		}
		req, _ := http.NewRequest("GET", e.url+j.Result.URL, nil)
		req.Header.Set("Range", "bytes=100-199")
		rr, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		part, _ := io.ReadAll(rr.Body)
		rr.Body.Close()
		if rr.StatusCode != http.StatusPartialContent || !bytes.Equal(part, body[100:200]) {
			t.Fatalf("range request: %d, %d bytes", rr.StatusCode, len(part))
		}

		path := filepath.Join(t.TempDir(), "r.h5")
		os.WriteFile(path, body, 0o644)
		f, err := hdf5io.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if k, _ := f.AttrString("/", "eddy_kind"); k != "poisson.solve" {
			t.Errorf("eddy_kind %q", k)
		}
		if id, _ := f.AttrString("/", "eddy_job_id"); id != j.ID {
			t.Errorf("eddy_job_id %q", id)
		}
		if pj, _ := f.AttrString("/", "params_json"); !strings.Contains(pj, `"n":48`) {
			t.Errorf("params_json %q", pj)
		}
		if d, _ := f.AttrString("/solution", "dims"); d != "y,x" {
			t.Errorf("solution dims %q", d)
		}
		u, shape, err := f.ReadFloat64("solution")
		if err != nil || len(shape) != 2 || shape[0] != 48 || shape[1] != 48 {
			t.Fatalf("solution %v %v", shape, err)
		}
		exact, _, _ := f.ReadFloat64("exact")
		var num, den float64
		for i := range u {
			num += (u[i] - exact[i]) * (u[i] - exact[i])
			den += exact[i] * exact[i]
		}
		// Second-order scheme at h = 1/48: error ≈ 0.5·h²-scale, well below 1e-3.
		errL2, _ := f.AttrFloat64("/metrics", "error_l2")
		if rel := sqrt(num / den); rel > 1e-3 || abs(rel-errL2) > 1e-12 {
			t.Fatalf("solution error %g, metrics say %g", rel, errL2)
		}
	})
}

func sqrt(x float64) float64 {
	z := x
	for i := 0; i < 60 && z > 0; i++ {
		z = 0.5 * (z + x/z)
	}
	return z
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// Every kind of bad request is a 4xx problem naming the offending path.
func TestBadRequestsAre4xxWithPaths(t *testing.T) {
	e := start(t, "sqlite")
	cases := []struct {
		name, body string
		code       int
		path       string
	}{
		{"unknown kind", `{"kind":"nope","params":{}}`, 422, "/kind"},
		{"missing kind", `{"params":{}}`, 422, "/kind"},
		{"out of range", `{"kind":"poisson.solve","params":{"n":1}}`, 422, "/params/n"},
		{"wrong type", `{"kind":"poisson.solve","params":{"n":"big"}}`, 422, "/params/n"},
		{"fractional int", `{"kind":"poisson.solve","params":{"n":12.5}}`, 422, "/params/n"},
		{"unknown param", `{"kind":"poisson.solve","params":{"m":3}}`, 422, "/params/m"},
		{"bad enum", `{"kind":"poisson.solve","params":{"method":"gauss"}}`, 422, "/params/method"},
		{"bad dim", `{"kind":"poisson.solve","params":{"dim":4}}`, 422, "/params/dim"},
		{"too much memory", `{"kind":"poisson.solve","params":{"dim":3,"n":1000}}`, 422, "/params/n"},
		{"params not object", `{"kind":"poisson.solve","params":[1]}`, 422, "/params"},
		{"kind wrong type", `{"kind":5}`, 400, "/kind"},
		{"unknown top field", `{"kind":"poisson.solve","colour":"red"}`, 400, "/colour"},
		{"malformed", `{"kind":`, 400, ""},
		{"trailing", `{"kind":"poisson.solve"} {}`, 400, ""},
		{"bad input name", `{"kind":"poisson.solve","inputs":{"x":"y"}}`, 422, "/inputs/x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, p := e.submit(t, c.body)
			if code != c.code {
				t.Fatalf("status %d, want %d: %+v", code, c.code, p)
			}
			if c.path != "" {
				found := false
				for _, fe := range p.Errors {
					found = found || fe.Path == c.path
				}
				if !found {
					t.Fatalf("no error at %s: %+v", c.path, p)
				}
			}
		})
	}
	resp, _ := e.do(t, "POST", "/v1/jobs", "application/json", strings.NewReader(`{"kind":"`+strings.Repeat("x", 2<<20)+`"}`))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d", resp.StatusCode)
	}
	resp, _ = e.do(t, "POST", "/v1/jobs", "application/json", nil)
	if resp.StatusCode != 400 {
		t.Errorf("empty body: %d", resp.StatusCode)
	}
	for _, q := range []string{"limit=0", "limit=x", "state=done", "kind=nope", "cursor=@@@"} {
		resp, b := e.do(t, "GET", "/v1/jobs?"+q, "", nil)
		if resp.StatusCode != 400 {
			t.Errorf("list ?%s: %d %s", q, resp.StatusCode, b)
		}
	}
	for _, p := range []string{"/v1/jobs/nope", "/v1/jobs/nope/result", "/v1/uploads/nope", "/v1/nothing"} {
		if resp, _ := e.do(t, "GET", p, "", nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := e.do(t, "POST", "/v1/jobs/nope/cancel", "", nil); resp.StatusCode != 404 {
		t.Errorf("cancel unknown: %d", resp.StatusCode)
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := start(t, "sqlite")
	body := `{"kind":"poisson.solve","params":{"n":16},"idempotency_key":"abc"}`
	c1, j1, _ := e.submit(t, body)
	c2, j2, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":16,"dim":2},"idempotency_key":"abc"}`)
	if c1 != 202 || c2 != 200 || j1.ID != j2.ID {
		t.Fatalf("resubmission: %d %s, %d %s", c1, j1.ID, c2, j2.ID)
	}
	c3, _, p := e.submit(t, `{"kind":"poisson.solve","params":{"n":32},"idempotency_key":"abc"}`)
	if c3 != http.StatusConflict || len(p.Errors) == 0 || p.Errors[0].Path != "/idempotency_key" {
		t.Fatalf("conflicting reuse: %d %+v", c3, p)
	}
}

// A running job that is cancelled ends "cancelled"; the events stream follows
// it to the end.
func TestCancelRunningJobAndEvents(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		// About 10^4 CG iterations on 1024²: tens of seconds, far longer than the test.
		_, j, p := e.submit(t, `{"kind":"poisson.solve","params":{"n":1024,"tol":1e-14,"max_iter":100000}}`)
		if j.ID == "" {
			t.Fatalf("submit: %+v", p)
		}
		req, _ := http.NewRequest("GET", e.url+"/v1/jobs/"+j.ID+"/events", nil)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events content type %q", resp.Header.Get("Content-Type"))
		}
		events := make(chan job, 100)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					var ev job
					if json.Unmarshal([]byte(data), &ev) == nil {
						events <- ev
					}
				}
			}
		}()
		// Wait until it is running and has reported progress.
		var seen []string
		deadline := time.After(60 * time.Second)
	running:
		for {
			select {
			case ev := <-events:
				seen = append(seen, ev.State)
				if ev.State == "running" && ev.Progress != nil && ev.Progress.Fraction > 0 {
					break running
				}
			case <-deadline:
				t.Fatalf("never saw progress; events %v", seen)
			}
		}
		if got := e.get(t, j.ID); got.Progress == nil || got.Progress.Message == "" {
			t.Fatalf("GET shows no progress while running: %+v", got)
		}
		t0 := time.Now()
		if resp, b := e.do(t, "POST", "/v1/jobs/"+j.ID+"/cancel", "", nil); resp.StatusCode != 202 {
			t.Fatalf("cancel: %d %s", resp.StatusCode, b)
		}
		// The stream ends with the job's final state. The cap only keeps a lost
		// cancellation from hanging the test; the time taken is logged.
		var last job
		limit := time.After(2 * time.Minute)
	stream:
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					break stream
				}
				last = ev
			case <-limit:
				t.Fatalf("the events stream had not ended 2 minutes after the cancel request; last state %q", last.State)
			}
		}
		took := time.Since(t0)
		if last.State != "cancelled" {
			t.Fatalf("stream ended with %q", last.State)
		}
		t.Logf("%s: cancelled %v after the request", dialect, took.Round(time.Millisecond))
		if got := e.get(t, j.ID); got.State != "cancelled" || got.Result != nil {
			t.Fatalf("after cancel: %+v", got)
		}
		if resp, _ := e.do(t, "GET", "/v1/jobs/"+j.ID+"/result", "", nil); resp.StatusCode != http.StatusConflict {
			t.Errorf("result of a cancelled job: %d", resp.StatusCode)
		}
	})
}

func TestCancelQueuedJob(t *testing.T) {
	e := start(t, "sqlite")
	// Fill both workers, then queue a third job and cancel it before it starts.
	var long []string
	for i := 0; i < 2; i++ {
		_, j, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":1024,"tol":1e-14,"max_iter":100000}}`)
		long = append(long, j.ID)
	}
	_, q, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":16}}`)
	resp, b := e.do(t, "POST", "/v1/jobs/"+q.ID+"/cancel", "", nil)
	var got job
	json.Unmarshal(b, &got)
	if resp.StatusCode != 202 || got.State != "cancelled" {
		t.Fatalf("cancel queued: %d %s", resp.StatusCode, b)
	}
	for _, id := range long {
		e.do(t, "POST", "/v1/jobs/"+id+"/cancel", "", nil)
	}
	for _, id := range long {
		e.wait(t, id, 20*time.Second, "cancelled")
	}
	time.Sleep(300 * time.Millisecond)
	if j := e.get(t, q.ID); j.State != "cancelled" || j.Attempt != 0 {
		t.Fatalf("cancelled queued job ran: %+v", j)
	}
}

func TestListFiltersAndCursor(t *testing.T) {
	e := start(t, "sqlite")
	ids := map[string]bool{}
	for i := 0; i < 5; i++ {
		_, j, _ := e.submit(t, fmt.Sprintf(`{"kind":"poisson.solve","params":{"n":%d}}`, 8+i))
		ids[j.ID] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("cursor does not end")
		}
		resp, b := e.do(t, "GET", "/v1/jobs?kind=poisson.solve&limit=2&cursor="+cursor, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, b)
		}
		var page struct {
			Jobs []job   `json:"jobs"`
			Next *string `json:"next_cursor"`
		}
		json.Unmarshal(b, &page)
		for _, j := range page.Jobs {
			if seen[j.ID] {
				t.Fatalf("job %s listed twice", j.ID)
			}
			seen[j.ID] = true
		}
		if page.Next == nil {
			break
		}
		cursor = *page.Next
	}
	if len(seen) != 5 {
		t.Fatalf("listed %d of 5 jobs", len(seen))
	}
	for id := range ids {
		e.wait(t, id, 30*time.Second, "succeeded")
	}
	_, b := e.do(t, "GET", "/v1/jobs?state=succeeded&limit=500", "", nil)
	if n := strings.Count(string(b), `"state": "succeeded"`); n != 5 {
		t.Fatalf("state filter found %d succeeded", n)
	}
}

func writeH5(t *testing.T) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.h5")
	w, err := hdf5io.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("/cube/Y", []float64{1, 2, 3, 4, 5, 6}, []int{2, 3}, "band,pixel", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	return b
}

// writeTrajectories returns an HDF5 file holding vorticity, 2 trajectories of
// 20 frames of 16×16 (zero but for one value), as the kinds that learn from
// trajectories read them.
func writeTrajectories(t *testing.T) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "traj.h5")
	w, err := hdf5io.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float64, 2*20*16*16)
	v[1] = 1
	if err := w.WriteFloat64("vorticity", v, []int{2, 20, 16, 16}, "sample,t,y,x", "1/time"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	return b
}

func TestUploads(t *testing.T) {
	e := start(t, "sqlite", func(c *api.Config) { c.MaxUploadBytes = 64 << 10 })
	data := writeH5(t)
	resp, b := e.do(t, "POST", "/v1/uploads", "application/x-hdf5", bytes.NewReader(data))
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var u struct {
		ID       string `json:"id"`
		Bytes    int64  `json:"bytes"`
		SHA256   string `json:"sha256"`
		Datasets []struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
			Dtype string `json:"dtype"`
		} `json:"datasets"`
	}
	json.Unmarshal(b, &u)
	sum := sha256.Sum256(data)
	if u.Bytes != int64(len(data)) || u.SHA256 != hex.EncodeToString(sum[:]) || len(u.Datasets) != 1 ||
		u.Datasets[0].Name != "/cube/Y" || fmt.Sprint(u.Datasets[0].Shape) != "[2 3]" || u.Datasets[0].Dtype != "float64" {
		t.Fatalf("upload description: %s", b)
	}
	if resp, _ := e.do(t, "GET", "/v1/uploads/"+u.ID, "", nil); resp.StatusCode != 200 {
		t.Fatalf("get upload: %d", resp.StatusCode)
	}

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "cube.h5")
	fw.Write(data)
	mw.Close()
	if resp, b := e.do(t, "POST", "/v1/uploads", mw.FormDataContentType(), &mp); resp.StatusCode != 201 || !strings.Contains(string(b), `"filename": "cube.h5"`) {
		t.Fatalf("multipart upload: %d %s", resp.StatusCode, b)
	}

	bad := []struct {
		name  string
		ctype string
		body  []byte
		code  int
	}{
		{"garbage", "application/x-hdf5", []byte("this is not HDF5 at all"), 422},
		{"truncated", "application/x-hdf5", data[:len(data)/3], 422},
		{"empty", "application/x-hdf5", nil, 400},
		{"too large", "application/x-hdf5", bytes.Repeat([]byte{0}, 70<<10), 413},
		{"wrong type", "text/plain", data, 415},
		{"multipart without file", "multipart/form-data; boundary=xyz", []byte("--xyz--\r\n"), 400},
	}
	for _, c := range bad {
		resp, b := e.do(t, "POST", "/v1/uploads", c.ctype, bytes.NewReader(c.body))
		if resp.StatusCode != c.code || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, b)
		}
	}
	// A shipped MATLAB v5 scene is accepted and its variables listed.
	if mat, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", "unmixing", "M0_jasperRidge_init.mat")); err == nil {
		big := start(t, "sqlite")
		resp, b := big.do(t, "POST", "/v1/uploads", "application/octet-stream", bytes.NewReader(mat))
		if resp.StatusCode != 201 || !strings.Contains(string(b), `"format": "mat"`) || !strings.Contains(string(b), `"name": "M0"`) ||
			!strings.Contains(string(b), "198,\n        4") && !strings.Contains(string(b), "198,") {
			t.Errorf("MAT upload: %d %s", resp.StatusCode, b)
		}
		resp, b = big.do(t, "POST", "/v1/uploads", "application/octet-stream", bytes.NewReader(mat[:200]))
		if resp.StatusCode != 422 {
			t.Errorf("truncated MAT upload: %d %s", resp.StatusCode, b)
		}
	} else if os.Getenv("CI") != "" {
		t.Fatalf("shipped data missing: %v", err)
	}
	// An upload is an acceptable input id only for kinds that take inputs.
	code, _, p := e.submit(t, `{"kind":"poisson.solve","inputs":{"cube":"`+u.ID+`"}}`)
	if code != 422 || p.Errors[0].Path != "/inputs/cube" {
		t.Fatalf("input to a kind without inputs: %d %+v", code, p)
	}
}

func TestDocsMetricsHealthAndAuth(t *testing.T) {
	e := start(t, "sqlite", func(c *api.Config) { c.Tokens = []string{"s3cret"} })
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json", "/v1/kinds"} {
		if resp, b := e.do(t, "GET", p, "", nil); resp.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, b)
		}
	}
	_, b := e.do(t, "GET", "/openapi.json", "", nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.OpenAPI != "3.1.0" || doc.Paths["/v1/jobs/{id}/events"] == nil {
		t.Fatalf("openapi: %v %s", err, b[:min(200, len(b))])
	}
	if !strings.Contains(string(b), `"poisson.solve"`) {
		t.Error("openapi lacks the kinds' params")
	}
	_, b = e.do(t, "GET", "/v1/kinds", "", nil)
	if !strings.Contains(string(b), `"enum": [`) || !strings.Contains(string(b), `"params_schema"`) {
		t.Errorf("kinds: %s", b)
	}
	_, j, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
	e.wait(t, j.ID, 30*time.Second, "succeeded")
	_, b = e.do(t, "GET", "/metrics", "", nil)
	for _, want := range []string{`eddy_jobs{kind="poisson.solve",state="succeeded"} 1`,
		`eddy_http_request_duration_seconds_bucket{method="POST",route="/v1/jobs",status="202"`,
		`eddy_job_duration_seconds_count{kind="poisson.solve"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s in\n%s", want, b)
		}
	}
	anon := &env{url: e.url, client: e.client}
	if resp, _ := anon.do(t, "GET", "/v1/jobs", "", nil); resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	wrong := &env{url: e.url, client: e.client, token: "nope"}
	if resp, _ := wrong.do(t, "GET", "/v1/jobs", "", nil); resp.StatusCode != 401 {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	if resp, _ := anon.do(t, "GET", "/healthz", "", nil); resp.StatusCode != 200 {
		t.Errorf("healthz needs no token: %d", resp.StatusCode)
	}
}

// Images and sounds are uploads under their own media types (the content
// decides the format), and a type that is no file's is refused.
func TestMediaUploads(t *testing.T) {
	e := start(t, "sqlite")
	var png bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 16, 8))
	img.Set(3, 4, color.RGBA{200, 10, 10, 255})
	if err := pngenc.Encode(&png, img); err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"image/png", "application/octet-stream"} {
		resp, b := e.do(t, "POST", "/v1/uploads", ct, bytes.NewReader(png.Bytes()))
		if resp.StatusCode != 201 {
			t.Fatalf("%s: %d %s", ct, resp.StatusCode, b)
		}
		var u struct {
			ID, Format string
		}
		json.Unmarshal(b, &u)
		if u.Format != "png" {
			t.Errorf("%s: format %q: %s", ct, u.Format, b)
		}
	}
	if resp, b := e.do(t, "POST", "/v1/uploads", "text/html", bytes.NewReader(png.Bytes())); resp.StatusCode != 415 {
		t.Errorf("text/html: %d %s", resp.StatusCode, b)
	}
}
