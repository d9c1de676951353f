package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"eddy/api"
	"eddy/jobs"
	"eddy/storage"
)

// A server failure answers a generic 500 carrying an error id that is also in the
// log, with the details (driver messages, server paths) in the log only. With
// the database unreachable, requests and readiness answer 503 with
// Retry-After, without the driver's words.
func TestServerErrorsAreGenericWithAnIDInTheLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := storage.Open(ctx, "sqlite://"+dir+"/eddy.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	art, err := storage.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := jobs.New(jobs.Config{DB: db, Artifacts: art})
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	srv := httptest.NewServer(api.New(api.Config{Jobs: svc, DB: db, Artifacts: art,
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil))}))
	defer srv.Close()
	// Every query on runs now fails inside the server, the database being up.
	if _, err := db.SQL.ExecContext(ctx, `ALTER TABLE runs RENAME TO runs_gone`); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{"/v1/jobs", "/v1/jobs/0190a3c4-0000-7000-8000-000000000000"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var p struct {
			Detail  string `json:"detail"`
			ErrorID string `json:"error_id"`
		}
		if err := json.Unmarshal(body, &p); err != nil || len(p.ErrorID) != 16 {
			t.Fatalf("%s: problem %s", path, body)
		}
		for _, leak := range []string{dir, "sql", "closed", "storage:"} {
			if strings.Contains(string(body), leak) {
				t.Fatalf("%s: the answer shows %q: %s", path, leak, body)
			}
		}
		if !strings.Contains(logBuf.String(), "error_id="+p.ErrorID) {
			t.Fatalf("%s: error id %s not in the log:\n%s", path, p.ErrorID, logBuf.String())
		}
	}
	db.Close() // the database is gone: a condition to retry, not a server failure
	for _, path := range []string{"/readyz", "/v1/jobs", "/v1/jobs/0190a3c4-0000-7000-8000-000000000000"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || strings.Contains(string(body), "sql") || strings.Contains(string(body), dir) {
			t.Fatalf("%s with the database gone: %d %s", path, resp.StatusCode, body)
		}
	}
}
