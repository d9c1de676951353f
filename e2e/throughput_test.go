package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"eddy/internal/pgtest"
)

// Helpers of the scale-out load benchmark (BenchmarkWorkerScaling): River's
// insert notifications counted on the database, the sessions listening for
// them, River alone working no-op jobs inserted one per transaction (the
// floor Eddy's queue overhead is measured against: no HTTP, no runs table, no
// result file), and a smoke run of it all at a tiny size.

// throughputSize is how much load one run applies.
type throughputSize struct {
	burst int           // jobs submitted at once by 8 clients
	paced int           // jobs then submitted one at a time
	pace  time.Duration // between paced submissions: well below capacity, so their wait is the pick-up alone
}

var smokeThroughput = throughputSize{burst: 10, paced: 4, pace: 100 * time.Millisecond}

const burstSubmitters = 8

// stamps are one job's times as its queue recorded them.
type stamps struct{ created, started, finished time.Time }

// queueRun is what one configuration measured.
type queueRun struct {
	name       string
	jobsPerSec float64          // burst jobs over first submission to last finish
	wait       [2]time.Duration // burst submit→start p50, p99 (mostly queueing)
	pickup     [2]time.Duration // paced submit→start p50, p99
	notifies   int              // insert notifications seen during the paced phase
}

// quantile is the nearest-rank p-quantile of d.
func quantile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func summarize(t testing.TB, name string, burst, paced []stamps, notifies int) queueRun {
	t.Helper()
	r := queueRun{name: name, notifies: notifies}
	first, last := burst[0].created, burst[0].finished
	var wait, pickup []time.Duration
	for _, s := range burst {
		if s.started.Before(s.created) || s.finished.Before(s.started) {
			t.Fatalf("%s: times out of order: %+v", name, s)
		}
		if s.created.Before(first) {
			first = s.created
		}
		if s.finished.After(last) {
			last = s.finished
		}
		wait = append(wait, s.started.Sub(s.created))
	}
	for _, s := range paced {
		if s.started.Before(s.created) {
			t.Fatalf("%s: started before created: %+v", name, s)
		}
		pickup = append(pickup, s.started.Sub(s.created))
	}
	r.jobsPerSec = float64(len(burst)) / last.Sub(first).Seconds()
	r.wait = [2]time.Duration{quantile(wait, 0.5), quantile(wait, 0.99)}
	r.pickup = [2]time.Duration{quantile(pickup, 0.5), quantile(pickup, 0.99)}
	return r
}

// burstAndPaced submits sz.burst jobs from 8 goroutines and waits for them,
// then sz.paced jobs one every sz.pace and waits for those. submit returns a
// job's id; done reports how many of ids have ended.
func burstAndPaced(t testing.TB, sz throughputSize, submit func() (string, error), done func([]string) (int, error), notes *notifyCounter) (burst, paced []string, notifies int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failed atomic.Value
	for k := 0; k < burstSubmitters; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < sz.burst; i += burstSubmitters {
				id, err := submit()
				if err != nil {
					failed.Store(err)
					return
				}
				mu.Lock()
				burst = append(burst, id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatalf("submit: %v", err)
	}
	waitDone(t, burst, done)
	n0 := notes.count()
	tick := time.NewTicker(sz.pace)
	defer tick.Stop()
	for i := 0; i < sz.paced; i++ {
		<-tick.C
		id, err := submit()
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		paced = append(paced, id)
	}
	waitDone(t, paced, done)
	// A notification can reach the counter after its job has ended.
	for wait := time.Now().Add(2 * time.Second); notes.count()-n0 < len(paced) && time.Now().Before(wait); {
		time.Sleep(10 * time.Millisecond)
	}
	return burst, paced, notes.count() - n0
}

func waitDone(t testing.TB, ids []string, done func([]string) (int, error)) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n, err := done(ids)
		if err != nil {
			t.Fatal(err)
		}
		if n == len(ids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs ended within 5 minutes", n, len(ids))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// notifyCounter counts River's insert notifications on the database: seeing
// one for every job, and pick-ups far shorter than those of River polling
// alone with the workers' 200 ms interval, is what shows LISTEN/NOTIFY at
// work.
type notifyCounter struct {
	n    atomic.Int64
	stop context.CancelFunc
	done chan struct{}
}

func listenInserts(t testing.TB, dbURL string) *notifyCounter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `LISTEN "`+schema+`.river_insert"`); err != nil {
		t.Fatal(err)
	}
	nc := &notifyCounter{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(nc.done)
		for {
			if _, err := conn.WaitForNotification(ctx); err != nil {
				return
			}
			nc.n.Add(1)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-nc.done
		conn.Close(context.Background())
	})
	return nc
}

func (nc *notifyCounter) count() int { return int(nc.n.Load()) }

type jobTimes struct {
	State      string     `json:"state"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// eddyStamps reads the jobs' times from the API.
func eddyStamps(t testing.TB, c client, ids []string) []stamps {
	t.Helper()
	var out []stamps
	for _, id := range ids {
		code, b := c.req(t, "GET", "/v1/jobs/"+id, "")
		var j jobTimes
		if err := json.Unmarshal(b, &j); code != 200 || err != nil {
			t.Fatalf("get %s: %d %s", id, code, b)
		}
		if j.State != "succeeded" || j.StartedAt == nil || j.FinishedAt == nil {
			t.Fatalf("job %s: %s", id, b)
		}
		out = append(out, stamps{j.CreatedAt, *j.StartedAt, *j.FinishedAt})
	}
	return out
}

// eddyRun measures the API with n worker processes, each running one job at
// a time, on the deployment's database.
func eddyRun(t testing.TB, sz throughputSize, c client, env []string, db *sql.DB, notes *notifyCounter, n int) queueRun {
	t.Helper()
	var procs []*proc
	for i := 0; i < n; i++ {
		metrics := freeAddr(t)
		procs = append(procs, startProc(t, "worker", append(slices.Clone(env), "EDDY_WORKERS=1", "EDDY_METRICS_ADDR="+metrics)))
		waitHealthy(t, "http://"+metrics+"/healthz")
	}
	// Every process takes a job before the clock starts.
	var warm []string
	for i := 0; i < 2*n; i++ {
		warm = append(warm, c.submit(t, trivialJob).ID)
	}
	done := func(ids []string) (int, error) {
		var k int
		err := db.QueryRow(`SELECT count(*) FROM runs WHERE id = ANY($1) AND state IN ('succeeded', 'failed', 'cancelled')`, ids).Scan(&k)
		return k, err
	}
	waitDone(t, warm, done)
	submit := func() (string, error) {
		req, _ := http.NewRequest("POST", c.base+"/v1/jobs", strings.NewReader(trivialJob))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var j job
		if err := json.Unmarshal(b, &j); resp.StatusCode != 202 || err != nil {
			return "", fmt.Errorf("%d %s", resp.StatusCode, b)
		}
		return j.ID, nil
	}
	burst, paced, notifies := burstAndPaced(t, sz, submit, done, notes)
	r := summarize(t, fmt.Sprintf("Eddy, %d worker process(es)", n), eddyStamps(t, c, burst), eddyStamps(t, c, paced), notifies)
	for _, p := range procs {
		p.signal(t, syscall.SIGTERM)
		if err := p.waitExit(t, 30*time.Second); err != nil {
			t.Fatalf("worker exit: %v", err)
		}
	}
	return r
}

func waitHealthy(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not healthy within 60 s", url)
}

// quietLogger keeps River's start and stop lines out of the benchmark output.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// noopArgs is the reference job: River's work with nothing to do.
type noopArgs struct{}

func (noopArgs) Kind() string { return "throughput_noop" }

// riverRun measures River alone on the same database: n clients (as n
// processes would be), each working one job at a time from their own queue
// with the poll interval and fetch cooldown Eddy's workers use, jobs inserted
// one per transaction as the API does. pollOnly turns LISTEN/NOTIFY off.
func riverRun(t testing.TB, sz throughputSize, dbURL string, notes *notifyCounter, n int, pollOnly bool) queueRun {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	queue := fmt.Sprintf("throughput_reference_%d_%t", n, pollOnly)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[noopArgs]) error { return nil }))
	var clients []*river.Client[pgx.Tx]
	for i := 0; i < n; i++ {
		rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
			Queues:            map[string]river.QueueConfig{queue: {MaxWorkers: 1}},
			Workers:           workers,
			FetchPollInterval: 200 * time.Millisecond,
			FetchCooldown:     10 * time.Millisecond,
			Logger:            quietLogger(),
			PollOnly:          pollOnly,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := rc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, rc)
	}
	defer func() {
		for _, rc := range clients {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			rc.Stop(sctx)
			cancel()
		}
	}()
	ins := clients[0]
	submit := func() (string, error) {
		res, err := ins.Insert(ctx, noopArgs{}, &river.InsertOpts{Queue: queue})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(res.Job.ID), nil
	}
	done := func(ids []string) (int, error) {
		var k int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE id::text = ANY($1) AND state = 'completed'`, ids).Scan(&k)
		return k, err
	}
	// Warm-up, as for Eddy.
	var warm []string
	for i := 0; i < 2*n; i++ {
		id, err := submit()
		if err != nil {
			t.Fatal(err)
		}
		warm = append(warm, id)
	}
	waitDone(t, warm, done)
	burst, paced, notifies := burstAndPaced(t, sz, submit, done, notes)
	read := func(ids []string) []stamps {
		rows, err := pool.Query(ctx, `SELECT created_at, attempted_at, finalized_at FROM river_job WHERE id::text = ANY($1)`, ids)
		if err != nil {
			t.Fatal(err)
		}
		var out []stamps
		for rows.Next() {
			var s stamps
			if err := rows.Scan(&s.created, &s.started, &s.finished); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if rows.Err() != nil || len(out) != len(ids) {
			t.Fatalf("read %d of %d River jobs: %v", len(out), len(ids), rows.Err())
		}
		return out
	}
	name := fmt.Sprintf("River alone, %d client(s)", n)
	if pollOnly {
		name += ", polling only"
	}
	return summarize(t, name, read(burst), read(paced), notifies)
}

// runIDs lists every job of the database.
func runIDs(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT id FROM runs`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil || len(ids) == 0 {
		t.Fatalf("%d jobs: %v", len(ids), err)
	}
	return ids
}

// throughputDeployment is the insert-only API on a fresh database, without
// rate limit since the load is the point.
func throughputDeployment(t testing.TB) (c client, env []string, dbURL string, db *sql.DB) {
	t.Helper()
	dbURL = pgtest.NewDatabase(t)
	addr := freeAddr(t)
	env = []string{"DATABASE_URL=" + dbURL, "EDDY_DATA_DIR=" + t.TempDir(), "EDDY_ADDR=" + addr,
		"EDDY_LOG_LEVEL=warn", "EDDY_RATE_LIMIT=-1"}
	startProc(t, "api", env)
	c = client{"http://" + addr}
	c.waitReady(t)
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return c, env, dbURL, db
}

// TestThroughputSmoke runs the load benchmark's steps at a tiny size: every
// job succeeds with ordered times, an insert notification is sent and heard
// for every job submitted to an idle queue, and the GETs are all answered.
func TestThroughputSmoke(t *testing.T) {
	if err := pgtest.Available(); err != nil {
		t.Skip(err)
	}
	sz := smokeThroughput
	c, env, dbURL, db := throughputDeployment(t)
	notes := listenInserts(t, dbURL)
	e := eddyRun(t, sz, c, env, db, notes, 1)
	r := riverRun(t, sz, dbURL, notes, 1, false)
	poll := riverRun(t, sz, dbURL, notes, 1, true)
	for _, q := range []queueRun{e, r, poll} {
		t.Logf("%s: %.0f jobs/s, pick-up p50 %v, %d notifications", q.name, q.jobsPerSec, q.pickup[0], q.notifies)
		// Paced far apart, every insert notifies (River limits it to one
		// per queue per fetch cooldown, 10 ms), and polling does not stop it.
		if q.notifies != sz.paced {
			t.Errorf("%s: %d insert notifications heard for %d jobs", q.name, q.notifies, sz.paced)
		}
	}
	ids := runIDs(t, db)
	p50, p99, rate, failed := getLatency(t, c, ids, 20, time.Second)
	t.Logf("GET /v1/jobs/{id} under 20 clients: p50 %v, p99 %v, %.0f req/s", p50, p99, rate)
	if failed > 0 || rate == 0 {
		t.Errorf("GET under 20 clients: %d failed, %.0f req/s", failed, rate)
	}
	if p50, p99, rate, failed, ok := wrkGets(t, c, ids, 20, time.Second); ok {
		t.Logf("wrk, 20 connections: p50 %v, p99 %v, %.0f req/s", p50, p99, rate)
		if failed > 0 {
			t.Errorf("wrk: %d requests failed", failed)
		}
	}
}

// wrkGets runs wrk, when installed, with clients connections on two
// threads doing GET /v1/jobs/{id} on random ids of ids for d: the same load
// as getLatency from a load generator that takes less of the machine's CPU
// from the API. ok is false without wrk.
func wrkGets(t testing.TB, c client, ids []string, clients int, d time.Duration) (p50, p99 time.Duration, rate float64, failed int, ok bool) {
	t.Helper()
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return 0, 0, 0, 0, false
	}
	script := filepath.Join(t.TempDir(), "gets.lua")
	var lua strings.Builder
	lua.WriteString("local ids = {")
	for _, id := range ids {
		fmt.Fprintf(&lua, "%q,", id)
	}
	lua.WriteString("}\nrequest = function() return wrk.format(\"GET\", \"/v1/jobs/\" .. ids[math.random(#ids)]) end\n")
	if err := os.WriteFile(script, []byte(lua.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-t2", fmt.Sprintf("-c%d", clients), fmt.Sprintf("-d%ds", int(d.Seconds())),
		"--latency", "-s", script, c.base).CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "50%":
			p50 = wrkDuration(t, f[1])
		case len(f) == 2 && f[0] == "99%":
			p99 = wrkDuration(t, f[1])
		case len(f) == 2 && f[0] == "Requests/sec:":
			rate, _ = strconv.ParseFloat(f[1], 64)
		case strings.HasPrefix(line, "  Non-2xx or 3xx responses:"):
			n, _ := strconv.Atoi(f[len(f)-1])
			failed += n
		case strings.HasPrefix(line, "  Socket errors:"):
			for i := 3; i < len(f); i += 2 {
				n, _ := strconv.Atoi(strings.TrimSuffix(f[i], ","))
				failed += n
			}
		}
	}
	if p50 == 0 || p99 == 0 || rate == 0 {
		t.Fatalf("wrk output not understood:\n%s", out)
	}
	return p50, p99, rate, failed, true
}

// wrkDuration reads wrk's "1.23ms", "456.00us" or "1.02s".
func wrkDuration(t testing.TB, s string) time.Duration {
	t.Helper()
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("wrk duration %q: %v", s, err)
			}
			return time.Duration(f * float64(u.unit))
		}
	}
	t.Fatalf("wrk duration %q", s)
	return 0
}
