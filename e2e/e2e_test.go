// Package e2e drives the real binaries over HTTP on loopback: cmd/api alone on
// SQLite, and cmd/api with two cmd/worker processes on PostgreSQL, including a
// worker killed with SIGKILL mid-job and one stopped with SIGTERM.
package e2e

import (
	"bufio"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"eddy/hdf5io"
	"eddy/internal/pgtest"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eddy-e2e-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	build := exec.Command("go", "build", "-o", dir+"/", "eddy/cmd/api", "eddy/cmd/worker")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building binaries:", err)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a running binary whose output goes to a log file.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan error
}

func startProc(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, b)
		}
	})
	return p
}

func (p *proc) signal(t testing.TB, sig syscall.Signal) { p.cmd.Process.Signal(sig) }

// exited reports whether the process has ended, and how.
func (p *proc) exited() (bool, error) {
	select {
	case err := <-p.done:
		p.done <- err
		return true, err
	default:
		return false, nil
	}
}

func (p *proc) waitExit(t testing.TB, timeout time.Duration) error {
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		t.Fatalf("process %d did not exit within %v", p.cmd.Process.Pid, timeout)
		return nil
	}
}

type client struct{ base string }

func (c client) req(t testing.TB, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c client) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(c.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("API not ready within 60 s")
}

type job struct {
	ID       string  `json:"id"`
	State    string  `json:"state"`
	Attempt  int     `json:"attempt"`
	Error    *string `json:"error"`
	Progress *struct {
		Fraction float64 `json:"fraction"`
	} `json:"progress"`
	Result *struct {
		URL     string         `json:"url"`
		SHA256  string         `json:"sha256"`
		Metrics map[string]any `json:"metrics"`
	} `json:"result"`
}

func (c client) submit(t testing.TB, body string) job {
	t.Helper()
	code, b := c.req(t, "POST", "/v1/jobs", body)
	if code != 202 {
		t.Fatalf("submit: %d %s", code, b)
	}
	var j job
	json.Unmarshal(b, &j)
	return j
}

func (c client) get(t testing.TB, id string) job {
	t.Helper()
	code, b := c.req(t, "GET", "/v1/jobs/"+id, "")
	if code != 200 {
		t.Fatalf("get: %d %s", code, b)
	}
	var j job
	json.Unmarshal(b, &j)
	return j
}

func (c client) waitFor(t testing.TB, id string, timeout time.Duration, ok func(job) bool) job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := c.get(t, id)
		if ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: condition not met within %v: %+v", id, timeout, j)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func final(j job) bool {
	return j.State == "succeeded" || j.State == "failed" || j.State == "cancelled"
}

// waitCancelled waits for a job whose cancellation was just requested to end,
// and checks that it ended cancelled (a lost cancellation lets it succeed or
// fail). The two-minute cap only keeps a stuck job from hanging the test; how
// long the cancellation took is logged, not asserted.
func (c client) waitCancelled(t testing.TB, id string) {
	t.Helper()
	t0 := time.Now()
	if j := c.waitFor(t, id, 2*time.Minute, final); j.State != "cancelled" {
		t.Fatalf("job %s ended %s after the cancel request, want cancelled", id, j.State)
	}
	t.Logf("job %s cancelled %v after the request", id, time.Since(t0).Round(time.Millisecond))
}

// checkResult downloads the result, checks its SHA-256, and reads it back.
func (c client) checkResult(t testing.TB, j job, wantN int) {
	t.Helper()
	code, body := c.req(t, "GET", j.Result.URL, "")
	if code != 200 {
		t.Fatalf("result: %d", code)
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != j.Result.SHA256 {
		t.Fatal("result SHA-256 mismatch")
	}
	path := filepath.Join(t.TempDir(), "r.h5")
	os.WriteFile(path, body, 0o644)
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, shape, err := f.ReadFloat64("solution")
	if err != nil || shape[len(shape)-1] != wantN {
		t.Fatalf("solution shape %v: %v", shape, err)
	}
	if e, err := f.AttrFloat64("/metrics", "error_l2"); err != nil || e <= 0 || e > 1e-2 {
		t.Fatalf("error_l2 %g: %v", e, err)
	}
}

// streamStates follows the SSE stream of a job until it ends, returning the states.
func (c client) streamStates(t testing.TB, id string) []string {
	t.Helper()
	resp, err := http.Get(c.base + "/v1/jobs/" + id + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var states []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var j job
			json.Unmarshal([]byte(data), &j)
			if len(states) == 0 || states[len(states)-1] != j.State {
				states = append(states, j.State)
			}
		}
	}
	return states
}

// longJob keeps a worker busy for tens of seconds (thousands of CG iterations on 1024²).
const longJob = `{"kind":"poisson.solve","params":{"n":1024,"tol":1e-13,"max_iter":200000}}`

func TestSQLiteEmbedded(t *testing.T) {
	addr := freeAddr(t)
	data := t.TempDir()
	api := startProc(t, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + data, "DATABASE_URL=", "EDDY_WORKERS=2"})
	c := client{"http://" + addr}
	c.waitReady(t)

	j := c.submit(t, `{"kind":"poisson.solve","params":{"dim":3,"n":32}}`)
	states := c.streamStates(t, j.ID)
	if states[len(states)-1] != "succeeded" {
		t.Fatalf("event states %v", states)
	}
	j = c.get(t, j.ID)
	c.checkResult(t, j, 32)

	// The Navier–Stokes data set of the issue: 16 GRF samples at 64², t = 0 … 10.
	ns := c.submit(t, `{"kind":"navier_stokes.simulate","params":{"samples":16,"n":64,"t_end":10}}`)
	ns = c.waitFor(t, ns.ID, 5*time.Minute, final)
	if ns.State != "succeeded" {
		t.Fatalf("navier_stokes.simulate: %+v", ns)
	}
	code, body := c.req(t, "GET", ns.Result.URL, "")
	if code != 200 {
		t.Fatalf("result: %d", code)
	}
	nsPath := filepath.Join(t.TempDir(), "ns.h5")
	os.WriteFile(nsPath, body, 0o644)
	f, err := hdf5io.Open(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	_, shape, err := f.ReadFloat64("vorticity")
	f.Close()
	if err != nil || fmt.Sprint(shape) != "[16 51 64 64]" {
		t.Fatalf("vorticity shape %v: %v", shape, err)
	}

	long := c.submit(t, longJob)
	c.waitFor(t, long.ID, 30*time.Second, func(j job) bool { return j.State == "running" && j.Progress != nil })
	if code, b := c.req(t, "POST", "/v1/jobs/"+long.ID+"/cancel", ""); code != 202 {
		t.Fatalf("cancel: %d %s", code, b)
	}
	c.waitCancelled(t, long.ID)

	// SIGTERM: the API stops cleanly, handing a running job back to the queue.
	again := c.submit(t, longJob)
	c.waitFor(t, again.ID, 30*time.Second, func(j job) bool { return j.State == "running" })
	api.signal(t, syscall.SIGTERM)
	if err := api.waitExit(t, 30*time.Second); err != nil {
		t.Fatalf("api exit: %v", err)
	}
	// Restarted on the same data, the API finds the job queued and can cancel it.
	startProc(t, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + data, "DATABASE_URL=", "EDDY_WORKERS=1"})
	c.waitReady(t)
	if j := c.get(t, again.ID); j.State != "queued" && j.State != "running" {
		t.Fatalf("after restart the interrupted job is %s", j.State)
	}
	c.req(t, "POST", "/v1/jobs/"+again.ID+"/cancel", "")
	c.waitCancelled(t, again.ID)
}

// workerOf returns the pid encoded in the worker id holding a run.
func workerOf(t testing.TB, db *sql.DB, id string) int {
	t.Helper()
	var w sql.NullString
	if err := db.QueryRow(`SELECT worker_id FROM runs WHERE id = $1`, id).Scan(&w); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(w.String, "-")
	if len(parts) < 3 {
		t.Fatalf("worker id %q", w.String)
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil {
		t.Fatalf("worker id %q: %v", w.String, err)
	}
	return pid
}

// pgDeployment is an insert-only API and worker processes on one PostgreSQL
// database and data folder.
type pgDeployment struct {
	c       client
	workers map[int]*proc // by pid
	data    string
	db      *sql.DB
	env     []string // of every process
}

// postgresDeployment starts, at once, an insert-only API and two worker
// processes (one job each) on a fresh PostgreSQL database, with extra
// environment.
func postgresDeployment(t *testing.T, extra ...string) pgDeployment {
	t.Helper()
	return deployOn(t, pgtest.NewDatabase(t), extra...)
}

// deployOn starts the API and two workers on the database dbURL.
func deployOn(t *testing.T, dbURL string, extra ...string) pgDeployment {
	t.Helper()
	addr := freeAddr(t)
	d := pgDeployment{data: t.TempDir(), workers: map[int]*proc{}, c: client{"http://" + addr}}
	d.env = append([]string{"DATABASE_URL=" + dbURL, "EDDY_DATA_DIR=" + d.data, "EDDY_ADDR=" + addr}, extra...)
	// All three start at once: their migrations must serialise.
	startProc(t, "api", d.env)
	for i := 0; i < 2; i++ {
		w := startProc(t, "worker", append(d.env, "EDDY_WORKERS=1"))
		d.workers[w.cmd.Process.Pid] = w
	}
	d.c.waitReady(t)
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d.db = db
	return d
}

func TestPostgresWithSeparateWorkers(t *testing.T) {
	d := postgresDeployment(t)
	c, workers, db, env := d.c, d.workers, d.db, d.env

	j := c.submit(t, `{"kind":"poisson.solve","params":{"dim":2,"n":96}}`)
	j = c.waitFor(t, j.ID, 60*time.Second, final)
	if j.State != "succeeded" {
		t.Fatalf("job on workers: %+v", j)
	}
	c.checkResult(t, j, 96)

	// SIGKILL the worker holding a long job: the other worker re-runs it.
	long := c.submit(t, longJob)
	c.waitFor(t, long.ID, 30*time.Second, func(j job) bool { return j.State == "running" && j.Progress != nil })
	victim := workerOf(t, db, long.ID)
	w := workers[victim]
	if w == nil {
		t.Fatalf("job held by unknown pid %d", victim)
	}
	w.cmd.Process.Kill()
	killed := time.Now()
	delete(workers, victim)
	done := c.waitFor(t, long.ID, 2*time.Minute, final)
	if done.State != "succeeded" || done.Attempt != 2 {
		t.Fatalf("after SIGKILL: %+v (error %v)", done, done.Error)
	}
	t.Logf("job finished on the other worker %v after the SIGKILL", time.Since(killed).Round(time.Second))
	c.checkResult(t, done, 1024)

	// A replacement worker joins; SIGTERM the one holding the next job: it exits
	// promptly and the job is re-queued, not lost.
	repl := startProc(t, "worker", append(env, "EDDY_WORKERS=1"))
	workers[repl.cmd.Process.Pid] = repl
	next := c.submit(t, longJob)
	c.waitFor(t, next.ID, 30*time.Second, func(j job) bool { return j.State == "running" })
	holder := workers[workerOf(t, db, next.ID)]
	holder.signal(t, syscall.SIGTERM)
	if err := holder.waitExit(t, 30*time.Second); err != nil {
		t.Fatalf("worker exit after SIGTERM: %v", err)
	}
	j = c.get(t, next.ID)
	if j.State != "queued" && j.State != "running" {
		t.Fatalf("after SIGTERM the job is %s", j.State)
	}
	c.waitFor(t, next.ID, 20*time.Second, func(j job) bool { return j.State == "running" })
	c.req(t, "POST", "/v1/jobs/"+next.ID+"/cancel", "")
	c.waitCancelled(t, next.ID)
}
