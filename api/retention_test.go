package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/api"
	"eddy/hdf5io"
	"eddy/jobs"
	"eddy/storage"
)

// gateParams are the params of test.gate, a job that runs until the test
// opens its gate (see openGate).
type gateParams struct {
	Gate string `json:"gate" doc:"the gate waited for"`
}

func (*gateParams) Validate(*jobs.Checker) {}

var gates sync.Map // name → chan struct{}

// newGate returns a gate name for test.gate jobs, opened when the test ends
// if it has not been before.
func newGate(t *testing.T) (name string, open func()) {
	name = t.Name()
	ch := make(chan struct{})
	gates.Store(name, ch)
	var once sync.Once
	open = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(open)
	return name, open
}

func init() {
	jobs.Register(jobs.Spec[*gateParams]{
		Name: "test.gate", Defaults: func() *gateParams { return &gateParams{} },
		Outputs: []string{"x"}, Timeout: 5 * time.Minute, MaxAttempts: 1,
		Run: func(ctx context.Context, p *gateParams, env *jobs.Env) error {
			ch, ok := gates.Load(p.Gate)
			if !ok {
				return jobs.Permanent(fmt.Errorf("no gate %q", p.Gate))
			}
			select {
			case <-ch.(chan struct{}):
				return env.Out.WriteFloat64("x", []float64{1}, []int{1}, "i", "")
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
}

// gone reports whether key is no longer in the store.
func gone(t *testing.T, art storage.Artifacts, key string) bool {
	t.Helper()
	_, err := art.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err != nil
}

// An upload or a result that a queued job needs is kept, by DELETE (409) and
// by the expiry alike; once that job has ended both remove the rows and the
// files together.
func TestDeleteAndExpiryKeepWhatJobsNeed(t *testing.T) {
	var (
		db  *storage.DB
		art storage.Artifacts
		svc *jobs.Service
	)
	e := start(t, "sqlite", func(c *api.Config) { db, art, svc = c.DB, c.Artifacts, c.Jobs })
	ctx := context.Background()
	gate, open := newGate(t)

	parent := e.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
	e.wait(t, parent, time.Minute, "succeeded")
	old := e.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":9}}`)
	e.wait(t, old, time.Minute, "succeeded")
	cube := e.mixtureUpload(t)
	spare := e.h5Upload(t, map[string][]int{"x": {4}})
	// Both workers held: the jobs submitted next stay queued.
	holds := []string{
		e.mustSubmit(t, fmt.Sprintf(`{"kind":"test.gate","params":{"gate":%q}}`, gate)),
		e.mustSubmit(t, fmt.Sprintf(`{"kind":"test.gate","params":{"gate":%q}}`, gate)),
	}
	for _, id := range holds {
		e.wait(t, id, time.Minute, "running")
	}
	child := e.mustSubmit(t, fmt.Sprintf(`{"kind":"test.after","params":{"after":%q}}`, parent))
	unmix := e.mustSubmit(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"endmembers":3,"method":"vca_fcls"}}`, cube))

	pr, err := storage.GetRun(ctx, db.SQL, parent)
	if err != nil {
		t.Fatal(err)
	}
	or, err := storage.GetRun(ctx, db.SQL, old)
	if err != nil {
		t.Fatal(err)
	}
	cu, err := storage.GetUpload(ctx, db.SQL, cube)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{pr.ResultPath, or.ResultPath, cu.Path} {
		if gone(t, art, key) {
			t.Fatalf("%s missing before any delete", key)
		}
	}

	for path, by := range map[string]string{"/v1/jobs/" + parent: child, "/v1/uploads/" + cube: unmix} {
		if resp, b := e.do(t, "DELETE", path, "", nil); resp.StatusCode != 409 || !strings.Contains(string(b), by) {
			t.Errorf("DELETE %s while %s needs it: %d %s, want 409 naming it", path, by, resp.StatusCode, b)
		}
	}
	// The expiry, with every ended job and every upload past the cutoff,
	// takes the one job and the one upload that nothing needs.
	nj, nu, err := api.Expire(ctx, svc, db, time.Now().Add(time.Hour))
	if err != nil || nj != 1 || nu != 1 {
		t.Fatalf("expiry while jobs are queued: %d jobs, %d uploads, %v; want 1 and 1", nj, nu, err)
	}
	if !gone(t, art, or.ResultPath) || gone(t, art, pr.ResultPath) || gone(t, art, cu.Path) {
		t.Errorf("after the expiry: old result gone %v, needed result gone %v, needed upload gone %v; want true, false, false",
			gone(t, art, or.ResultPath), gone(t, art, pr.ResultPath), gone(t, art, cu.Path))
	}
	for _, path := range []string{"/v1/jobs/" + old, "/v1/uploads/" + spare} {
		if resp, _ := e.do(t, "GET", path, "", nil); resp.StatusCode != 404 {
			t.Errorf("GET %s after the expiry: %d, want 404", path, resp.StatusCode)
		}
	}

	open()
	for _, id := range append(holds, child, unmix) {
		e.wait(t, id, time.Minute, "succeeded")
	}
	if resp, b := e.do(t, "DELETE", "/v1/uploads/"+cube, "", nil); resp.StatusCode != 204 {
		t.Errorf("DELETE of the upload once no job needs it: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do(t, "DELETE", "/v1/jobs/"+parent, "", nil); resp.StatusCode != 204 {
		t.Errorf("DELETE of the job once no job needs it: %d %s", resp.StatusCode, b)
	}
	if !gone(t, art, pr.ResultPath) || !gone(t, art, cu.Path) {
		t.Errorf("files left after DELETE: result %v, upload %v", !gone(t, art, pr.ResultPath), !gone(t, art, cu.Path))
	}
	// The rest expires; nothing is left, neither rows nor files.
	var keys []string
	for _, id := range append(holds, child, unmix) {
		r, err := storage.GetRun(ctx, db.SQL, id)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, r.ResultPath)
	}
	if nj, nu, err := api.Expire(ctx, svc, db, time.Now().Add(time.Hour)); err != nil || nj != 4 || nu != 0 {
		t.Errorf("second expiry: %d jobs, %d uploads, %v; want 4 and 0", nj, nu, err)
	}
	if runs, err := storage.ListRuns(ctx, db.SQL, storage.RunFilter{Limit: 10}); err != nil || len(runs) != 0 {
		t.Errorf("runs left: %d %v", len(runs), err)
	}
	for _, key := range keys {
		if !gone(t, art, key) {
			t.Errorf("result %s left after the expiry", key)
		}
	}
	// A cutoff in the past takes nothing.
	keep := e.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
	e.wait(t, keep, time.Minute, "succeeded")
	if nj, nu, err := api.Expire(ctx, svc, db, time.Now().Add(-time.Hour)); err != nil || nj+nu != 0 {
		t.Errorf("expiry of nothing old: %d jobs, %d uploads, %v", nj, nu, err)
	}
}

// Past an owner's quota of unfinished jobs a submission is a 429 with
// Retry-After; past its quota of stored bytes an upload, or a job, is a 413.
// Another owner is not held back.
func TestQuotas(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) { quotas(t, dialect) })
}

func quotas(t *testing.T, dialect string) {
	t.Run("queued", func(t *testing.T) {
		o := startOwned(t, dialect, func(c *api.Config) { c.QuotaQueued = 1 })
		alice, bob := o.token(t, "alice", storage.ScopeUser), o.token(t, "bob", storage.ScopeUser)
		gate, open := newGate(t)
		body := fmt.Sprintf(`{"kind":"test.gate","params":{"gate":%q}}`, gate)
		first := alice.mustSubmit(t, body)
		resp, b := alice.do(t, "POST", "/v1/jobs", "application/json", strings.NewReader(body))
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "at most 1") {
			t.Errorf("second job over the quota: %d %v %s", resp.StatusCode, resp.Header, b)
		}
		bobs := bob.mustSubmit(t, body)
		open()
		alice.wait(t, first, time.Minute, "succeeded")
		bob.wait(t, bobs, time.Minute, "succeeded")
		alice.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
	})
	t.Run("bytes", func(t *testing.T) {
		const quota = 24 << 10
		o := startOwned(t, dialect, func(c *api.Config) { c.QuotaBytes = quota })
		alice := o.token(t, "alice", storage.ScopeUser)
		small := alice.h5Upload(t, map[string][]int{"x": {100}})
		id := alice.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
		j := alice.wait(t, id, time.Minute, "succeeded")
		su, err := storage.GetUpload(context.Background(), o.db.SQL, small)
		if err != nil {
			t.Fatal(err)
		}
		u, err := storage.OwnerUsage(context.Background(), o.db.SQL, "alice")
		if err != nil || u.Bytes != su.Bytes+j.Result.Bytes || u.Unfinished != 0 {
			t.Fatalf("usage %+v %v, want %d bytes (upload %d + result %d)", u, err, su.Bytes+j.Result.Bytes, su.Bytes, j.Result.Bytes)
		}
		big := writeH5Arrays(t, map[string]array{"x": {make([]float64, 4096), []int{4096}}})
		resp, b := alice.do(t, "POST", "/v1/uploads", "application/x-hdf5", bytes.NewReader(big))
		if resp.StatusCode != 413 || !strings.Contains(string(b), "storage quota") {
			t.Errorf("upload over the quota: %d %s", resp.StatusCode, b)
		}
		if u2, _ := storage.OwnerUsage(context.Background(), o.db.SQL, "alice"); u2 != u {
			t.Errorf("usage after a refused upload %+v, want %+v", u2, u)
		}
		// With alice's holdings brought to the quota, a job is refused too:
		// its result would add to them.
		if _, err := o.db.SQL.Exec(`UPDATE uploads SET bytes = $1 WHERE id = $2`, quota-j.Result.Bytes, small); err != nil {
			t.Fatal(err)
		}
		resp, b = alice.do(t, "POST", "/v1/jobs", "application/json", strings.NewReader(`{"kind":"poisson.solve","params":{"n":8}}`))
		if resp.StatusCode != 413 || !strings.Contains(string(b), "delete jobs or uploads") {
			t.Errorf("job at the byte quota: %d %s", resp.StatusCode, b)
		}
		bob := o.token(t, "bob", storage.ScopeUser)
		bob.mustSubmit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
	})
}

// writeH5Arrays returns an HDF5 file holding the arrays.
func writeH5Arrays(t *testing.T, arrays map[string]array) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "arrays.h5")
	w, err := hdf5io.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range arrays {
		if err := w.WriteFloat64(name, a.data, a.shape, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
