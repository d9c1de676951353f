// Package storage opens Eddy's database (embedded SQLite or PostgreSQL), applies the
// migrations of River and of Eddy's own tables, and keeps the durable records: the
// runs table (one row per submitted job, kept after River deletes its job row) and
// the uploads table. It also holds the artifact store where result and upload files
// live.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Dialect names the database engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. Both dialects are used through database/sql (pgx's stdlib
// adapter for PostgreSQL), so the River client type is river.Client[*sql.Tx] in both
// deployments and the same SQL text serves both.
type DB struct {
	// SQL is the read-write handle (one connection on SQLite: one writer).
	SQL *sql.DB
	// Read serves queries that only read. On SQLite it is a separate pool of
	// read-only connections, which WAL lets run beside the writer; on PostgreSQL
	// it is SQL itself.
	Read    *sql.DB
	Dialect Dialect
	// path is the SQLite file (empty for PostgreSQL).
	path string
	// pool backs SQL on PostgreSQL and provides River's LISTEN connections.
	pool *pgxpool.Pool
}

// Open connects to the database named by rawURL: "sqlite://relative/or/abs.db",
// "sqlite:///abs/path.db" or "postgres://…" / "postgresql://…". The SQLite file's
// folder is created if missing.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite://"):
		return openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite://"))
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	default:
		return nil, fmt.Errorf("storage: database URL %q: want sqlite://path or postgres://…", redact(rawURL))
	}
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("storage: sqlite URL without a file path")
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("storage: sqlite folder: %w", err)
	}
	// One writer: WAL, a generous busy timeout, immediate write transactions, and a
	// single connection (River inside a transaction must use the …Tx calls).
	dsn := "file:" + path + "?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	// The writer's first connection has switched the file to WAL; readers follow.
	read, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: open sqlite %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	return &DB{SQL: db, Read: read, Dialect: SQLite, path: path}, nil
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("storage: postgres URL %s: %w", redact(rawURL), err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("storage: connect %s: %w", redact(rawURL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("storage: connect %s: %w", redact(rawURL), err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &DB{SQL: db, Read: db, Dialect: Postgres, pool: pool}, nil
}

// RiverDriver returns the River driver over this database.
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if db.Dialect == Postgres {
		return riverdatabasesql.NewWithPgxListener(db.SQL, db.pool)
	}
	return riversqlite.New(db.SQL)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

// Close closes the database.
func (db *DB) Close() error {
	err := db.SQL.Close()
	if db.Read != db.SQL {
		db.Read.Close()
	}
	if db.pool != nil {
		db.pool.Close()
	}
	return err
}

// redact hides the password of a database URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Now returns the database's clock. Heartbeats and the staleness test that reads
// them use it, so that workers on machines whose clocks disagree still agree on
// which runs are stale. On SQLite, which is embedded, it is this machine's clock.
func (db *DB) Now(ctx context.Context) (time.Time, error) {
	if db.Dialect != Postgres {
		return time.Now(), nil
	}
	var us int64
	err := db.SQL.QueryRowContext(ctx, `SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`).Scan(&us)
	if err != nil {
		return time.Time{}, fmt.Errorf("storage: database clock: %w", err)
	}
	return time.UnixMicro(us), nil
}
