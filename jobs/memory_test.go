package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"eddy/blas"
	"eddy/hdf5io"
	"eddy/hyperspectral"
	"eddy/storage"
)

// peakHeap runs work and returns the peak of the Go heap's object bytes while
// it ran, less the bytes live before it.
//
// What is measured: the estimates count the arrays a run holds at once, so
// the measure is the live heap, sampled every 200 µs from the runtime's
// "/memory/classes/heap/objects:bytes" (live objects plus those not yet
// swept). With the default GOGC=100 that figure may run up to twice the live
// heap before a collection, and would measure the collector's pacing rather
// than the run; the collector is therefore set to GOGC=10 while work runs, so
// that garbage is reclaimed within 10% of the live heap and the sampled peak
// follows the live one. Arrays allocated outside the Go heap are not seen:
// HDF5 writes straight from the Go slices (the memory type is the file type,
// so no conversion buffer), and OpenBLAS's per-thread buffers belong to the
// process, not to a job; OpenBLAS's eigensolver workspace in gp.solve is
// counted by the estimate but not measured here.
func peakHeap(work func()) int64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64())
	}
	base := read()
	peak := base
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	work()
	close(done)
	wg.Wait()
	return max(peak, read()) - base
}

// memoryCase is one run of a kind whose peak memory is compared with the
// kind's estimate.
type memoryCase struct {
	kind, params string
	// cube, for unmix, writes the cube upload and returns its path, its
	// dataset's shape and its format.
	cube func(t *testing.T) (path string, shape []int, format string)
}

// syntheticCube writes a linear-mixture cube of the given bands and image size
// in the given layout as the HDF5 dataset "Y".
func syntheticCube(bands, rows, cols int, layout hyperspectral.Layout) func(t *testing.T) (string, []int, string) {
	return func(t *testing.T) (string, []int, string) {
		m := mat.NewDense(bands, 4, nil)
		for l := range bands {
			for k := range 4 {
				m.Set(l, k, 0.1+0.2*float64(k)+0.5*float64(l*(k+1)%7)/7)
			}
		}
		y, _ := hyperspectral.Synthetic(m, rows, cols, 0.1, 30, 1)
		data, shape := y.RawMatrix().Data, []int{bands, rows * cols}
		if layout == hyperspectral.LayoutRowsColsBands {
			data, shape = hyperspectral.CubeToRowMajor(y, rows, cols), []int{rows, cols, bands}
		}
		path := filepath.Join(t.TempDir(), "cube.h5")
		w, err := hdf5io.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteFloat64("Y", data, shape, "", ""); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return path, shape, "hdf5"
	}
}

// Each kind's memory estimate is within a factor of two of the measured peak,
// at three sizes (four for gp.solve: both of its paths), all large enough that
// the arrays outweigh fixed costs.
func TestMemoryEstimatesMatchMeasuredPeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every kind at sizes of tens of MB")
	}
	// gp.solve runs with the BLAS the worker installs, as in production.
	blas.UseInGonum()
	// One trend and one nugget: one run at a time (with "auto", the default,
	// the estimate counts a second variant beside the first, which may or
	// may not overlap it). In 2-D without the coarse stage, which F = 2 on
	// 150² would make: started from its solution, the one solve of 0
	// iterations builds less than the estimate counts (peak 17–18 MiB
	// against 26.6 MiB from the start).
	gp1 := `{"pde": "poisson1d", "exact": "sin(3*x)", "x_min": 0, "x_max": 2, "n": %d, "freq_scale": 2, "components": 8, "iterations": 0, "trend": "none", "nugget": "relative"}`
	gp2 := `{"pde": "poisson2d", "exact": "sin(3*x)*sin(2*y)", "x_min": 0, "x_max": 2, "y_min": 0, "y_max": 2, "n": %d, "freq_scale": 2, "components": 8, "iterations": 0, "coarse": "off"}`
	unmix := `{"cube": "cube", "endmembers": %d, "iterations": 3, "layout": %q}`
	cases := []memoryCase{
		{kind: "poisson.solve", params: `{"n": 512, "max_iter": 20}`},
		{kind: "poisson.solve", params: `{"n": 1024, "max_iter": 20, "method": "pcg-jacobi"}`},
		{kind: "poisson.solve", params: `{"dim": 3, "n": 128, "max_iter": 20}`},
		{kind: "navier_stokes.simulate", params: `{"n": 64, "samples": 4, "t_end": 1, "snapshot_dt": 0.01, "dt": 0.01}`},
		{kind: "navier_stokes.simulate", params: `{"n": 128, "samples": 2, "t_end": 1, "snapshot_dt": 0.01, "dt": 0.01}`},
		{kind: "navier_stokes.simulate", params: `{"n": 256, "samples": 1, "t_end": 0.5, "snapshot_dt": 0.01, "dt": 0.01}`},
		{kind: "gp.solve", params: fmt.Sprintf(gp1, 300)},
		{kind: "gp.solve", params: fmt.Sprintf(gp1, 600)},
		{kind: "gp.solve", params: fmt.Sprintf(gp1, 900)},
		{kind: "gp.solve", params: fmt.Sprintf(gp2, 150)},
		{kind: "unmix", params: fmt.Sprintf(unmix, 4, "bands,pixels"), cube: syntheticCube(100, 100, 100, hyperspectral.LayoutBandsPixels)},
		{kind: "unmix", params: fmt.Sprintf(unmix, 16, "rows,cols,bands"), cube: syntheticCube(50, 200, 200, hyperspectral.LayoutRowsColsBands)},
		{kind: "unmix", params: fmt.Sprintf(unmix, 8, "bands,pixels"), cube: syntheticCube(100, 250, 250, hyperspectral.LayoutBandsPixels)},
	}
	// A shipped MAT scene, when the data folder is there: Jasper Ridge, 198
	// bands × 100×100 pixels.
	jasper := filepath.Join("..", "..", "shared", "data", "unmixing", "Jasper_with_GT.mat")
	if _, err := os.Stat(jasper); err == nil {
		scene := func(*testing.T) (string, []int, string) { return jasper, []int{198, 10000}, "mat" }
		cases = append(cases,
			memoryCase{kind: "unmix", params: `{"cube": "cube", "endmembers": 4, "iterations": 3}`, cube: scene},
			memoryCase{kind: "unmix", params: `{"cube": "cube", "endmembers": 4, "iterations": 3, "rows": 100, "cols": 100}`, cube: scene})
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-24s %-20s %11s %11s %6s\n", "kind", "size", "estimate", "peak", "ratio")
	for _, c := range cases {
		k, ok := Lookup(c.kind)
		if !ok {
			t.Fatalf("%s not registered", c.kind)
		}
		_, params, err := k.Decode(json.RawMessage(c.params))
		if err != nil {
			t.Fatalf("%s %s: %v", c.kind, c.params, err)
		}
		uploads := map[string]*storage.Upload{}
		var cubePath string
		size := ""
		if c.cube != nil {
			var shape []int
			var format string
			cubePath, shape, format = c.cube(t)
			uploads["/cube"] = &storage.Upload{ID: "cube", Format: format, Datasets: []storage.Dataset{{Name: "Y", Shape: shape}}}
			size = strings.Trim(strings.ReplaceAll(fmt.Sprint(shape), " ", "×"), "[]") + " " + format
		} else {
			var p struct {
				Dim, N, Samples int
				PDE             string
			}
			json.Unmarshal([]byte(c.params), &p)
			size = fmt.Sprintf("n=%d", p.N)
			switch {
			case p.Dim == 3:
				size += " 3-D"
			case p.Samples > 0:
				size += fmt.Sprintf(" s=%d", p.Samples)
			case p.PDE != "":
				size += " " + p.PDE
			}
		}
		est, _ := k.memory(params, uploads)
		out := filepath.Join(t.TempDir(), "result.h5")
		var runErr error
		peak := peakHeap(func() {
			w, err := hdf5io.Create(out)
			if err != nil {
				runErr = err
				return
			}
			env := &Env{RunID: "memory", Out: w, Metrics: map[string]any{},
				Resolve: func(string) (string, error) { return cubePath, nil }}
			if runErr = k.run(context.Background(), params, env); runErr == nil {
				runErr = w.Close()
			} else {
				w.Abort()
			}
		})
		if runErr != nil {
			t.Fatalf("%s %s: %v", c.kind, c.params, runErr)
		}
		ratio := float64(peak) / float64(est)
		fmt.Fprintf(&table, "%-24s %-20s %11s %11s %6.2f\n", c.kind, size, formatBytes(est), formatBytes(peak), ratio)
		if peak < 4<<20 {
			t.Errorf("%s %s: peak %s is too small for a meaningful comparison", c.kind, c.params, formatBytes(peak))
		}
		if ratio < 0.5 || ratio > 2 {
			t.Errorf("%s %s: estimate %s, measured peak %s: not within a factor of 2", c.kind, c.params, formatBytes(est), formatBytes(peak))
		}
	}
	t.Logf("peak live heap against the kinds' estimates:\n%s", table.String())
}

// newBudgetService returns a service on db with the given memory budget, not
// yet started; workers 0 makes it insert-only.
func newBudgetService(t *testing.T, db *storage.DB, dataDir string, workers int, budget int64) *Service {
	t.Helper()
	art, err := storage.NewDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := New(Config{DB: db, Artifacts: art, Workers: workers, MaxJobMemory: budget,
		FetchPollInterval: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// Submit refuses a job whose estimate exceeds the budget with a 422 at the
// param that drives the size, and accepts one within it.
func TestSubmitRefusesJobsOverTheMemoryBudget(t *testing.T) {
	ctx := context.Background()
	_, db := newIdleService(t, nil) // for its database
	dataDir := t.TempDir()
	svc := newBudgetService(t, db, dataDir, 0, 16<<20)
	if err := storage.InsertUpload(ctx, db.SQL, &storage.Upload{ID: "big-cube", Format: "hdf5", Bytes: 1, SHA256: "-",
		Path: "uploads/big-cube.h5", CreatedAt: time.Now(),
		Datasets: []storage.Dataset{{Name: "Y", Shape: []int{200, 100000}, Dtype: "float64"}}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, params, path string }{
		{"poisson.solve", `{"n": 1024}`, "/params/n"},
		{"navier_stokes.simulate", `{"n": 128, "samples": 8}`, "/params/samples"},
		{"gp.solve", `{"preset": "p1", "n": 800}`, "/params/n"},
		{"unmix", `{"cube": "big-cube", "endmembers": 4}`, "/params/cube"},
	} {
		_, _, err := svc.Submit(ctx, SubmitRequest{Kind: c.kind, Params: json.RawMessage(c.params)})
		var ve ValidationError
		if !errors.As(err, &ve) || len(ve) != 1 || ve[0].Path != c.path {
			t.Errorf("%s %s: got %v, want a validation error at %s", c.kind, c.params, err, c.path)
			continue
		}
		if msg := ve[0].Message; !strings.Contains(msg, "needs about") || !strings.Contains(msg, "allows 16.0 MiB per job (EDDY_MAX_JOB_MEMORY)") {
			t.Errorf("%s: message %q", c.kind, msg)
		}
	}
	if _, _, err := svc.Submit(ctx, SubmitRequest{Kind: "poisson.solve", Params: json.RawMessage(`{"n": 256}`)}); err != nil {
		t.Errorf("a job within the budget was refused: %v", err)
	}

	// The default budget (a share of this machine's memory) refuses absurd
	// sizes; with no limit they are queued.
	def := newBudgetService(t, db, dataDir, 0, 0)
	huge := SubmitRequest{Kind: "poisson.solve", Params: json.RawMessage(`{"dim": 3, "n": 2000}`)} // 576 GB
	var ve ValidationError
	if _, _, err := def.Submit(ctx, huge); !errors.As(err, &ve) || ve[0].Path != "/params/n" {
		t.Errorf("default budget: got %v, want a validation error at /params/n", err)
	}
	unlimited := newBudgetService(t, db, dataDir, 0, NoMemoryLimit)
	if _, _, err := unlimited.Submit(ctx, huge); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

// A worker refuses, permanently, a run that an API with a larger budget
// accepted.
func TestWorkerRefusesRunOverItsMemoryBudget(t *testing.T) {
	ctx := context.Background()
	_, db := newIdleService(t, nil) // for its database
	dataDir := t.TempDir()
	api := newBudgetService(t, db, dataDir, 0, NoMemoryLimit)
	run, _, err := api.Submit(ctx, SubmitRequest{Kind: "poisson.solve", Params: json.RawMessage(`{"n": 512}`)})
	if err != nil {
		t.Fatal(err)
	}
	worker := newBudgetService(t, db, dataDir, 1, 1<<20)
	if err := worker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer worker.Stop(ctx)
	r := waitState(t, worker, run.ID, 60*time.Second, storage.Succeeded, storage.Failed)
	if r.State != storage.Failed || r.Attempt != 1 || !strings.Contains(r.Error, "this worker allows 1.0 MiB per job") {
		t.Fatalf("run %s after %d attempts: %q", r.State, r.Attempt, r.Error)
	}
}

func TestParseMemorySize(t *testing.T) {
	for in, want := range map[string]int64{
		"1073741824": 1 << 30, "512MiB": 512 << 20, "4GiB": 4 << 30, "2G": 2e9, "2g": 2e9,
		"1.5Gi": 3 << 29, "100 MB": 1e8, "64k": 64e3, "0": 0, " 8KiB ": 8 << 10, "1TB": 1e12,
	} {
		if got, err := ParseMemorySize(in); err != nil || got != want {
			t.Errorf("ParseMemorySize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "4 GiBs", "-1G", "1e3", "four", "1..5G", "1e30TB"} {
		if got, err := ParseMemorySize(in); err == nil {
			t.Errorf("ParseMemorySize(%q) = %d, want an error", in, got)
		}
	}
}

// The available memory is MemTotal, or a smaller cgroup limit of the process
// or of a cgroup above it; 4 GiB when nothing can be read.
func TestAvailableMemory(t *testing.T) {
	write := func(root, name, content string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meminfo := "MemTotal:        8388608 kB\nMemFree:         1000 kB\n"
	cases := []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"nothing readable", nil, 4 << 30},
		{"meminfo only", map[string]string{"proc/meminfo": meminfo}, 8 << 30},
		{"cgroup v2 limit above the process", map[string]string{
			"proc/meminfo":                                     meminfo,
			"proc/self/cgroup":                                 "0::/eddy.slice/worker.scope\n",
			"sys/fs/cgroup/eddy.slice/memory.max":              "2147483648\n",
			"sys/fs/cgroup/eddy.slice/worker.scope/memory.max": "max\n",
		}, 2 << 30},
		{"cgroup v2 limit above the machine", map[string]string{
			"proc/meminfo":                 meminfo,
			"proc/self/cgroup":             "0::/big\n",
			"sys/fs/cgroup/big/memory.max": "68719476736\n",
		}, 8 << 30},
		{"cgroup v1", map[string]string{
			"proc/meminfo":     meminfo,
			"proc/self/cgroup": "5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes":            "9223372036854771712\n",
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "1073741824\n",
		}, 1 << 30},
	}
	for _, c := range cases {
		root := t.TempDir()
		for name, content := range c.files {
			write(root, name, content)
		}
		if got := availableMemory(root); got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, got, c.want)
		}
	}
	if d := DefaultMaxJobMemory(4); d <= 0 || d > DefaultMaxJobMemory(0) || DefaultMaxJobMemory(0) != DefaultMaxJobMemory(1) {
		t.Errorf("DefaultMaxJobMemory(4) = %d, (0) = %d, (1) = %d", d, DefaultMaxJobMemory(0), DefaultMaxJobMemory(1))
	}
}
