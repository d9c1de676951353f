package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"eddy/storage"
)

var (
	runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "eddy_job_duration_seconds",
		Help:    "Wall time of job attempts that succeeded, by kind.",
		Buckets: prometheus.ExponentialBuckets(0.01, 4, 12),
	}, []string{"kind"})
	runsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eddy_job_attempts_total",
		Help: "Job attempts ended by this process, by kind and outcome (succeeded, failed, cancelled, retried).",
	}, []string{"kind", "outcome"})
)

func init() { prometheus.MustRegister(runDuration, runsEnded) }

// observeRun counts an ended attempt; an empty state counts it as retried or
// interrupted, and a positive duration of a success feeds the histogram.
func observeRun(kind string, state storage.State, d time.Duration) {
	outcome := string(state)
	if outcome == "" {
		return
	}
	runsEnded.WithLabelValues(kind, outcome).Inc()
	if state == storage.Succeeded {
		runDuration.WithLabelValues(kind).Observe(d.Seconds())
	}
}
