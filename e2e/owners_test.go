package e2e

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tokenCLI runs "api token args…" on the database in dataDir and returns
// its output.
func tokenCLI(t *testing.T, dataDir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "api"), append([]string{"token"}, args...)...)
	cmd.Env = append(cmd.Environ(), "EDDY_DATA_DIR="+dataDir, "DATABASE_URL=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("api token %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// newToken creates a token with "api token create" and returns it (the last
// word of the output) and its id.
func newToken(t *testing.T, dataDir, scope, name string) (secret, id string) {
	t.Helper()
	out := tokenCLI(t, dataDir, "create", "-scope", scope, "-name", name)
	words := strings.Fields(out)
	_, after, _ := strings.Cut(out, "created token ")
	return words[len(words)-1], strings.Fields(after)[0]
}

// as sends a request with a bearer token ("" for none).
func (c client) as(t *testing.T, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// h5Files lists the .h5 files under dir.
func h5Files(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".h5") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// The real cmd/api with tokens made by "api token create": each owner sees
// its own job only, /metrics needs admin, a token revoked while the server
// runs is refused, and EDDY_RETENTION removes an ended job with its result
// file.
func TestTokensOwnersAndRetention(t *testing.T) {
	data := t.TempDir()
	alice, _ := newToken(t, data, "user", "alice")
	bob, bobID := newToken(t, data, "user", "bob")
	ops, _ := newToken(t, data, "admin", "ops")
	addr := freeAddr(t)
	startProc(t, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + data, "DATABASE_URL=", "EDDY_WORKERS=1",
		"EDDY_RETENTION=10s", "EDDY_LOG_LEVEL=info"})
	c := client{"http://" + addr}
	c.waitReady(t)

	if code, b := c.as(t, "", "GET", "/v1/jobs", ""); code != 401 {
		t.Fatalf("no token, tokens stored: %d %s", code, b)
	}
	code, b := c.as(t, alice, "POST", "/v1/jobs", `{"kind":"poisson.solve","params":{"n":8}}`)
	if code != 202 {
		t.Fatalf("alice submits: %d %s", code, b)
	}
	var j job
	if err := json.Unmarshal(b, &j); err != nil || j.ID == "" {
		t.Fatalf("submit answer %s: %v", b, err)
	}
	id := j.ID
	deadline := time.Now().Add(time.Minute)
	for {
		_, b := c.as(t, alice, "GET", "/v1/jobs/"+id, "")
		if json.Unmarshal(b, &j) == nil && j.State == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not done: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := c.as(t, bob, "GET", "/v1/jobs/"+id, ""); code != 404 {
		t.Errorf("bob reads alice's job: %d, want 404", code)
	}
	if code, _ := c.as(t, ops, "GET", "/v1/jobs/"+id, ""); code != 200 {
		t.Errorf("admin reads alice's job: %d, want 200", code)
	}
	for token, want := range map[string]int{"": 401, bob: 403, ops: 200} {
		if code, _ := c.as(t, token, "GET", "/metrics", ""); code != want {
			t.Errorf("/metrics: %d, want %d", code, want)
		}
	}
	tokenCLI(t, data, "revoke", bobID)
	if code, _ := c.as(t, bob, "GET", "/v1/jobs", ""); code != 401 {
		t.Errorf("bob's revoked token: %d, want 401", code)
	}
	if list := tokenCLI(t, data, "list"); strings.Contains(list, alice) || !strings.Contains(list, "revoked") {
		t.Errorf("token list:\n%s", list)
	}

	// Retention: the ended job and its result file go within a few seconds.
	deadline = time.Now().Add(40 * time.Second)
	for {
		code, _ := c.as(t, alice, "GET", "/v1/jobs/"+id, "")
		if code == 404 && len(h5Files(t, filepath.Join(data, "results"))) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 40 s with EDDY_RETENTION=10s: GET %d, result files %v", code, h5Files(t, data))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
