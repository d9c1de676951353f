package api_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"eddy/api"
	"eddy/storage"
)

// unreachableStore is an artifact store whose reads fail, while down is
// set, as an object store that does not answer does.
type unreachableStore struct {
	storage.Artifacts
	down *atomic.Bool
}

var errUnreachable = errors.New("dial tcp: connection refused")

func (s unreachableStore) Open(ctx context.Context, key string) (storage.Reader, error) {
	if s.down.Load() {
		return nil, errUnreachable
	}
	return s.Artifacts.Open(ctx, key)
}

func (s unreachableStore) Stat(ctx context.Context, key string) (storage.Info, error) {
	if s.down.Load() {
		return storage.Info{}, errUnreachable
	}
	return s.Artifacts.Stat(ctx, key)
}

// While the result store does not answer, a result and its datasets are
// 503 with Retry-After (they may be back in a moment), not 410 (lost); once
// it answers again they are served.
func TestResultStoreOutageIs503(t *testing.T) {
	var down atomic.Bool
	e := start(t, "sqlite", func(c *api.Config) { c.Artifacts = unreachableStore{c.Artifacts, &down} })
	id := e.succeeded(t, `{"kind":"poisson.solve","params":{"n":16}}`)
	down.Store(true)
	for _, path := range []string{"/v1/jobs/" + id + "/result", "/v1/jobs/" + id + "/datasets"} {
		resp, body := e.do(t, "GET", path, "", nil)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s while the store is down: %d %s", path, resp.StatusCode, body)
		}
	}
	down.Store(false)
	for _, path := range []string{"/v1/jobs/" + id + "/result", "/v1/jobs/" + id + "/datasets"} {
		if resp, body := e.do(t, "GET", path, "", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s once the store is back: %d %s", path, resp.StatusCode, body)
		}
	}
}
