// Package api is Eddy's HTTP API (v1): a chi router with JSON handlers for job
// kinds, jobs, uploads, results and server-sent events, problem+json errors, bearer
// token auth, Prometheus metrics and the OpenAPI document.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"eddy/jobs"
	"eddy/storage"
)

// Config configures the API handler.
type Config struct {
	Jobs      *jobs.Service
	DB        *storage.DB
	Artifacts storage.Artifacts
	// Tokens (EDDY_TOKENS) are imported into the database as admin tokens
	// (see ImportTokens) and make tokens required. Tokens live in the
	// database, hashed; with none stored, and RequireTokens false, the API
	// runs open (allowed on loopback addresses only, see CheckAuth).
	Tokens []string
	// RequireTokens refuses requests without a valid token even when no token
	// is stored: an API on a non-loopback address never runs open.
	RequireTokens bool
	// RateLimit is how many requests one token (or, without one, one IP
	// address) may make per minute under /v1; past it the answer is 429 with
	// Retry-After. 0 means DefaultRateLimit, negative no limit.
	RateLimit int
	// QuotaBytes bounds the bytes of uploads and results one owner stores,
	// QuotaQueued its queued and running jobs; 0 means no bound.
	QuotaBytes  int64
	QuotaQueued int
	// MaxUploadBytes bounds an upload's size.
	MaxUploadBytes int64
	// MaxInflatedBytes bounds the total size to which the compressed variables
	// of an uploaded MAT-file expand; larger files are refused with 413. The
	// default, and the largest value used, is MaxUploadBytes.
	MaxInflatedBytes int64
	Logger           *slog.Logger
	// EventPoll is how often the change feed behind the event streams reads the
	// runs changed since its last poll (default 250 ms): one query per interval
	// however many streams are open.
	EventPoll time.Duration
	// MaxStreams caps the event streams open in this process (default 1000), and
	// MaxStreamsPerClient those of one client, a bearer token or else an IP address
	// (default 32); past either the answer is 429.
	MaxStreams, MaxStreamsPerClient int
	// Closing, when closed, ends the event streams: the server is shutting down
	// and waits for the requests in flight.
	Closing <-chan struct{}
}

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 1 << 20

type server struct {
	cfg    Config
	log    *slog.Logger
	feed   *changeFeed
	tokens *tokenAuth
}

// New returns the API handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.EventPoll <= 0 {
		cfg.EventPoll = 250 * time.Millisecond
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 2 << 30
	}
	if cfg.MaxInflatedBytes <= 0 || cfg.MaxInflatedBytes > cfg.MaxUploadBytes {
		cfg.MaxInflatedBytes = cfg.MaxUploadBytes
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 1000
	}
	if cfg.MaxStreamsPerClient <= 0 {
		cfg.MaxStreamsPerClient = 32
	}
	s := &server{cfg: cfg, log: cfg.Logger}
	s.tokens = &tokenAuth{db: cfg.DB, require: cfg.RequireTokens || len(cfg.Tokens) > 0}
	if _, err := ImportTokens(context.Background(), cfg.DB, cfg.Tokens); err != nil {
		// Tokens stay required: the API fails closed.
		cfg.Logger.Error("EDDY_TOKENS not imported", "err", err)
	}
	s.feed = newChangeFeed(cfg.DB.Read, cfg.EventPoll, cfg.MaxStreams, cfg.MaxStreamsPerClient, cfg.Logger)
	r := chi.NewRouter()
	// The recoverer sits inside the latency and log middleware, so that a
	// handler's panic is measured and logged as the 500 it becomes.
	r.Use(middleware.RequestID, instrument, s.logRequests, s.recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path)
	})
	r.Group(func(r chi.Router) {
		r.Use(bounded)
		r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
		r.Get("/readyz", s.readyz)
		r.Get("/openapi.json", s.openapi)
		r.With(s.auth, adminOnly).Handle("/metrics", s.metricsHandler())
		mountUI(r)
	})
	if ui := s.riverUI(); ui != nil {
		// River's operator UI: admins only, as it can cancel, retry and
		// delete River's jobs directly.
		r.With(s.auth, adminOnly).Handle(riverUIPrefix, ui)
		r.With(s.auth, adminOnly).Handle(riverUIPrefix+"/*", ui)
	}
	r.Route("/v1", func(r chi.Router) {
		r.Use(s.auth, s.rateLimit())
		r.Group(func(r chi.Router) {
			r.Use(bounded, s.owned)
			r.Get("/kinds", s.listKinds)
			r.Post("/jobs", s.submit)
			r.Get("/jobs", s.listJobs)
			r.Get("/jobs/{id}", s.getJob)
			r.Get("/jobs/{id}/progress", s.progressHistory)
			r.Post("/jobs/{id}/cancel", s.cancelJob)
			r.Get("/uploads", s.listUploads)
			r.Get("/uploads/{id}", s.getUpload)
			r.Get("/jobs/{id}/datasets", s.listDatasets)
			r.Get("/jobs/{id}/plots", s.listPlots)
			r.Get("/jobs/{id}/plots/*", s.plot)
			r.Get("/compare", s.compare)
			r.Get("/compare/plots/*", s.comparePlot)
			r.Delete("/jobs/{id}", s.deleteJob)
			r.Delete("/uploads/{id}", s.deleteUpload)
		})
		r.Group(func(r chi.Router) {
			r.Use(streaming, s.owned)
			r.Get("/jobs/{id}/events", s.events)
			r.Get("/jobs/{id}/result", s.result)
			r.Head("/jobs/{id}/result", s.result)
			r.Get("/jobs/{id}/datasets/*", s.dataset)
			r.Get("/events", s.jobListEvents(newListFeed(cfg.DB.Read, cfg.EventPoll, cfg.MaxStreams, cfg.MaxStreamsPerClient, cfg.Logger)))
		})
		r.With(uploading).Post("/uploads", s.upload)
	})
	return r
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.DB.Ping(r.Context()); err != nil {
		s.log.Warn("readiness: database not reachable", "err", err)
		w.Header().Set("Retry-After", "5")
		writeProblem(w, http.StatusServiceUnavailable, "the database is not reachable")
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

// recoverer turns a handler panic into a logged 500 problem.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.internalError(w, r, fmt.Errorf("handler panic: %v\n%s", p, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
