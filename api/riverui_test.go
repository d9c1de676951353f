package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"eddy/storage"
)

// River's operator UI at /riverui, on both databases: its page, and its API
// listing the River job behind a finished Eddy job. With tokens it is for
// admins only: 401 without a token, 403 for a user's.
func TestRiverUI(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		o := startOwned(t, dialect)
		admin, user := o.token(t, "root", storage.ScopeAdmin), o.token(t, "alice", storage.ScopeUser)
		id := user.succeeded(t, `{"kind":"poisson.solve","params":{"dim":2,"n":16}}`)

		resp, body := admin.do(t, "GET", "/riverui/", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<title>River</title>") {
			t.Fatalf("riverui page: %d %.300s", resp.StatusCode, body)
		}
		resp, body = admin.do(t, "GET", "/riverui/api/jobs?state=completed&limit=20", "", nil)
		var list struct {
			Data []struct {
				Kind string          `json:"kind"`
				Args json.RawMessage `json:"args"`
			} `json:"data"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &list) != nil {
			t.Fatalf("riverui jobs: %d %.300s", resp.StatusCode, body)
		}
		found := false
		for _, j := range list.Data {
			found = found || (j.Kind == "eddy_run" && strings.Contains(string(j.Args), id))
		}
		if !found {
			t.Errorf("the River job of %s is not listed: %.500s", id, body)
		}

		if resp, _ := user.do(t, "GET", "/riverui/api/jobs?state=completed", "", nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a user's token: %d, want 403", resp.StatusCode)
		}
		anon := *admin
		anon.token = ""
		if resp, _ := anon.do(t, "GET", "/riverui/", "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("no token: %d, want 401", resp.StatusCode)
		}
	})
}
