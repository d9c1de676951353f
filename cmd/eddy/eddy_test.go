package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/api"
	"eddy/jobs"
	"eddy/storage"
)

const testToken = "test-token-1"

// testAPI is a real Eddy API (SQLite, two in-process workers) on a loopback port,
// behind a recorder of the requests it gets. failEvents makes the event stream
// endpoint unavailable, to exercise the polling fallback.
type testAPI struct {
	url        string
	failEvents atomic.Bool

	mu       sync.Mutex
	requests []recorded
}

type recorded struct{ method, path, rangeHdr string }

func startAPI(t *testing.T) *testAPI {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := storage.Open(ctx, "sqlite://"+t.TempDir()+"/e.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	arts, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := jobs.New(jobs.Config{DB: db, Artifacts: arts, Workers: 2, FetchPollInterval: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Stop(sctx); err != nil {
			t.Errorf("stopping the job service: %v", err)
		}
	})
	h := api.New(api.Config{Jobs: svc, DB: db, Artifacts: arts, Tokens: []string{testToken},
		Logger: quiet, EventPoll: 50 * time.Millisecond})
	ta := &testAPI{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ta.mu.Lock()
		ta.requests = append(ta.requests, recorded{r.Method, r.URL.Path, r.Header.Get("Range")})
		ta.mu.Unlock()
		if ta.failEvents.Load() && strings.HasSuffix(r.URL.Path, "/events") {
			http.Error(w, "streaming disabled", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ta.url = srv.URL
	return ta
}

// since returns the requests recorded after the first n.
func (ta *testAPI) since(n int) []recorded {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	return append([]recorded(nil), ta.requests[n:]...)
}

func (ta *testAPI) count() int {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	return len(ta.requests)
}

type result struct {
	stdout, stderr string
	code           int
}

// eddy runs the command line against the test API, with EDDY_SERVER and
// EDDY_TOKEN set unless env overrides them.
func (ta *testAPI) eddy(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	vars := map[string]string{"EDDY_SERVER": ta.url, "EDDY_TOKEN": testToken}
	for k, v := range env {
		vars[k] = v
	}
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] },
		poll: 50 * time.Millisecond, idle: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := c.run(ctx, args)
	return result{out.String(), errb.String(), code}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func (ta *testAPI) jobJSON(t *testing.T, id string) *Job {
	t.Helper()
	r := ta.eddy(t, nil, "status", id, "--json")
	if r.code != 0 {
		t.Fatalf("status --json: %v", r)
	}
	j := new(Job)
	if err := json.Unmarshal([]byte(r.stdout), j); err != nil {
		t.Fatalf("status --json is not a job: %v\n%s", err, r.stdout)
	}
	return j
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}

func TestCommandLineAgainstAPI(t *testing.T) {
	ta := startAPI(t)
	dir := t.TempDir()
	var submitted []string

	t.Run("kinds", func(t *testing.T) {
		r := ta.eddy(t, nil, "kinds", "poisson.solve")
		if r.code != 0 || !strings.Contains(r.stdout, "poisson.solve") {
			t.Fatalf("kinds: %v", r)
		}
		var nLine string
		for _, l := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(l); len(f) > 2 && f[0] == "n" {
				nLine = l
			}
		}
		if f := strings.Fields(nLine); len(f) < 4 || f[1] != "integer" || f[2] != "64" || f[3] != "2..8192" {
			t.Errorf("param n shown as %q, want type integer, default 64, range 2..8192\n%s", nLine, r.stdout)
		}
	})

	t.Run("auth", func(t *testing.T) {
		r := ta.eddy(t, map[string]string{"EDDY_TOKEN": ""}, "list")
		if r.code != 1 || !strings.Contains(r.stderr, "HTTP 401") || !strings.Contains(r.stderr, "--token") {
			t.Errorf("without a token: %v", r)
		}
		r = ta.eddy(t, map[string]string{"EDDY_TOKEN": ""}, "list", "--token", testToken)
		if r.code != 0 {
			t.Errorf("with --token: %v", r)
		}
	})

	var id string
	t.Run("submit-wait", func(t *testing.T) {
		n := ta.count()
		r := ta.eddy(t, nil, "submit", "poisson.solve", "-p", "dim=2", "-p", "n=32", "-p", "tol=1e-10", "-p", "method=cg", "--wait")
		if r.code != 0 {
			t.Fatalf("submit --wait: %v", r)
		}
		id = firstLine(r.stdout)
		submitted = append(submitted, id)
		for _, want := range []string{"state     succeeded", "iterations", "rel_residual", "solution"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("final summary lacks %q:\n%s", want, r.stdout)
			}
		}
		if !strings.Contains(r.stderr, "100%  succeeded") {
			t.Errorf("progress display lacks the final line:\n%s", r.stderr)
		}
		streamed := false
		for _, q := range ta.since(n) {
			streamed = streamed || q.path == "/v1/jobs/"+id+"/events"
		}
		if !streamed {
			t.Error("the progress was not driven by the event stream")
		}
		j := ta.jobJSON(t, id)
		var p map[string]any
		json.Unmarshal(j.Params, &p)
		if p["n"] != 32.0 || p["tol"] != 1e-10 || p["method"] != "cg" {
			t.Errorf("params reached the server as %s", j.Params)
		}
		r = ta.eddy(t, nil, "status", id)
		if r.code != 0 || !strings.Contains(r.stdout, "kind      poisson.solve") || strings.Contains(r.stdout, "warning") {
			t.Errorf("status: %v", r)
		}
	})

	// A run that succeeded with a warning (here a solve stopped by its
	// iteration limit) shows it in the summary, not only in the JSON.
	t.Run("warnings", func(t *testing.T) {
		r := ta.eddy(t, nil, "submit", "poisson.solve", "-p", "dim=2", "-p", "n=32", "-p", "method=cg", "-p", "max_iter=3", "--wait")
		if r.code != 0 {
			t.Fatalf("submit --wait: %v", r)
		}
		submitted = append(submitted, firstLine(r.stdout))
		if !strings.Contains(r.stdout, "warning   cg did not converge") {
			t.Errorf("the summary lacks the warning:\n%s", r.stdout)
		}
	})
	if id == "" {
		t.FailNow()
	}

	out := filepath.Join(dir, "result.h5")
	t.Run("get-and-resume", func(t *testing.T) {
		want := ta.jobJSON(t, id).Result.SHA256
		r := ta.eddy(t, nil, "get", id, "-o", out)
		if r.code != 0 || !strings.Contains(r.stdout, "written") {
			t.Fatalf("get: %v", r)
		}
		if got := fileSHA256(t, out); got != want {
			t.Fatalf("downloaded file has sha256 %s, the job says %s", got, want)
		}
		whole, _ := os.ReadFile(out)

		half := int64(len(whole) / 2)
		if err := os.Truncate(out, half); err != nil {
			t.Fatal(err)
		}
		n := ta.count()
		r = ta.eddy(t, nil, "get", id, "-o", out)
		if r.code != 0 || !strings.Contains(r.stdout, "resumed at byte") {
			t.Fatalf("get of a truncated file: %v", r)
		}
		if got := fileSHA256(t, out); got != want {
			t.Fatalf("resumed file has sha256 %s, want %s", got, want)
		}
		ranged := false
		for _, q := range ta.since(n) {
			ranged = ranged || q.path == "/v1/jobs/"+id+"/result" && q.rangeHdr == "bytes="+strconv.FormatInt(half, 10)+"-"
		}
		if !ranged {
			t.Errorf("no Range request from byte %d: %+v", half, ta.since(n))
		}

		r = ta.eddy(t, nil, "get", id, "-o", out)
		if r.code != 0 || !strings.Contains(r.stdout, "already complete") {
			t.Errorf("get of a complete file: %v", r)
		}

		// A partial file that is not a prefix of the result is fetched again whole.
		bad := append([]byte(nil), whole[:half]...)
		bad[10] ^= 0xff
		if err := os.WriteFile(out, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		r = ta.eddy(t, nil, "get", id, "-o", out)
		if r.code != 0 {
			t.Fatalf("get over a corrupt partial file: %v", r)
		}
		if got := fileSHA256(t, out); got != want {
			t.Fatalf("file after a corrupt partial download has sha256 %s, want %s", got, want)
		}

		r = ta.eddy(t, nil, "get", id, "-o", "-")
		if r.code != 0 || r.stdout != string(whole) {
			t.Errorf("get -o - wrote %d bytes (exit %d), want the %d bytes of the result; stderr %s", len(r.stdout), r.code, len(whole), r.stderr)
		}
	})

	t.Run("bad-params", func(t *testing.T) {
		for _, tc := range []struct{ arg, want string }{
			{"n=1", "/params/n: "},
			{"n=abc", "/params/n: must be an integer"},
			{"bogus=3", "/params/bogus: unknown parameter"},
		} {
			r := ta.eddy(t, nil, "submit", "poisson.solve", "-p", "dim=2", "-p", tc.arg)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("-p %s: want exit 1 and %q on stderr, got %v", tc.arg, tc.want, r)
			}
		}
		r := ta.eddy(t, nil, "submit", "no.such.kind")
		if r.code != 1 || !strings.Contains(r.stderr, "/kind") {
			t.Errorf("unknown kind: %v", r)
		}
	})

	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"submit"},
			{"submit", "poisson.solve", "-p", "novalue"},
			{"submit", "poisson.solve", "--params", "[1]"},
			{"frobnicate"},
			{"status", "a", "b"},
			{"list", "--limit", "x"},
		} {
			if r := ta.eddy(t, nil, args...); r.code != 2 {
				t.Errorf("%q: want exit 2, got %v", args, r)
			}
		}
		if r := ta.eddy(t, nil, "status", "no-such-job"); r.code != 1 || !strings.Contains(r.stderr, "HTTP 404") {
			t.Errorf("status of an unknown job: %v", r)
		}
	})

	t.Run("idempotency", func(t *testing.T) {
		args := []string{"submit", "poisson.solve", "--params", `{"dim":2,"n":16}`, "--idempotency-key", "k-1"}
		a := ta.eddy(t, nil, args...)
		b := ta.eddy(t, nil, args...)
		if a.code != 0 || b.code != 0 || firstLine(a.stdout) != firstLine(b.stdout) {
			t.Fatalf("same key twice gave\n%v\n%v", a, b)
		}
		if !strings.Contains(b.stderr, "used before") {
			t.Errorf("the repeated submission is not pointed out: %v", b)
		}
		submitted = append(submitted, firstLine(a.stdout))
	})

	t.Run("polling-fallback", func(t *testing.T) {
		ta.failEvents.Store(true)
		defer ta.failEvents.Store(false)
		r := ta.eddy(t, nil, "submit", "poisson.solve", "-p", "dim=2", "-p", "n=24", "--wait")
		if r.code != 0 || !strings.Contains(r.stdout, "state     succeeded") {
			t.Fatalf("submit --wait without the event stream: %v", r)
		}
		submitted = append(submitted, firstLine(r.stdout))
	})

	t.Run("cancel", func(t *testing.T) {
		// Large enough to run for many seconds if it were not cancelled.
		r := ta.eddy(t, nil, "submit", "poisson.solve", "-p", "dim=2", "-p", "n=1024", "-p", "tol=1e-15")
		if r.code != 0 {
			t.Fatalf("submit: %v", r)
		}
		long := firstLine(r.stdout)
		submitted = append(submitted, long)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if ta.jobJSON(t, long).State == "running" {
				break
			}
		}
		r = ta.eddy(t, nil, "cancel", long)
		if r.code != 0 || !strings.Contains(r.stdout, long) {
			t.Fatalf("cancel: %v", r)
		}
		r = ta.eddy(t, nil, "watch", long)
		if r.code != 1 || !strings.Contains(r.stdout, "state     cancelled") || !strings.Contains(r.stderr, "ended cancelled") {
			t.Errorf("watch of a cancelled job: %v", r)
		}
		r = ta.eddy(t, nil, "get", long, "-o", filepath.Join(dir, "none.h5"))
		if r.code != 1 || !strings.Contains(r.stderr, "cancelled") {
			t.Errorf("get of a cancelled job: %v", r)
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := ta.eddy(t, nil, "submit", "poisson.solve", "-p", "n=16", "--wait")
		if r.code != 0 {
			t.Fatalf("submit: %v", r)
		}
		id := firstLine(r.stdout)
		if r = ta.eddy(t, nil, "delete", id); r.code != 0 || !strings.Contains(r.stdout, id+" deleted") {
			t.Fatalf("delete of an ended job: %v", r)
		}
		if r = ta.eddy(t, nil, "status", id); r.code != 1 {
			t.Errorf("status of a deleted job: %v", r)
		}
		if r = ta.eddy(t, nil, "delete", "--upload", "no-such-upload"); r.code != 1 || !strings.Contains(r.stderr, "no-such-upload") {
			t.Errorf("delete of an unknown upload: %v", r)
		}
	})

	t.Run("list", func(t *testing.T) {
		r := ta.eddy(t, nil, "list", "--limit", "1")
		if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 2 || !strings.Contains(r.stderr, "--cursor") {
			t.Errorf("list --limit 1: want a header, one job and a hint about the next page: %v", r)
		}
		n := ta.count()
		r = ta.eddy(t, nil, "list", "--limit", "1", "--all", "--json")
		var all []Job
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &all) != nil {
			t.Fatalf("list --all --json: %v", r)
		}
		got := map[string]bool{}
		for _, j := range all {
			got[j.ID] = true
		}
		for _, s := range submitted {
			if !got[s] {
				t.Errorf("list --all lacks job %s", s)
			}
		}
		if len(all) != len(submitted) {
			t.Errorf("list --all gave %d jobs, %d were submitted", len(all), len(submitted))
		}
		if pages := len(ta.since(n)); pages < len(submitted) {
			t.Errorf("list --all --limit 1 made %d requests for %d jobs", pages, len(submitted))
		}
		r = ta.eddy(t, nil, "list", "--state", "cancelled")
		if r.code != 0 || strings.Count(strings.TrimSpace(r.stdout), "\n") != 1 || !strings.Contains(r.stdout, "cancelled") {
			t.Errorf("list --state cancelled: %v", r)
		}
		r = ta.eddy(t, nil, "list", "--state", "bogus")
		if r.code != 1 || !strings.Contains(r.stderr, "/query/state: ") {
			t.Errorf("list --state bogus: %v", r)
		}
	})

	t.Run("upload", func(t *testing.T) {
		r := ta.eddy(t, nil, "upload", out)
		var u struct {
			ID       string `json:"id"`
			SHA256   string `json:"sha256"`
			Datasets []struct {
				Name string `json:"name"`
			} `json:"datasets"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &u) != nil || u.ID == "" {
			t.Fatalf("upload: %v", r)
		}
		if u.SHA256 != fileSHA256(t, out) || len(u.Datasets) == 0 {
			t.Errorf("upload answer %s", r.stdout)
		}
		junk := filepath.Join(dir, "junk.h5")
		os.WriteFile(junk, []byte("not an HDF5 file"), 0o644)
		r = ta.eddy(t, nil, "upload", junk)
		if r.code != 1 || !strings.Contains(r.stderr, "HTTP 422") {
			t.Errorf("upload of a non-HDF5 file: %v", r)
		}

		// "eddy uploads" lists them newest first; --all follows the pages.
		r = ta.eddy(t, nil, "upload", out)
		var second struct{ ID string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &second) != nil {
			t.Fatalf("second upload: %v", r)
		}
		r = ta.eddy(t, nil, "uploads")
		if r.code != 0 || !strings.Contains(r.stdout, u.ID) || strings.Index(r.stdout, second.ID) > strings.Index(r.stdout, u.ID) {
			t.Errorf("uploads: want %s then %s: %v", second.ID, u.ID, r)
		}
		r = ta.eddy(t, nil, "uploads", "--limit", "1", "--all", "--json")
		var listed []struct{ ID string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &listed) != nil || len(listed) != 2 || listed[0].ID != second.ID || listed[1].ID != u.ID {
			t.Errorf("uploads --limit 1 --all --json: %v", r)
		}
	})
}
