package e2e

import (
	"bufio"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/internal/pgtest"
)

// trivialJob does almost no numerical work, so the benchmark measures the service:
// validation, two inserts, queue pick-up, claim, result file, completion.
const trivialJob = `{"kind":"poisson.solve","params":{"n":8}}`

// deployment starts the API (and workers) and returns its base URL.
func deployment(b *testing.B, dialect string) client {
	addr := freeAddr(b)
	data := b.TempDir()
	// The load is the point: no per-client rate limit.
	if dialect == "sqlite" {
		startProc(b, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + data, "DATABASE_URL=", "EDDY_WORKERS=2", "EDDY_LOG_LEVEL=warn", "EDDY_RATE_LIMIT=-1"})
	} else {
		env := []string{"DATABASE_URL=" + pgtest.NewDatabase(b), "EDDY_DATA_DIR=" + data, "EDDY_ADDR=" + addr, "EDDY_LOG_LEVEL=warn", "EDDY_RATE_LIMIT=-1"}
		startProc(b, "api", env)
		for i := 0; i < 2; i++ {
			startProc(b, "worker", append(env, "EDDY_WORKERS=2"))
		}
	}
	c := client{"http://" + addr}
	c.waitReady(b)
	return c
}

// succeededCount reads eddy_jobs{state="succeeded"} from /metrics.
func succeededCount(b testing.TB, c client) int {
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	total := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "eddy_jobs{") && strings.Contains(line, `state="succeeded"`) {
			f := strings.Fields(line)
			n, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += int(n)
		}
	}
	return total
}

// BenchmarkTrivialJobThroughput submits 400 trivial jobs from 8 clients and
// measures jobs/s from the first submission to the last success.
func BenchmarkTrivialJobThroughput(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			c := deployment(b, dialect)
			const jobs, clients = 400, 8
			b.ResetTimer()
			for it := 0; it < b.N; it++ {
				before := succeededCount(b, c)
				start := time.Now()
				var wg sync.WaitGroup
				for k := 0; k < clients; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < jobs/clients; i++ {
							c.submit(b, trivialJob)
						}
					}()
				}
				wg.Wait()
				submitted := time.Since(start)
				for succeededCount(b, c)-before < jobs {
					if time.Since(start) > 5*time.Minute {
						b.Fatal("jobs not done within 5 minutes")
					}
					time.Sleep(20 * time.Millisecond)
				}
				elapsed := time.Since(start)
				b.ReportMetric(float64(jobs)/elapsed.Seconds(), "jobs/s")
				b.ReportMetric(float64(jobs)/submitted.Seconds(), "submits/s")
			}
		})
	}
}

// BenchmarkGetJobLatency runs 200 concurrent clients doing GET /v1/jobs/{id} for
// ten seconds while a stream of small jobs runs, and reports p50/p99 latency.
func BenchmarkGetJobLatency(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			c := deployment(b, dialect)
			var ids []string
			for i := 0; i < 50; i++ {
				ids = append(ids, c.submit(b, trivialJob).ID)
			}
			tr := &http.Transport{MaxIdleConns: 400, MaxIdleConnsPerHost: 400}
			hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			defer tr.CloseIdleConnections()
			b.ResetTimer()
			for it := 0; it < b.N; it++ {
				stop := make(chan struct{})
				var submitted atomic.Int64
				go func() { // background load: ~20 jobs/s of real solves
					t := time.NewTicker(50 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							c.submit(b, `{"kind":"poisson.solve","params":{"n":64}}`)
							submitted.Add(1)
						}
					}
				}()
				const clients, duration = 200, 10 * time.Second
				lat := make([][]time.Duration, clients)
				var failures atomic.Int64
				var wg sync.WaitGroup
				deadline := time.Now().Add(duration)
				for k := 0; k < clients; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rng := rand.New(rand.NewPCG(uint64(k), 7))
						for time.Now().Before(deadline) {
							id := ids[rng.IntN(len(ids))]
							t0 := time.Now()
							resp, err := hc.Get(c.base + "/v1/jobs/" + id)
							if err != nil || resp.StatusCode != 200 {
								failures.Add(1)
								if resp != nil {
									resp.Body.Close()
								}
								continue
							}
							var buf [4096]byte
							for {
								if _, err := resp.Body.Read(buf[:]); err != nil {
									break
								}
							}
							resp.Body.Close()
							lat[k] = append(lat[k], time.Since(t0))
						}
					}()
				}
				wg.Wait()
				close(stop)
				var all []time.Duration
				for _, l := range lat {
					all = append(all, l...)
				}
				sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
				if len(all) == 0 {
					b.Fatal("no successful requests")
				}
				q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
				b.ReportMetric(q(0.50), "p50_ms")
				b.ReportMetric(q(0.99), "p99_ms")
				b.ReportMetric(float64(len(all))/duration.Seconds(), "req/s")
				b.ReportMetric(float64(failures.Load()), "failed")
				b.ReportMetric(float64(submitted.Load())/duration.Seconds(), "bg_jobs/s")
			}
		})
	}
}
