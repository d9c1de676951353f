// Package pgtest gives tests a real PostgreSQL: the server named by
// TEST_DATABASE_URL, or else a throw-away server started with initdb and pg_ctl
// into a temporary folder on a free loopback port (as the postgres user when run as
// root, since PostgreSQL refuses to run as root). Each test gets a fresh database.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

var (
	once     sync.Once
	baseURL  string
	startErr error
	shared   *Server
	counter  atomic.Int64
)

// binDir finds the newest installed PostgreSQL server binaries.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb) found; install postgresql or set TEST_DATABASE_URL")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Server is a throw-away PostgreSQL server in a temporary folder, listening
// on a loopback port, run as the postgres user when the tests run as root
// (PostgreSQL refuses to run as root).
type Server struct {
	dir, data, pgCtl string
	port             int
	runAs            *user.User
	// durable keeps PostgreSQL's crash safety (fsync, synchronous commit);
	// without it the server trades it for speed, which a test that stops
	// the server abruptly cannot afford: an acknowledged commit could be lost.
	durable bool
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	if s.runAs != nil {
		uid, _ := strconv.Atoi(s.runAs.Uid)
		gid, _ := strconv.Atoi(s.runAs.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// newServer initialises a cluster and starts it.
func newServer(durable bool) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &Server{pgCtl: filepath.Join(bin, "pg_ctl"), durable: durable}
	if os.Geteuid() == 0 {
		if s.runAs, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
		}
	}
	if s.dir, err = os.MkdirTemp("", "eddy-pg-"); err != nil {
		return nil, err
	}
	os.Chmod(s.dir, 0o777)
	s.data = filepath.Join(s.dir, "data")
	sock := filepath.Join(s.dir, "sock")
	if err := os.Mkdir(sock, 0o777); err != nil {
		return nil, err
	}
	os.Chmod(sock, 0o777)
	if out, err := s.command(filepath.Join(bin, "initdb"), "-D", s.data, "-U", "eddy", "-A", "trust", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	return s, nil
}

// URL is the server's postgres database, as user eddy.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://eddy@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the server (again) on its port and waits until it accepts
// connections.
func (s *Server) Start() error {
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c max_connections=200", s.port, filepath.Join(s.dir, "sock"))
	if !s.durable {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if out, err := s.command(s.pgCtl, "-D", s.data, "-o", opts, "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// Stop stops the server at once (pg_ctl's immediate mode: connections are
// dropped, as in a crash), keeping its data for Start.
func (s *Server) Stop() error {
	if out, err := s.command(s.pgCtl, "-D", s.data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// remove stops the server and deletes its folder.
func (s *Server) remove() {
	s.Stop()
	os.RemoveAll(s.dir)
}

// NewServer starts a private server for t, which t may stop and start
// again (abruptly: it keeps PostgreSQL's crash safety); it is removed when
// the test ends. Without the server binaries the
// test is skipped, except under CI (CI set).
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := newServer(true)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL required under CI: %v", err)
		}
		t.Skipf("PostgreSQL unavailable: %v", err)
	}
	t.Cleanup(s.remove)
	return s
}

func start() {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		baseURL = u
		return
	}
	shared, startErr = newServer(false)
	if startErr == nil {
		baseURL = shared.URL()
	}
}

// Stop stops the throw-away server, if one was started. Call it from TestMain.
func Stop() {
	if shared != nil {
		shared.remove()
		shared = nil
	}
}

// Available reports whether a PostgreSQL server could be had, and why not.
func Available() error {
	once.Do(start)
	return startErr
}

// NewDatabase creates a fresh database for t and returns its URL; it is dropped when
// the test ends. Without a server the test is skipped, except under CI (CI set),
// where a missing server is a failure.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL required under CI: %v", err)
		}
		t.Skipf("PostgreSQL unavailable: %v", err)
	}
	name := fmt.Sprintf("eddy_test_%d_%d", os.Getpid(), counter.Add(1))
	admin, err := sql.Open("pgx", baseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", baseURL)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, _ := url.Parse(baseURL)
	u.Path = "/" + name
	return strings.Replace(u.String(), "postgresql://", "postgres://", 1)
}
