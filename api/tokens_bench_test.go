package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"eddy/api"
	"eddy/jobs"
	"eddy/storage"
)

// BenchmarkGetJob measures GET /v1/jobs/{id} through the whole handler on
// SQLite, sequentially: on an API that runs open, and with a user token (a
// token lookup by hash and an owner check per request).
func BenchmarkGetJob(b *testing.B) {
	for _, mode := range []string{"open", "token"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			db, err := storage.Open(ctx, "sqlite://"+b.TempDir()+"/eddy.db")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			art, err := storage.NewDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			svc, err := jobs.New(jobs.Config{DB: db, Artifacts: art, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			owner, secret := storage.AnonymousOwner, ""
			if mode == "token" {
				owner, secret = "alice", storage.NewSecret()
				if _, err := storage.InsertToken(ctx, db.SQL, secret, "bench", owner, storage.ScopeUser, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			run, _, err := svc.Submit(ctx, jobs.SubmitRequest{Kind: "poisson.solve", Params: []byte(`{"n":8}`), Owner: owner})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(api.New(api.Config{Jobs: svc, DB: db, Artifacts: art, Logger: quiet, RateLimit: -1}))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/v1/jobs/"+run.ID, nil)
			if secret != "" {
				req.Header.Set("Authorization", "Bearer "+secret)
			}
			b.ResetTimer()
			for range b.N {
				resp, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}
