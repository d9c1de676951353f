package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"eddy/api"
	"eddy/storage"
)

// owned is an API that requires tokens, with the database and the artifact
// store behind it.
type owned struct {
	*env
	db  *storage.DB
	art storage.Artifacts
}

// startOwned starts an API that requires tokens (as on a non-loopback
// address), with the given extra configuration.
func startOwned(t *testing.T, dialect string, opts ...func(*api.Config)) *owned {
	t.Helper()
	o := &owned{}
	opts = append(opts, func(c *api.Config) {
		c.RequireTokens = true
		o.db, o.art = c.DB, c.Artifacts
	})
	o.env = start(t, dialect, opts...)
	return o
}

// token stores a new token and returns a client that sends it.
func (o *owned) token(t *testing.T, owner string, scope storage.Scope) *env {
	t.Helper()
	secret := storage.NewSecret()
	if _, err := storage.InsertToken(context.Background(), o.db.SQL, secret, owner+" test", owner, scope, time.Now()); err != nil {
		t.Fatal(err)
	}
	return &env{url: o.url, client: o.client, token: secret}
}

// listIDs returns the ids GET path lists under "jobs".
func (e *env) listIDs(t *testing.T, path string) []string {
	t.Helper()
	resp, b := e.do(t, "GET", path, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	var l struct{ Jobs []job }
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range l.Jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Owner B gets 404, exactly as for a job that does not exist, on every
// endpoint of owner A's job and upload; lists and list streams show each
// owner its own; B cannot reference A's upload or result; an admin sees
// everything; /metrics needs admin.
func TestOwnersAreIsolated(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		o := startOwned(t, dialect)
		alice := o.token(t, "alice", storage.ScopeUser)
		bob := o.token(t, "bob", storage.ScopeUser)
		root := o.token(t, "root", storage.ScopeAdmin)

		up := alice.h5Upload(t, map[string][]int{"Y": {10, 20}})
		id := alice.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
		alice.wait(t, id, time.Minute, "succeeded")
		other := alice.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":9}}`)
		alice.wait(t, other, time.Minute, "succeeded")

		_, missing := bob.do(t, "GET", "/v1/jobs/01a23000-0000-7000-8000-000000000000", "", nil)
		_, missingUpload := bob.do(t, "GET", "/v1/uploads/01a23000-0000-7000-8000-000000000000", "", nil)
		for _, c := range []struct{ method, path string }{
			{"GET", "/v1/jobs/" + id},
			{"GET", "/v1/jobs/" + id + "/progress"},
			{"GET", "/v1/jobs/" + id + "/result"},
			{"HEAD", "/v1/jobs/" + id + "/result"},
			{"GET", "/v1/jobs/" + id + "/datasets"},
			{"GET", "/v1/jobs/" + id + "/datasets/u"},
			{"GET", "/v1/jobs/" + id + "/plots"},
			{"GET", "/v1/jobs/" + id + "/plots/u"},
			{"GET", "/v1/jobs/" + id + "/events"},
			{"POST", "/v1/jobs/" + id + "/cancel"},
			{"DELETE", "/v1/jobs/" + id},
			{"GET", "/v1/compare?jobs=" + id + "," + other},
			{"GET", "/v1/uploads/" + up},
			{"DELETE", "/v1/uploads/" + up},
		} {
			resp, b := bob.do(t, c.method, c.path, "", nil)
			want := missing
			if strings.HasPrefix(c.path, "/v1/uploads/") {
				want = missingUpload
			}
			if resp.StatusCode != 404 || c.method != "HEAD" && string(b) != string(want) {
				t.Errorf("bob: %s %s: %d %s, want 404 %s", c.method, c.path, resp.StatusCode, b, want)
			}
		}
		if resp, b := alice.do(t, "GET", "/v1/jobs/"+id, "", nil); resp.StatusCode != 200 {
			t.Errorf("alice's job after bob's attempts: %d %s", resp.StatusCode, b)
		}
		if resp, b := alice.do(t, "GET", "/v1/uploads/"+up, "", nil); resp.StatusCode != 200 {
			t.Errorf("alice's upload after bob's attempts: %d %s", resp.StatusCode, b)
		}
		var seen struct{ Owner string }
		if resp, b := root.do(t, "GET", "/v1/jobs/"+id, "", nil); resp.StatusCode != 200 || json.Unmarshal(b, &seen) != nil || seen.Owner != "alice" {
			t.Errorf("admin reads alice's job: %d %s, want 200 with owner alice", resp.StatusCode, b)
		}
		if resp, b := root.do(t, "GET", "/v1/jobs/"+id+"/result", "", nil); resp.StatusCode != 200 {
			t.Errorf("admin reads alice's result: %d %s", resp.StatusCode, b[:min(len(b), 200)])
		}

		// References to another owner's upload or result read as references
		// to nothing, at the param that names them.
		for _, c := range []struct{ body, path string }{
			{fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"endmembers":3,"method":"vca_fcls"}}`, up), "/params/cube"},
			{fmt.Sprintf(`{"kind":"test.after","params":{"after":%q}}`, id), "/params/after"},
		} {
			code, _, p := bob.submit(t, c.body)
			if code != 422 || len(p.Errors) != 1 || p.Errors[0].Path != c.path || !strings.Contains(p.Errors[0].Message, "no upload or job with id") {
				t.Errorf("bob references alice's: %d %+v, want 422 at %s", code, p, c.path)
			}
		}
		// Alice may reference her own.
		after := alice.mustSubmit(t, fmt.Sprintf(`{"kind":"test.after","params":{"after":%q}}`, id))
		alice.wait(t, after, time.Minute, "succeeded")

		// Lists.
		if ids := bob.listIDs(t, "/v1/jobs"); len(ids) != 0 {
			t.Errorf("bob lists %v, want none", ids)
		}
		if ids := alice.listIDs(t, "/v1/jobs"); len(ids) != 3 || !contains(ids, id) {
			t.Errorf("alice lists %v", ids)
		}
		if ids := root.listIDs(t, "/v1/jobs"); !contains(ids, id) {
			t.Errorf("admin lists %v, want alice's %s among them", ids, id)
		}
		if ids := root.listIDs(t, "/v1/jobs?owner=bob"); len(ids) != 0 {
			t.Errorf("admin lists bob's as %v, want none", ids)
		}
		if resp, b := bob.do(t, "GET", "/v1/jobs?owner=alice", "", nil); resp.StatusCode != 400 {
			t.Errorf("bob lists alice's: %d %s, want 400", resp.StatusCode, b)
		}

		// Idempotency keys are each owner's own.
		_, a1, _ := alice.submit(t, `{"kind":"poisson.solve","params":{"n":10},"idempotency_key":"k1"}`)
		code, b1, p := bob.submit(t, `{"kind":"poisson.solve","params":{"n":11},"idempotency_key":"k1"}`)
		if code != 202 || b1.ID == a1.ID {
			t.Errorf("bob's key k1 after alice's: %d %+v %+v", code, b1, p)
		}

		// List streams: bob's shows bob's jobs only, the admin's everyone's.
		bobStream, rootStream := bob.openListStream(t), root.openListStream(t)
		hers := alice.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":12}}`)
		awaitEvent(t, rootStream, hers)
		his := bob.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":13}}`)
		for ev := range awaitEvent(t, bobStream, his) {
			if contains([]string{id, other, after, a1.ID, hers}, ev.ID) {
				t.Errorf("bob's list stream shows alice's job %s", ev.ID)
			}
		}

		// /metrics needs an admin token.
		anon := &env{url: o.url, client: o.client}
		for _, c := range []struct {
			e    *env
			want int
		}{{anon, 401}, {bob, 403}, {root, 200}} {
			if resp, _ := c.e.do(t, "GET", "/metrics", "", nil); resp.StatusCode != c.want {
				t.Errorf("/metrics: %d, want %d", resp.StatusCode, c.want)
			}
		}
	})
}

// awaitEvent reads s until an event of job id arrives and returns every
// event read, as a closed channel.
func awaitEvent(t *testing.T, s *stream, id string) <-chan job {
	t.Helper()
	seen := make(chan job, 256)
	defer close(seen)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("stream closed")
			}
			seen <- ev
			if ev.ID == id {
				return seen
			}
		case <-deadline:
			t.Fatalf("no event of job %s", id)
		}
	}
}

// A revoked token is refused at once; an API that requires tokens refuses
// requests without one even when none is stored.
func TestRevokedTokenIsRefused(t *testing.T) {
	o := startOwned(t, "sqlite")
	if resp, _ := o.do(t, "GET", "/v1/kinds", "", nil); resp.StatusCode != 401 {
		t.Errorf("no token stored, tokens required: %d, want 401", resp.StatusCode)
	}
	secret := storage.NewSecret()
	tok, err := storage.InsertToken(context.Background(), o.db.SQL, secret, "ci", "ci", storage.ScopeUser, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.InsertToken(context.Background(), o.db.SQL, secret, "again", "ci", storage.ScopeUser, time.Now()); !errors.Is(err, storage.ErrTokenExists) {
		t.Errorf("the same token stored twice: %v", err)
	}
	c := &env{url: o.url, client: o.client, token: secret}
	if resp, b := c.do(t, "GET", "/v1/kinds", "", nil); resp.StatusCode != 200 {
		t.Fatalf("valid token: %d %s", resp.StatusCode, b)
	}
	if err := storage.RevokeToken(context.Background(), o.db.SQL, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, _ := c.do(t, "GET", "/v1/kinds", "", nil)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("revoked token: %d %v, want 401 with WWW-Authenticate", resp.StatusCode, resp.Header)
	}
}

// Without any token stored, an API that may run open serves everyone as one
// anonymous owner; the first token stored closes it.
func TestOpenUntilATokenExists(t *testing.T) {
	var db *storage.DB
	e := start(t, "sqlite", func(c *api.Config) { db = c.DB })
	id := e.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
	e.wait(t, id, time.Minute, "succeeded")
	if resp, _ := e.do(t, "GET", "/metrics", "", nil); resp.StatusCode != 200 {
		t.Errorf("open API: /metrics %d", resp.StatusCode)
	}
	secret := storage.NewSecret()
	if _, err := storage.InsertToken(context.Background(), db.SQL, secret, "first", "alice", storage.ScopeUser, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, _ := e.do(t, "GET", "/v1/jobs/"+id, "", nil)
		if resp.StatusCode == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still open after a token was stored: %d", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The anonymous owner's job is not alice's.
	alice := &env{url: e.url, client: e.client, token: secret}
	if resp, _ := alice.do(t, "GET", "/v1/jobs/"+id, "", nil); resp.StatusCode != 404 {
		t.Errorf("alice reads the anonymous job: %d, want 404", resp.StatusCode)
	}
}

// Past the rate limit the answer is 429 with Retry-After, per token: another
// token still gets through.
func TestRateLimitPerToken(t *testing.T) {
	o := startOwned(t, "sqlite", func(c *api.Config) { c.RateLimit = 5 })
	a, b := o.token(t, "a", storage.ScopeUser), o.token(t, "b", storage.ScopeUser)
	codes := map[int]int{}
	var last *http.Response
	for i := 0; i < 8; i++ {
		resp, _ := a.do(t, "GET", "/v1/kinds", "", nil)
		codes[resp.StatusCode]++
		last = resp
	}
	if codes[200] != 5 || codes[429] != 3 {
		t.Errorf("8 requests at a limit of 5 a minute: %v", codes)
	}
	if last.Header.Get("Retry-After") == "" || last.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("429 without Retry-After or problem+json: %v", last.Header)
	}
	if resp, _ := b.do(t, "GET", "/v1/kinds", "", nil); resp.StatusCode != 200 {
		t.Errorf("another token: %d, want 200", resp.StatusCode)
	}
}

// Off loopback the API refuses to start while no valid token is stored; on
// loopback it may run open.
func TestCheckAuth(t *testing.T) {
	o := startOwned(t, "sqlite")
	ctx := context.Background()
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, "localhost:1": true, "[::1]:80": true,
		"0.0.0.0:8080": false, ":8080": false, "10.0.0.1:80": false, "no-port": false} {
		if err := api.CheckAuth(ctx, o.db, addr); (err == nil) != ok {
			t.Errorf("%s without tokens: %v", addr, err)
		}
	}
	tok, err := storage.InsertToken(ctx, o.db.SQL, storage.NewSecret(), "ops", "ops", storage.ScopeAdmin, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := api.CheckAuth(ctx, o.db, "0.0.0.0:8080"); err != nil {
		t.Errorf("with a token stored: %v", err)
	}
	if err := storage.RevokeToken(ctx, o.db.SQL, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := api.CheckAuth(ctx, o.db, "0.0.0.0:8080"); err == nil {
		t.Error("with the only token revoked: accepted")
	}
}
