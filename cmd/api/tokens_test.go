package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/api"
	"eddy/jobs"
	"eddy/storage"
)

// run runs "api token args…" on the database in dir and returns its output.
func run(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	args = append(args[:1:1], append([]string{"-data-dir", dir}, args[1:]...)...)
	err := tokenCommand(args, &out)
	return out.String(), err
}

// A token made with "api token create" works against the API on the same
// database until "api token revoke", then gets 401; "token list" shows it
// without the token, and the database holds only its hash.
func TestTokenCommandRoundTrip(t *testing.T) {
	dir := t.TempDir()
	out, err := run(t, dir, "create", "-scope", "user", "-name", "ci")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	words := strings.Fields(lines[len(lines)-1])
	secret := words[len(words)-1]
	if !strings.HasPrefix(secret, "eddy_") || len(secret) < 40 {
		t.Fatalf("create printed %q", out)
	}
	if _, err := run(t, dir, "create", "-scope", "root"); err == nil {
		t.Error("scope root accepted")
	}

	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite://"+filepath.Join(dir, "eddy.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	art, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := jobs.New(jobs.Config{DB: db, Artifacts: art, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Jobs: svc, DB: db, Artifacts: art, RequireTokens: true, Logger: quiet}))
	defer srv.Close()
	get := func() int {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/jobs", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("new token: %d, want 200", code)
	}

	// The use is recorded in the background.
	var list string
	for deadline := time.Now().Add(5 * time.Second); ; {
		if list, err = run(t, dir, "list"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(list, "never") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if strings.Contains(list, secret) || !strings.Contains(list, " ci ") || strings.Contains(list, "never") || !strings.Contains(list, "valid") {
		t.Errorf("list after one use:\n%s", list)
	}
	for _, f := range []string{"eddy.db", "eddy.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(strings.TrimPrefix(secret, "eddy_"))) {
			t.Errorf("%s holds the token itself", f)
		}
	}

	if out, err := run(t, dir, "revoke", id); err != nil || !strings.Contains(out, id) {
		t.Fatalf("revoke %s: %q %v", id, out, err)
	}
	if code := get(); code != 401 {
		t.Errorf("revoked token: %d, want 401", code)
	}
	if list, _ := run(t, dir, "list"); !strings.Contains(list, "revoked") {
		t.Errorf("list after revoke:\n%s", list)
	}
	if out, err := run(t, dir, "revoke", id); err != nil || !strings.Contains(out, "already revoked") {
		t.Errorf("second revoke of %s: %q %v, want it to say it was already revoked", id, out, err)
	}
	if _, err := run(t, dir, "revoke", "nope"); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("revoke of an unknown id: %v", err)
	}

	// EDDY_TOKENS become admin tokens, stored hashed, once however often
	// they are imported.
	for range 2 {
		if _, err := api.ImportTokens(ctx, db, []string{"legacy-secret-0123456789"}); err != nil {
			t.Fatal(err)
		}
	}
	list, _ = run(t, dir, "list")
	if strings.Count(list, "EDDY_TOKENS") != 1 || !strings.Contains(list, "admin") || strings.Contains(list, "legacy-secret") {
		t.Errorf("list after importing EDDY_TOKENS twice:\n%s", list)
	}
}

// "api token -h" (and help) prints the usage instead of calling -h an
// unknown command; a subcommand's -h prints its flags without an error.
func TestTokenCommandHelp(t *testing.T) {
	for _, h := range []string{"-h", "-help", "--help", "help"} {
		var out bytes.Buffer
		if err := tokenCommand([]string{h}, &out); err != nil || !strings.Contains(out.String(), "api token create") {
			t.Errorf("api token %s: %q %v, want the usage", h, out.String(), err)
		}
	}
	var out bytes.Buffer
	if err := tokenCommand([]string{"create", "-h"}, &out); err != nil || !strings.Contains(out.String(), "-scope") {
		t.Errorf("api token create -h: %q %v, want its flags", out.String(), err)
	}
	if err := tokenCommand([]string{"frob"}, &out); err == nil || !strings.Contains(err.Error(), "unknown token command") {
		t.Errorf("api token frob: %v", err)
	}
}
