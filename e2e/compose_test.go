package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"eddy/internal/pgtest"
	"eddy/storage/blobtest"
)

// loadCompose loads docker-compose.yml with the Compose specification's
// own loader, which checks it against the specification's schema,
// interpolates the variables and resolves the merge keys, as
// `docker compose` would, with env as the shell's environment.
func loadCompose(t *testing.T, env ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithEnv(env), cli.WithName("eddy"), cli.WithWorkingDirectory(".."))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

// The compose file is valid and describes a deployment that works on many
// machines: PostgreSQL, an S3-compatible store, an API and several
// workers, built from this repository, configured only with variables the
// daemons read, sharing no volume, each started once what it needs is
// ready; the API is reachable only from the host's loopback.
func TestComposeFileIsValid(t *testing.T) {
	if _, err := cli.NewProjectOptions([]string{"../docker-compose.yml"}, cli.WithName("eddy"), cli.WithWorkingDirectory("..")); err != nil {
		t.Fatal(err)
	}
	// EDDY_TOKENS is required: without it the file does not load.
	opts, _ := cli.NewProjectOptions([]string{"../docker-compose.yml"}, cli.WithEnv([]string{}), cli.WithName("eddy"), cli.WithWorkingDirectory(".."))
	if _, err := opts.LoadProject(context.Background()); err == nil || !strings.Contains(err.Error(), "EDDY_TOKENS") {
		t.Fatalf("loaded without EDDY_TOKENS: %v", err)
	}
	p := loadCompose(t, "EDDY_TOKENS=secret")
	for _, name := range []string{"postgres", "minio", "bucket", "api", "worker"} {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("no service %s", name)
		}
	}
	daemon, err := os.ReadFile("../internal/daemon/daemon.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"api", "worker"} {
		s := p.Services[name]
		if s.Build == nil || s.Build.Context != mustAbs(t, "..") {
			t.Errorf("%s: not built from the repository: %+v", name, s.Build)
		}
		if len(s.Command) == 0 {
			t.Fatalf("%s: no command", name)
		}
		if _, err := os.Stat(filepath.Join("..", "cmd", s.Command[0])); err != nil {
			t.Errorf("%s runs %q, which is no binary of cmd/", name, s.Command[0])
		}
		for key, v := range s.Environment {
			if strings.HasPrefix(key, "EDDY_") && !strings.Contains(string(daemon), `"`+key+`"`) {
				t.Errorf("%s: the daemons read no %s", name, key)
			}
			if v == nil {
				t.Errorf("%s: %s has no value", name, key)
			}
		}
		store := s.Environment["EDDY_STORE"]
		if store == nil || !strings.HasPrefix(*store, "s3://") {
			t.Errorf("%s: artifacts not in the bucket: %v", name, store)
		} else if u, err := url.Parse(*store); err != nil || !strings.Contains(u.Query().Get("endpoint"), "minio:") {
			t.Errorf("%s: store %s is not the minio service", name, *store)
		}
		if db := s.Environment["DATABASE_URL"]; db == nil || !strings.Contains(*db, "@postgres:") {
			t.Errorf("%s: database %v is not the postgres service", name, db)
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeVolume || v.Source != "" {
				t.Errorf("%s shares volume %s: processes must share nothing but the bucket", name, v.Source)
			}
		}
		for dep, want := range map[string]string{"postgres": "service_healthy", "bucket": "service_completed_successfully"} {
			if d, ok := s.DependsOn[dep]; !ok || d.Condition != want {
				t.Errorf("%s: depends on %s %+v, want %s", name, dep, d, want)
			}
		}
	}
	if r := p.Services["worker"].Deploy; r == nil || r.Replicas == nil || *r.Replicas < 2 {
		t.Errorf("workers: %+v", r)
	}
	for _, port := range p.Services["api"].Ports {
		if port.HostIP != "127.0.0.1" {
			t.Errorf("the API is published on %q", port.HostIP)
		}
	}
	if p.Services["postgres"].HealthCheck == nil || p.Services["minio"].HealthCheck == nil {
		t.Error("postgres and minio need health checks for depends_on")
	}
	if p.Services["bucket"].DependsOn["minio"].Condition != "service_healthy" {
		t.Error("the bucket is created before the store is up")
	}
	// The store's credentials are the ones the bucket is made with.
	secret := *p.Services["api"].Environment["AWS_SECRET_ACCESS_KEY"]
	if *p.Services["minio"].Environment["MINIO_ROOT_PASSWORD"] != secret || *p.Services["bucket"].Environment["AWS_SECRET_ACCESS_KEY"] != secret {
		t.Error("the store's password and the daemons' secret key differ")
	}

	// The runtime image carries the libraries the binaries load.
	docker, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages := regexp.MustCompile(`(?m)^FROM `).Split(string(docker), -1)
	runtime := stages[len(stages)-1]
	for _, lib := range []string{"libhdf5-103-1", "libopenblas0", "ca-certificates"} {
		if !strings.Contains(runtime, lib) {
			t.Errorf("the runtime image lacks %s", lib)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// composeProc starts service s of the compose file as a process: its
// command with its environment, in which the compose network's hosts
// (postgres, minio) and the container's addresses and folder are replaced by
// the test's own.
func composeProc(t *testing.T, s types.ServiceConfig, replace map[string]string) *proc {
	t.Helper()
	var env []string
	for key, v := range s.Environment {
		val := *v
		for from, to := range replace {
			val = strings.ReplaceAll(val, from, to)
		}
		if r, ok := replace[key]; ok {
			val = r
		}
		env = append(env, key+"="+val)
	}
	slices.Sort(env)
	return startProc(t, s.Command[0], env, s.Command[1:]...)
}

// The api and worker services run as the compose file says, with all its
// workers: a job goes from the API through a worker to the bucket and back.
func TestComposeServicesRun(t *testing.T) {
	const token = "compose-test-token"
	p := loadCompose(t, "EDDY_TOKENS="+token)
	s3 := blobtest.Start(t, "eddy")
	dbURL := pgtest.NewDatabase(t)
	addr := freeAddr(t)
	u, _ := url.Parse(s3.Endpoint)
	replace := map[string]string{
		"DATABASE_URL":      dbURL,
		"http://minio:9000": "http://" + u.Host,
		"EDDY_ADDR":         addr,
	}
	api := p.Services["api"]
	replace["EDDY_DATA_DIR"] = t.TempDir()
	composeProc(t, api, replace)
	workers := 0
	if d := p.Services["worker"].Deploy; d != nil && d.Replicas != nil {
		workers = *d.Replicas
	}
	for i := 0; i < workers; i++ {
		replace["EDDY_DATA_DIR"] = t.TempDir()
		replace["EDDY_METRICS_ADDR"] = freeAddr(t)
		composeProc(t, p.Services["worker"], replace)
	}
	c := client{"http://" + addr}
	c.waitReady(t)

	do := func(method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, _ := do("GET", "/v1/jobs", ""); code != 200 {
		t.Fatalf("with the compose file's token: %d", code)
	}
	var ids []string
	for i := 0; i < 2*workers; i++ {
		code, b := do("POST", "/v1/jobs", `{"kind":"poisson.solve","params":{"dim":2,"n":48}}`)
		var j job
		if err := json.Unmarshal(b, &j); code != 202 || err != nil {
			t.Fatalf("submit: %d %s", code, b)
		}
		ids = append(ids, j.ID)
	}
	for _, id := range ids {
		var j job
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			_, b := do("GET", "/v1/jobs/"+id, "")
			json.Unmarshal(b, &j)
			if final(j) || time.Now().After(deadline) {
				break
			}
		}
		if j.State != "succeeded" {
			t.Fatalf("job %s: %+v", id, j)
		}
		code, body := do("GET", j.Result.URL, "")
		sum := sha256.Sum256(body)
		if code != 200 || hex.EncodeToString(sum[:]) != j.Result.SHA256 {
			t.Fatalf("result of %s: %d, SHA-256 %x, want %s", id, code, sum, j.Result.SHA256)
		}
	}
	if keys := s3.Keys(t, "eddy"); len(keys) != len(ids) {
		t.Errorf("bucket holds %d objects for %d results: %v", len(keys), len(ids), keys)
	}
}
