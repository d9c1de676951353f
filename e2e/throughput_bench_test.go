package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"eddy/internal/pgtest"
)

// percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted durations, by
// the nearest rank.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// timedJob is GET /v1/jobs/{id} with the times the latency is measured by.
type timedJob struct {
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at"`
}

// BenchmarkWorkerScaling runs 200 short jobs on PostgreSQL with 1, 2 and 4
// worker processes (one job at a time each) behind one insert-only API, and
// reports the throughput (first submission to last success) and the
// submit→start latency (created_at to started_at, both from the database's
// clock) at p50 and p99: of the 200 submitted at once (start_*, mostly the
// wait behind the others) and of 20 submitted one at a time to idle workers
// (idle_start_*, the queue's pick-up). With 4 workers it then measures GET /v1/jobs/{id}
// under 500 concurrent loopback clients. As the reference for the queue's
// own overhead, River alone runs 200 no-op jobs on the same database with
// the same number of workers, in this process: inserted in one batch
// (river_jobs/s), and one per transaction as the API inserts them, with its
// own idle pick-up (river_tx_*), and so again with LISTEN/NOTIFY off
// (river_poll_*). LISTEN/NOTIFY is in effect when every idle job's insert
// notification is heard (idle_notifies) and the idle pick-up is far below
// River's polling one.
func BenchmarkWorkerScaling(b *testing.B) {
	const jobs, submitters = 200, 8
	var notes []string
	listenWorks := true
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			dbURL := pgtest.NewDatabase(b)
			addr := freeAddr(b)
			env := []string{"DATABASE_URL=" + dbURL, "EDDY_ADDR=" + addr, "EDDY_LOG_LEVEL=warn", "EDDY_RATE_LIMIT=-1"}
			startProc(b, "api", append(env, "EDDY_DATA_DIR="+b.TempDir()))
			for i := 0; i < workers; i++ {
				startProc(b, "worker", append(env, "EDDY_DATA_DIR="+b.TempDir(), "EDDY_WORKERS=1"))
			}
			c := client{"http://" + addr}
			c.waitReady(b)
			heard := listenInserts(b, dbURL)
			// Warm up: every worker has connected and listens.
			for i := 0; i < workers; i++ {
				c.waitFor(b, c.submit(b, trivialJob).ID, time.Minute, final)
			}
			b.ResetTimer()
			for it := 0; it < b.N; it++ {
				ids := make([]string, jobs)
				var next atomic.Int64
				start := time.Now()
				var wg sync.WaitGroup
				for k := 0; k < submitters; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := next.Add(1) - 1; i < jobs; i = next.Add(1) - 1 {
							ids[i] = c.submit(b, trivialJob).ID
						}
					}()
				}
				wg.Wait()
				var lat []time.Duration
				for _, id := range ids {
					var j timedJob
					for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
						_, body := c.req(b, "GET", "/v1/jobs/"+id, "")
						json.Unmarshal(body, &j)
						if j.State == "succeeded" {
							break
						}
						if j.State == "failed" || j.State == "cancelled" || time.Now().After(deadline) {
							b.Fatalf("job %s: %s", id, body)
						}
					}
					lat = append(lat, j.StartedAt.Sub(j.CreatedAt))
				}
				elapsed := time.Since(start)
				slices.Sort(lat)
				b.ReportMetric(float64(jobs)/elapsed.Seconds(), "jobs/s")
				b.ReportMetric(ms(percentile(lat, 0.5)), "start_p50_ms")
				b.ReportMetric(ms(percentile(lat, 0.99)), "start_p99_ms")
				// Pick-up by an idle worker: one job at a time, each after
				// the last has succeeded, so no job waits behind another.
				var idle []time.Duration
				heard0 := heard.count()
				for i := 0; i < 20; i++ {
					id := c.submit(b, trivialJob).ID
					var j timedJob
					for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
						_, body := c.req(b, "GET", "/v1/jobs/"+id, "")
						json.Unmarshal(body, &j)
						if j.State == "succeeded" {
							break
						}
						if j.State == "failed" || j.State == "cancelled" || time.Now().After(deadline) {
							b.Fatalf("job %s: %s", id, body)
						}
					}
					idle = append(idle, j.StartedAt.Sub(j.CreatedAt))
				}
				slices.Sort(idle)
				b.ReportMetric(ms(percentile(idle, 0.5)), "idle_start_p50_ms")
				b.ReportMetric(ms(percentile(idle, 0.99)), "idle_start_p99_ms")
				// A notification can reach the counter after its job has ended.
				for wait := time.Now().Add(2 * time.Second); heard.count()-heard0 < 20 && time.Now().Before(wait); {
					time.Sleep(10 * time.Millisecond)
				}
				idleNotifies := heard.count() - heard0
				b.ReportMetric(float64(idleNotifies), "idle_notifies")
				b.ReportMetric(riverThroughput(b, dbURL, workers, jobs), "river_jobs/s")
				ref := riverRun(b, throughputSize{burst: jobs, paced: 20, pace: 100 * time.Millisecond}, dbURL, heard, workers, false)
				b.ReportMetric(ref.jobsPerSec, "river_tx_jobs/s")
				b.ReportMetric(ms(ref.pickup[0]), "river_tx_idle_start_p50_ms")
				b.ReportMetric(ms(ref.pickup[1]), "river_tx_idle_start_p99_ms")
				poll := riverRun(b, throughputSize{burst: 20, paced: 20, pace: 100 * time.Millisecond}, dbURL, heard, workers, true)
				b.ReportMetric(ms(poll.pickup[0]), "river_poll_idle_start_p50_ms")
				b.ReportMetric(ms(poll.pickup[1]), "river_poll_idle_start_p99_ms")
				listenWorks = listenWorks && idleNotifies == 20 && percentile(idle, 0.5) < poll.pickup[0]
				notes = append(notes, fmt.Sprintf("%d worker process(es): Eddy idle pick-up p50 %.1f ms, p99 %.1f ms, %d of 20 insert notifications heard; "+
					"River alone (%d client(s), one job per transaction) %.1f jobs/s, idle pick-up p50 %.1f ms, p99 %.1f ms; polling only p50 %.1f ms, p99 %.1f ms",
					workers, ms(percentile(idle, 0.5)), ms(percentile(idle, 0.99)), idleNotifies, workers, ref.jobsPerSec,
					ms(ref.pickup[0]), ms(ref.pickup[1]), ms(poll.pickup[0]), ms(poll.pickup[1])))
				if workers == 4 {
					p50, p99, rate, failed := getLatency(b, c, ids, 500, 10*time.Second)
					b.ReportMetric(ms(p50), "get500_p50_ms")
					b.ReportMetric(ms(p99), "get500_p99_ms")
					b.ReportMetric(rate, "get500_req/s")
					b.ReportMetric(float64(failed), "get500_failed")
					if p50, p99, rate, failed, ok := wrkGets(b, c, ids, 500, 10*time.Second); ok {
						b.ReportMetric(ms(p50), "wrk500_p50_ms")
						b.ReportMetric(ms(p99), "wrk500_p99_ms")
						b.ReportMetric(rate, "wrk500_req/s")
						b.ReportMetric(float64(failed), "wrk500_failed")
					} else {
						notes = append(notes, "wrk is not installed: no GET measurement with it")
					}
				}
			}
		})
	}
	load, _ := os.ReadFile("/proc/loadavg")
	b.Logf("\n%s\nLISTEN/NOTIFY in effect (every idle job's notification heard, Eddy's idle pick-up p50 below River's polling one): %t"+
		"\nGET clients: Go goroutines with keep-alive connections, per-token rate limit off; PostgreSQL: the test server (fsync, synchronous_commit, full_page_writes off)"+
		"\nload average after the run: %s (2 cores, shared with other heavy work while this ran)",
		strings.Join(notes, "\n"), listenWorks, strings.Join(strings.Fields(string(load))[:3], " "))
}

// benchNoop is River's own no-op job, the reference for the queue overhead.
type benchNoop struct{}

func (benchNoop) Kind() string { return "bench_noop" }

type benchNoopWorker struct {
	river.WorkerDefaults[benchNoop]
	done chan<- struct{}
}

func (w *benchNoopWorker) Work(ctx context.Context, job *river.Job[benchNoop]) error {
	w.done <- struct{}{}
	return nil
}

// riverThroughput inserts n no-op jobs, in one batch, into a queue of its
// own on the database at dbURL (migrated by the API) and returns the jobs per
// second River completes with the given number of workers, from the insert
// to the last completion.
func riverThroughput(b *testing.B, dbURL string, workers, n int) float64 {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	done := make(chan struct{}, n)
	ws := river.NewWorkers()
	river.AddWorker(ws, &benchNoopWorker{done: done})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Workers:           ws,
		Queues:            map[string]river.QueueConfig{"bench_reference": {MaxWorkers: workers}},
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 200 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer client.Stop(ctx)
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: benchNoop{}, InsertOpts: &river.InsertOpts{Queue: "bench_reference"}}
	}
	start := time.Now()
	if _, err := client.InsertMany(ctx, params); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		select {
		case <-done:
		case <-time.After(time.Minute):
			b.Fatalf("River ran %d of %d no-op jobs", i, n)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// getLatency runs clients concurrent loopback clients doing GET
// /v1/jobs/{id} on random ids for d, and returns the p50 and p99 latency,
// the request rate and the failed requests.
func getLatency(t testing.TB, c client, ids []string, clients int, d time.Duration) (p50, p99 time.Duration, rate float64, failed int64) {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	lat := make([][]time.Duration, clients)
	var fails atomic.Int64
	var wg sync.WaitGroup
	// A second in which every client opens its connection and is not timed:
	// the latency is the steady state's, not 500 TCP handshakes at once.
	warm := time.Now().Add(time.Second)
	deadline := warm.Add(d)
	for k := 0; k < clients; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(k), 11))
			for time.Now().Before(deadline) {
				t0 := time.Now()
				resp, err := hc.Get(c.base + "/v1/jobs/" + ids[rng.IntN(len(ids))])
				if t0.Before(warm) {
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					continue
				}
				if err != nil {
					fails.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					fails.Add(1)
					continue
				}
				lat[k] = append(lat[k], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	return percentile(all, 0.5), percentile(all, 0.99), float64(len(all)) / d.Seconds(), fails.Load()
}
