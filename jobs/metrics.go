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

// Outcomes of an attempt, the outcome label of eddy_job_attempts_total. An
// attempt interrupted by a worker shutdown is not counted: it is no attempt.
const (
	outcomeSucceeded = string(storage.Succeeded)
	outcomeFailed    = string(storage.Failed)
	outcomeCancelled = string(storage.Cancelled)
	// outcomeRetried is a failed attempt after which the run was queued again.
	outcomeRetried = "retried"
)

// observeRun counts an ended attempt; the duration of a success feeds the
// histogram.
func observeRun(kind, outcome string, d time.Duration) {
	runsEnded.WithLabelValues(kind, outcome).Inc()
	if outcome == outcomeSucceeded {
		runDuration.WithLabelValues(kind).Observe(d.Seconds())
	}
}
