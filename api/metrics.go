package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"eddy/storage"
)

var httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "eddy_http_request_duration_seconds",
	Help:    "HTTP request latency by method, route pattern and status.",
	Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
}, []string{"method", "route", "status"})

func init() { prometheus.MustRegister(httpDuration) }

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// instrument records request latencies by chi route pattern (not raw path, so that
// job ids do not explode the label space). Event streams are left out.
func instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		if route == "/v1/jobs/{id}/events" {
			return
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		httpDuration.WithLabelValues(r.Method, route, strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
	})
}

// logRequests logs one line per request when it ends: method, chi route
// pattern, status, duration, and the job or upload id of routes that name one
// (for a submission, the id of the job it created or found).
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		attrs := []any{"method", r.Method, "route", route, "status", status,
			"duration", time.Since(start), "request_id", middleware.GetReqID(r.Context())}
		id := chi.URLParam(r, "id")
		switch {
		case id != "" && strings.HasPrefix(route, "/v1/jobs/"):
			attrs = append(attrs, "job_id", id)
		case id != "" && strings.HasPrefix(route, "/v1/uploads/"):
			attrs = append(attrs, "upload_id", id)
		case route == "/v1/jobs" && r.Method == http.MethodPost:
			if loc, ok := strings.CutPrefix(rec.Header().Get("Location"), "/v1/jobs/"); ok {
				attrs = append(attrs, "job_id", loc)
			}
		}
		s.log.Info("request", attrs...)
	})
}

// runsCollector reports the number of jobs by kind and state, read from the runs
// table at scrape time, so every API replica reports the same truth.
type runsCollector struct {
	db   *storage.DB
	desc *prometheus.Desc
}

func (c runsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c runsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := storage.CountRuns(ctx, c.db.Read)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for ks, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), ks[0], ks[1])
	}
}

func (s *server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(runsCollector{db: s.cfg.DB, desc: prometheus.NewDesc("eddy_jobs",
		"Jobs in the runs table by kind and state.", []string{"kind", "state"}, nil)})
	return promhttp.HandlerFor(prometheus.Gatherers{prometheus.DefaultGatherer, reg}, promhttp.HandlerOpts{})
}
