// Package daemon wires Eddy's long-running processes: configuration from flags and
// environment, the database and its migrations, the artifact store, the job
// service, the HTTP server, and an orderly shutdown on SIGINT/SIGTERM. cmd/api and
// cmd/worker are thin mains over it.
package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"eddy/api"
	"eddy/blas"
	"eddy/jobs"
	"eddy/storage"
)

// Config is what both daemons are configured with.
type Config struct {
	Addr        string
	DatabaseURL string
	DataDir     string
	// Workers is how many jobs this process runs at once, in all classes: the
	// sum of ClassWorkers once Resolve has run.
	Workers int
	// ClassWorkers is how many jobs of each class (jobs.ClassSolve,
	// jobs.ClassTrain) this process runs at once, from -workers (EDDY_WORKERS):
	// a plain number N means jobs.DefaultClassWorkers(N), that is solve:N and
	// train:1; "solve:2,train:1" names each class, and a class left out gets
	// no workers in this process. Nil before Resolve, which then derives it
	// from Workers.
	ClassWorkers   map[string]int
	Tokens         []string
	MaxUploadBytes int64
	// MaxInflatedBytes bounds the total size to which an uploaded MAT-file's
	// compressed variables may expand, in the API and in the workers; 0 means
	// MaxUploadBytes, and it is never more than that.
	MaxInflatedBytes int64
	MetricsAddr      string
	LogLevel         slog.Level
	// MaxStreams and MaxStreamsPerClient cap the open event streams (see api.Config).
	MaxStreams, MaxStreamsPerClient int
	// HTTPShutdown and WorkerShutdown are the separate budgets of an orderly
	// shutdown: requests in flight may finish within the first, running jobs are
	// handed back to the queue within the second (a job that ignores its
	// cancellation is abandoned and re-queued when it runs out).
	HTTPShutdown, WorkerShutdown time.Duration

	// MaxJobMemory is the memory one job may need, in bytes (jobs.Config).
	MaxJobMemory int64
	// CheckpointEvery is how often long runs save a checkpoint (jobs.Config).
	CheckpointEvery time.Duration

	// RateLimit, QuotaBytes and QuotaQueued bound each token's requests per
	// minute and each owner's stored bytes and unfinished jobs (api.Config).
	RateLimit   int
	QuotaBytes  int64
	QuotaQueued int
	// Retention, when positive, is how long ended jobs and uploads are kept
	// before the API deletes them (api.RunRetention).
	Retention time.Duration

	quotaBytes string

	// Store names the artifact store: empty for DataDir, a bucket URL
	// (s3://bucket?endpoint=…) for object storage shared by many machines.
	// ScratchDir holds files being written for a bucket, CacheDir up to
	// CacheBytes of read copies from it.
	Store, ScratchDir, CacheDir string
	CacheBytes                  int64
	cacheBytes                  string

	tokens, level string
	workers       string
	maxJobMemory  string
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// Flags registers the common flags on fs, with environment variables as defaults.
// A negative workers default means 2 on SQLite and 0 (insert only) on PostgreSQL.
// Call Config.Resolve after fs.Parse.
func Flags(fs *flag.FlagSet, workersDefault int) *Config {
	c := &Config{}
	fs.StringVar(&c.Addr, "addr", env("EDDY_ADDR", "127.0.0.1:8080"), "listen address (EDDY_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", ""), "sqlite://path or postgres://… (DATABASE_URL; default sqlite://<data-dir>/eddy.db)")
	fs.StringVar(&c.DataDir, "data-dir", env("EDDY_DATA_DIR", "./data"), "folder of results and uploads (EDDY_DATA_DIR)")
	fs.StringVar(&c.workers, "workers", env("EDDY_WORKERS", strconv.Itoa(workersDefault)), "jobs run at once by this process, per class: "+
		"N means solve:N,train:1; or e.g. solve:2,train:1, where a class left out is not run by this process (EDDY_WORKERS)")
	fs.StringVar(&c.tokens, "tokens", env("EDDY_TOKENS", ""), "comma-separated bearer tokens (EDDY_TOKENS)")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload-bytes", envInt("EDDY_MAX_UPLOAD_BYTES", 2<<30), "largest accepted upload in bytes (EDDY_MAX_UPLOAD_BYTES)")
	fs.Int64Var(&c.MaxInflatedBytes, "max-inflated-bytes", envInt("EDDY_MAX_INFLATED_BYTES", 0), "largest total size an uploaded MAT-file's compressed variables may expand to; 0 = the upload limit (EDDY_MAX_INFLATED_BYTES)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("EDDY_METRICS_ADDR", ""), "worker only: serve /metrics and /healthz on this address (EDDY_METRICS_ADDR)")
	fs.IntVar(&c.MaxStreams, "max-event-streams", int(envInt("EDDY_MAX_EVENT_STREAMS", 1000)), "open event streams allowed in all (EDDY_MAX_EVENT_STREAMS)")
	fs.IntVar(&c.MaxStreamsPerClient, "max-event-streams-per-client", int(envInt("EDDY_MAX_EVENT_STREAMS_PER_CLIENT", 32)), "open event streams allowed per token or IP address (EDDY_MAX_EVENT_STREAMS_PER_CLIENT)")
	fs.DurationVar(&c.HTTPShutdown, "http-shutdown", envDuration("EDDY_HTTP_SHUTDOWN", 10*time.Second), "on SIGTERM, how long requests in flight may take to finish (EDDY_HTTP_SHUTDOWN)")
	fs.DurationVar(&c.CheckpointEvery, "checkpoint-every", envDuration("EDDY_CHECKPOINT_EVERY", jobs.DefaultCheckpointEvery), "how often long jobs save a checkpoint to resume from after a crash or a shutdown (EDDY_CHECKPOINT_EVERY)")
	fs.DurationVar(&c.WorkerShutdown, "worker-shutdown", envDuration("EDDY_WORKER_SHUTDOWN", 15*time.Second), "on SIGTERM, how long running jobs get to hand themselves back to the queue (EDDY_WORKER_SHUTDOWN)")
	fs.StringVar(&c.maxJobMemory, "max-job-memory", env("EDDY_MAX_JOB_MEMORY", ""), "memory one job may need by its kind's estimate, e.g. 512MiB, 4GiB or 2G; 0 for no limit "+
		"(EDDY_MAX_JOB_MEMORY; default: 80% of the machine's memory divided by -workers; an API without workers, "+
		"which cannot see the workers' machines, allows the whole 80%, so set it on every worker too)")
	fs.IntVar(&c.RateLimit, "rate-limit", int(envInt("EDDY_RATE_LIMIT", api.DefaultRateLimit)), "requests per minute one token (or, without tokens, one IP address) may make; -1 for no limit (EDDY_RATE_LIMIT)")
	fs.StringVar(&c.quotaBytes, "quota-bytes", env("EDDY_QUOTA_BYTES", "0"), "bytes of uploads and results one owner may store, e.g. 50GiB; 0 for no limit (EDDY_QUOTA_BYTES)")
	fs.IntVar(&c.QuotaQueued, "quota-queued", int(envInt("EDDY_QUOTA_QUEUED", 0)), "queued and running jobs one owner may have; 0 for no limit (EDDY_QUOTA_QUEUED)")
	fs.DurationVar(&c.Retention, "retention", envDuration("EDDY_RETENTION", 0), "delete ended jobs and uploads older than this, e.g. 720h; 0 keeps them (EDDY_RETENTION)")
	fs.StringVar(&c.Store, "store", env("EDDY_STORE", ""), "artifact store: a bucket URL such as s3://bucket?endpoint=http://host:9000&region=us-east-1&use_path_style=true "+
		"(credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or empty for -data-dir (EDDY_STORE)")
	fs.StringVar(&c.ScratchDir, "scratch-dir", env("EDDY_SCRATCH_DIR", ""), "with a bucket store: folder of result files being written; default <data-dir>/scratch (EDDY_SCRATCH_DIR)")
	fs.StringVar(&c.CacheDir, "cache-dir", env("EDDY_CACHE_DIR", ""), "with a bucket store: folder of local copies of artifacts read, one per process; default <data-dir>/cache (EDDY_CACHE_DIR)")
	fs.StringVar(&c.cacheBytes, "cache-bytes", env("EDDY_CACHE_BYTES", "4GiB"), "with a bucket store: bound of the local copies, e.g. 4GiB (EDDY_CACHE_BYTES)")
	fs.StringVar(&c.level, "log-level", env("EDDY_LOG_LEVEL", "info"), "debug, info, warn or error (EDDY_LOG_LEVEL)")
	return c
}

// Resolve derives the settings that depend on others.
func (c *Config) Resolve() error {
	if c.MaxInflatedBytes <= 0 || c.MaxInflatedBytes > c.MaxUploadBytes {
		c.MaxInflatedBytes = c.MaxUploadBytes
	}
	for _, t := range strings.Split(c.tokens, ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.Tokens = append(c.Tokens, t)
		}
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + strings.TrimSuffix(c.DataDir, "/") + "/eddy.db"
	}
	if c.workers != "" {
		classes, err := parseWorkers(c.workers)
		if err != nil {
			return fmt.Errorf("-workers %q: %w", c.workers, err)
		}
		if classes == nil {
			c.Workers = -1
		}
		c.ClassWorkers = classes
	}
	if c.ClassWorkers == nil {
		if c.Workers < 0 {
			c.Workers = 2
			if !strings.HasPrefix(c.DatabaseURL, "sqlite://") {
				c.Workers = 0
			}
		}
		c.ClassWorkers = jobs.DefaultClassWorkers(c.Workers)
	}
	c.Workers = 0
	for _, n := range c.ClassWorkers {
		c.Workers += n
	}
	if c.cacheBytes != "" {
		n, err := jobs.ParseMemorySize(c.cacheBytes)
		if err != nil {
			return fmt.Errorf("-cache-bytes: %w", err)
		}
		c.CacheBytes = n
	}
	if c.ScratchDir == "" {
		c.ScratchDir = filepath.Join(c.DataDir, "scratch")
	}
	if c.CacheDir == "" {
		c.CacheDir = filepath.Join(c.DataDir, "cache")
	}
	if c.quotaBytes != "" {
		n, err := jobs.ParseMemorySize(c.quotaBytes)
		if err != nil {
			return fmt.Errorf("-quota-bytes: %w", err)
		}
		c.QuotaBytes = n
	}
	switch n, err := jobs.ParseMemorySize(c.maxJobMemory); {
	case c.maxJobMemory == "":
		c.MaxJobMemory = jobs.DefaultMaxJobMemory(c.Workers)
	case err != nil:
		return fmt.Errorf("-max-job-memory: %w", err)
	case n == 0:
		c.MaxJobMemory = jobs.NoMemoryLimit
	default:
		c.MaxJobMemory = n
	}
	return c.LogLevel.UnmarshalText([]byte(c.level))
}

// parseWorkers reads -workers: a plain number N gives
// jobs.DefaultClassWorkers(N), or nil when N is negative (the default for the
// database); "class:n,…" gives n workers to each class named and none to the
// others.
func parseWorkers(s string) (map[string]int, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return nil, nil
		}
		return jobs.DefaultClassWorkers(n), nil
	}
	out := map[string]int{}
	for _, c := range jobs.Classes() {
		out[c] = 0
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		class, count, ok := strings.Cut(strings.TrimSpace(part), ":")
		class = strings.TrimSpace(class)
		if !ok {
			return nil, fmt.Errorf("want a number or class:count pairs such as solve:2,train:1, got %q", part)
		}
		if _, known := out[class]; !known {
			return nil, fmt.Errorf("unknown job class %q; the classes are %s", class, strings.Join(jobs.Classes(), ", "))
		}
		if seen[class] {
			return nil, fmt.Errorf("class %s given twice", class)
		}
		seen[class] = true
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("class %s: want a count of 0 or more, got %q", class, count)
		}
		out[class] = n
	}
	return out, nil
}

// Logger returns the process logger: text to stderr at the configured level.
func (c *Config) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: c.LogLevel}))
}

// dbStartWait is how long a starting process waits for an unreachable
// database (restarting, or not up yet) before it gives up.
const dbStartWait = time.Minute

// Open opens and migrates the database. While the database cannot be
// reached (connection refused or reset, still starting up) it retries with
// backoff for up to dbStartWait, so that a process started during a
// database restart comes up with it instead of exiting.
func Open(ctx context.Context, c *Config) (*storage.DB, error) {
	var db *storage.DB
	err := whileUnreachable(ctx, c.Logger(), "database not reachable; retrying", func() (err error) {
		db, err = openMigrated(ctx, c)
		return err
	})
	return db, err
}

// startService starts svc's workers, retrying as Open does: the database
// can go away between opening it and starting the queue, which then fails
// with a dropped connection.
func startService(ctx context.Context, svc *jobs.Service, log *slog.Logger) error {
	return whileUnreachable(ctx, log, "database not reachable while starting the queue; retrying", func() error {
		return svc.Start(ctx)
	})
}

// whileUnreachable calls fn until it succeeds, fails for a reason other than
// an unreachable database, or dbStartWait has passed, with backoff from
// 250 ms to 5 s, logging msg before each retry.
func whileUnreachable(ctx context.Context, log *slog.Logger, msg string, fn func() error) error {
	deadline := time.Now().Add(dbStartWait)
	wait := 250 * time.Millisecond
	for {
		err := fn()
		if err == nil || !unreachable(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		log.Warn(msg, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func openMigrated(ctx context.Context, c *Config) (*storage.DB, error) {
	db, err := storage.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// unreachable reports whether err says the database could not be reached,
// rather than that it refused what was asked: a network error, or a
// PostgreSQL connection failure or "starting up"/"shutting down" (classes
// 08 and 57P0x).
func unreachable(err error) bool {
	var ne net.Error
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P0")
	}
	// Some layers (the queue's migrator) report a network error as text.
	msg := err.Error()
	for _, m := range []string{"connection refused", "connection reset", "broken pipe", "unexpected EOF", "the database system is"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// openForRun returns a context cancelled on SIGINT or SIGTERM and the migrated
// database.
func openForRun(c *Config) (context.Context, context.CancelFunc, *storage.DB, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	db, err := Open(ctx, c)
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return ctx, stop, db, nil
}

// RunAPI serves the HTTP API; with c.Workers > 0 it also runs jobs in-process.
func RunAPI(c *Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runAPI(ctx, c)
}

// runAPI serves until ctx is cancelled, then shuts down in order.
func runAPI(ctx context.Context, c *Config) error {
	log := c.Logger()
	db, err := Open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := api.ImportTokens(ctx, db, c.Tokens); err != nil {
		return err
	}
	if err := api.CheckAuth(ctx, db, c.Addr); err != nil {
		return err
	}
	if db.Dialect == storage.SQLite {
		for _, class := range jobs.Classes() {
			if c.ClassWorkers[class] == 0 {
				log.Warn("SQLite with no in-process workers for a job class: its submitted jobs will wait forever", "class", class)
			}
		}
	}
	svc, art, err := newService(db, c, log)
	if err != nil {
		return err
	}
	if err := startService(ctx, svc, log); err != nil {
		return err
	}
	// Shutdown waits for requests in flight but does not cancel them: event
	// streams, which last as long as their job, are ended through closing.
	closing := make(chan struct{})
	handler := api.New(api.Config{Jobs: svc, DB: db, Artifacts: art, Tokens: c.Tokens, RequireTokens: !api.Loopback(c.Addr),
		RateLimit: c.RateLimit, QuotaBytes: c.QuotaBytes, QuotaQueued: c.QuotaQueued,
		MaxUploadBytes: c.MaxUploadBytes, MaxInflatedBytes: c.MaxInflatedBytes, Logger: log, Closing: closing,
		MaxStreams: c.MaxStreams, MaxStreamsPerClient: c.MaxStreamsPerClient})
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		svc.Stop(context.Background())
		return err
	}
	if c.Retention > 0 {
		go api.RunRetention(ctx, svc, db, c.Retention, log)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: api.ServerTimeouts.ReadHeader, IdleTimeout: api.ServerTimeouts.Idle}
	srv.RegisterOnShutdown(func() { close(closing) })
	log.Info("eddy api listening", "addr", ln.Addr().String(), "database", string(db.Dialect),
		"workers", c.Workers, "class_workers", c.ClassWorkers, "data_dir", c.DataDir, "require_tokens", !api.Loopback(c.Addr))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutdown(log, srv, svc, c)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// shutdown stops the HTTP server and the workers at once, each within its own
// budget, so that a slow client cannot eat the time the jobs need to hand
// themselves back to the queue, nor the reverse. Event streams end with the
// server (through its shutdown hook).
func shutdown(log *slog.Logger, srv *http.Server, svc *jobs.Service, c *Config) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if srv == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.HTTPShutdown)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("requests still in flight at the end of the shutdown budget were cut off", "budget", c.HTTPShutdown)
			srv.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), c.WorkerShutdown)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		log.Warn("stopping workers", "err", err)
	}
	<-done
}

// RunWorker runs jobs until SIGINT/SIGTERM, then interrupts the running ones and
// hands them back to the queue.
func RunWorker(c *Config) error {
	log := c.Logger()
	if c.Workers < 1 {
		return fmt.Errorf("worker: -workers must be at least 1, got %d", c.Workers)
	}
	ctx, stop, db, err := openForRun(c)
	if err != nil {
		return err
	}
	defer stop()
	defer db.Close()
	svc, _, err := newService(db, c, log)
	if err != nil {
		return err
	}
	if err := startService(ctx, svc, log); err != nil {
		return err
	}
	var srv *http.Server
	if c.MetricsAddr != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.Handler())
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
		srv = &http.Server{Addr: c.MetricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
	}
	log.Info("eddy worker started", "id", svc.WorkerID(), "workers", c.Workers, "class_workers", c.ClassWorkers, "database", string(db.Dialect))
	<-ctx.Done()
	log.Info("shutting down: interrupting running jobs and re-queueing them")
	shutdown(log, srv, svc, c)
	return nil
}

// Migrate applies the migrations and exits.
func Migrate(c *Config) error {
	_, stop, db, err := openForRun(c)
	if err != nil {
		return err
	}
	defer stop()
	return db.Close()
}

func newService(db *storage.DB, c *Config, log *slog.Logger) (*jobs.Service, storage.Artifacts, error) {
	spec := c.Store
	if spec == "" {
		spec = c.DataDir
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	art, err := storage.OpenStore(ctx, spec, c.ScratchDir, c.CacheDir, c.CacheBytes)
	cancel()
	if err != nil {
		return nil, nil, err
	}
	riverLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: max(c.LogLevel, slog.LevelWarn)}))
	if c.Workers > 0 {
		// The solvers' dense linear algebra goes through gonum's BLAS.
		blas.UseInGonum()
		log.Info("matrix products", "engine", blas.Engine())
	}
	svc, err := jobs.New(jobs.Config{DB: db, Artifacts: art, Workers: c.Workers, ClassWorkers: c.ClassWorkers, Logger: log,
		RiverLogger: riverLog, FetchPollInterval: 200 * time.Millisecond, MaxJobMemory: c.MaxJobMemory,
		MaxInflatedBytes: c.MaxInflatedBytes, CheckpointEvery: c.CheckpointEvery})
	log.Info("memory budget per job", "bytes", c.MaxJobMemory)
	return svc, art, err
}
