package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"eddy/internal/pgtest"
)

// PostgreSQL goes down for 8 s while six jobs run on two workers: the API
// answers 503 with Retry-After (readiness, submit, job reads) while it is
// down, every process lives on (a worker started during the outage waits for
// the database), and every job ends succeeded exactly once.
func TestPostgresRestartWhileJobsRun(t *testing.T) {
	srv := pgtest.NewServer(t)
	d := deployOn(t, srv.URL())
	c := d.c
	var ids []string
	for range 6 {
		ids = append(ids, c.submit(t, `{"kind":"navier_stokes.simulate","params":{"n":64,"samples":2,"t_end":10}}`).ID)
	}
	c.waitFor(t, ids[0], time.Minute, func(j job) bool { return j.State == "running" || final(j) })

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	check := func(method, path, body string) {
		t.Helper()
		req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s with the database down: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s with the database down: %d (Retry-After %q) %s", method, path, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
	}
	// A worker started while the database is down waits for it.
	late := startProc(t, "worker", append(d.env, "EDDY_WORKERS=1"))
	d.workers[late.cmd.Process.Pid] = late
	check("GET", "/readyz", "")
	check("POST", "/v1/jobs", `{"kind":"poisson.solve","params":{"n":16}}`)
	check("GET", "/v1/jobs/"+ids[1], "")
	check("GET", "/v1/jobs", "")
	time.Sleep(time.Until(down.Add(8 * time.Second)))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("database down for %v", time.Since(down).Round(100*time.Millisecond))
	c.waitReady(t)

	for _, id := range ids {
		j := c.waitFor(t, id, 3*time.Minute, final)
		if j.State != "succeeded" {
			t.Errorf("job %s after the outage: %+v (error %v)", id, j, j.Error)
			continue
		}
		t.Logf("job %s succeeded on attempt %d", id, j.Attempt)
	}
	for pid, w := range d.workers {
		if gone, err := w.exited(); gone {
			t.Errorf("worker %d exited during the outage: %v", pid, err)
		}
	}
	if j := c.submit(t, `{"kind":"poisson.solve","params":{"n":16}}`); c.waitFor(t, j.ID, time.Minute, final).State != "succeeded" {
		t.Error("a job after the outage did not succeed")
	}
}
