package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/internal/pgtest"
	"eddy/storage/blobtest"
)

// With the artifact store in an S3-compatible bucket, processes share no
// folder: a worker writes a result that the API serves (whole, by range,
// and read as datasets), another worker reads it as the input of a job of
// its own and checkpoints into the bucket, and what is left in the bucket
// afterwards is the two results and nothing else.
func TestS3StoreAcrossProcesses(t *testing.T) {
	s3 := blobtest.Start(t, "eddy")
	dbURL := pgtest.NewDatabase(t)
	addr := freeAddr(t)
	c := client{"http://" + addr}
	common := []string{"DATABASE_URL=" + dbURL, "EDDY_STORE=" + s3.URL("eddy"), "EDDY_CHECKPOINT_EVERY=1ms"}
	dirs := map[string]string{}
	start := func(name string, env ...string) {
		dir := t.TempDir()
		dirs[fmt.Sprint(name, len(dirs))] = dir
		startProc(t, name, append(append(common, "EDDY_DATA_DIR="+dir), env...))
	}
	start("api", "EDDY_ADDR="+addr)
	start("worker", "EDDY_WORKERS=1")
	start("worker", "EDDY_WORKERS=1")
	c.waitReady(t)

	sim := c.submit(t, `{"kind":"navier_stokes.simulate","params":{"n":32,"samples":6,"dt":0.002,"t_warmup":1,`+
		`"snapshot_dt":0.2,"t_end":5.6,"seed":3}}`)
	train := c.submit(t, fmt.Sprintf(`{"kind":"stfno.train","params":{"dataset":%q,"width":6,"modes_x":4,"modes_y":4,"modes_t":3,`+
		`"t_latent":6,"expansion":2,"t_in":6,"t_out":6,"epochs":3,"batch":2,"val_fraction":0.3,"seed":7}}`, sim.ID))
	sim = c.waitFor(t, sim.ID, 2*time.Minute, final)
	train = c.waitFor(t, train.ID, 3*time.Minute, final)
	if sim.State != "succeeded" || train.State != "succeeded" {
		t.Fatalf("simulation %s %v, training %s %v", sim.State, sim.Error, train.State, train.Error)
	}

	// The whole file, by its SHA-256, and a range of it.
	code, body := c.req(t, "GET", sim.Result.URL, "")
	sum := sha256.Sum256(body)
	if code != 200 || hex.EncodeToString(sum[:]) != sim.Result.SHA256 {
		t.Fatalf("result: %d, %d bytes, SHA-256 %x, want %s", code, len(body), sum, sim.Result.SHA256)
	}
	req, _ := http.NewRequest("GET", c.base+sim.Result.URL, nil)
	req.Header.Set("Range", "bytes=1000-4999")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, body[1000:5000]) {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(part))
	}
	h5 := c.download(t, train)
	h5.Close()
	if code, b := c.req(t, "GET", "/v1/jobs/"+sim.ID+"/datasets", ""); code != 200 || !strings.Contains(string(b), "vorticity") {
		t.Fatalf("datasets: %d %s", code, b)
	}

	// Only the results are left in the bucket: the checkpoints were
	// deleted, no upload was left half done.
	var keys []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		keys = s3.Keys(t, "eddy")
		if len(keys) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(keys) != 2 || !strings.HasPrefix(keys[0], "results/") || !strings.HasPrefix(keys[1], "results/") {
		t.Fatalf("bucket holds %v", keys)
	}
	// And no process kept a result of its own, or a staged file.
	for name, dir := range dirs {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			rel, _ := filepath.Rel(dir, p)
			if err == nil && !info.IsDir() && !strings.HasPrefix(rel, "cache"+string(filepath.Separator)) {
				t.Errorf("%s left %s", name, rel)
			}
			return nil
		})
	}
}
