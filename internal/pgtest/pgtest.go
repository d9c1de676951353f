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
	dataDir  string
	pgCtl    string
	runAs    *user.User
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

func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	if runAs != nil {
		uid, _ := strconv.Atoi(runAs.Uid)
		gid, _ := strconv.Atoi(runAs.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

func start() {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		baseURL = u
		return
	}
	bin, err := binDir()
	if err != nil {
		startErr = err
		return
	}
	if os.Geteuid() == 0 {
		if runAs, err = user.Lookup("postgres"); err != nil {
			startErr = fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
			return
		}
	}
	dir, err := os.MkdirTemp("", "eddy-pg-")
	if err != nil {
		startErr = err
		return
	}
	os.Chmod(dir, 0o777)
	dataDir = filepath.Join(dir, "data")
	sock := filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o777); err != nil {
		startErr = err
		return
	}
	os.Chmod(sock, 0o777)
	if out, err := command(filepath.Join(bin, "initdb"), "-D", dataDir, "-U", "eddy", "-A", "trust", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		startErr = fmt.Errorf("initdb: %v\n%s", err, out)
		return
	}
	port, err := freePort()
	if err != nil {
		startErr = err
		return
	}
	pgCtl = filepath.Join(bin, "pg_ctl")
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, sock)
	if out, err := command(pgCtl, "-D", dataDir, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		startErr = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		return
	}
	baseURL = fmt.Sprintf("postgres://eddy@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// Stop stops the throw-away server, if one was started. Call it from TestMain.
func Stop() {
	if pgCtl != "" {
		command(pgCtl, "-D", dataDir, "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(filepath.Dir(dataDir))
		pgCtl = ""
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
