package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
// its own and checkpoints into the bucket, an upload goes into the bucket
// and a worker trains on it, and what is left in the bucket afterwards is
// the results and the upload, nothing else.
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

	// An upload goes through the API into the bucket, and a worker trains
	// on it.
	code, _, b := c.upload(t, body)
	var up struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &up); code != 201 || err != nil {
		t.Fatalf("upload: %d %s", code, b)
	}
	onUpload := c.submit(t, fmt.Sprintf(`{"kind":"stfno.train","params":{"dataset":%q,"width":6,"modes_x":4,"modes_y":4,"modes_t":3,`+
		`"t_latent":6,"expansion":2,"t_in":6,"t_out":6,"epochs":1,"batch":2,"val_fraction":0.3,"seed":7}}`, up.ID))
	if onUpload = c.waitFor(t, onUpload.ID, 3*time.Minute, final); onUpload.State != "succeeded" {
		t.Fatalf("training on an upload: %s %v", onUpload.State, onUpload.Error)
	}

	// Only the results and the upload are left in the bucket: the
	// checkpoints were deleted, nothing was left half done.
	want := []string{"results/" + sim.ID + "/", "results/" + train.ID + "/", "results/" + onUpload.ID + "/", "uploads/" + up.ID + ".h5"}
	var keys []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		keys = s3.Keys(t, "eddy")
		if len(keys) == len(want) || time.Now().After(deadline) {
			break
		}
	}
	found := 0
	for _, k := range keys {
		for _, w := range want {
			if strings.HasPrefix(k, w) {
				found++
			}
		}
	}
	if len(keys) != len(want) || found != len(want) {
		t.Fatalf("bucket holds %v, want one object for each of %v", keys, want)
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
