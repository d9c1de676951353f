package jobs

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"eddy/fileformat"
	"eddy/hdf5io"
	"eddy/hyperspectral"
	"eddy/storage"
)

// shippedScene returns the path of a shipped data file, skipping the test if the
// data folder beside the repository is absent (outside CI).
func shippedScene(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "data", "unmixing", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shipped data missing: %v", err)
		}
		t.Skipf("shipped data not found: %v", err)
	}
	return p
}

// addUpload registers a MAT-file as an upload, as POST /v1/uploads would.
func addUpload(t *testing.T, db *storage.DB, dataDir, id, src string, datasets []storage.Dataset) {
	t.Helper()
	addUploadAs(t, db, dataDir, id, src, "mat", datasets)
}

// Jasper Ridge with the shipped initial endmembers: RRLbS through the job kind
// reaches the spec's SAD level against the ground truth.
func TestUnmixKindOnJasper(t *testing.T) {
	ctx := context.Background()
	scene, init := shippedScene(t, "Jasper_with_GT.mat"), shippedScene(t, "M0_jasperRidge_init.mat")
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	addUpload(t, db, dataDir, "jasper", scene, []storage.Dataset{{Name: "Y", Shape: []int{198, 10000}, Dtype: "uint16"},
		{Name: "M", Shape: []int{198, 4}, Dtype: "float64"}, {Name: "A", Shape: []int{4, 10000}, Dtype: "float64"}})
	addUpload(t, db, dataDir, "m0", init, []storage.Dataset{{Name: "M0", Shape: []int{198, 4}, Dtype: "float64"}})

	bad := map[string]string{
		`{"cube": "nope", "endmembers": 4}`:                                "/params/cube",
		`{"cube": "jasper", "endmembers": 4, "variable": "X"}`:             "/params/variable",
		`{"cube": "jasper", "endmembers": 4, "layout": "rows,cols,bands"}`: "/params/layout",
		`{"cube": "jasper", "endmembers": 4, "rows": 10, "cols": 10}`:      "/params/rows",
		`{"cube": "jasper", "endmembers": 400}`:                            "/params/endmembers",
		`{"cube": "jasper", "endmembers": 4, "init": "upload"}`:            "/params/init_endmembers",
		`{"cube": "jasper", "endmembers": 4, "method": "ica"}`:             "/params/method",
		`{"cube": "jasper", "endmembers": 4, "truth": "missing"}`:          "/params/truth",
		`{"cube": "jasper", "endmembers": 4, "lambda": -1}`:                "/params/lambda",
	}
	for raw, path := range bad {
		_, _, err := svc.Submit(ctx, SubmitRequest{Kind: "unmix", Params: json.RawMessage(raw)})
		v, ok := err.(ValidationError)
		if !ok || !strings.HasPrefix(v[0].Path, path) {
			t.Errorf("%s: %v, want an error at %s", raw, err, path)
		}
	}

	r, _, err := svc.Submit(ctx, SubmitRequest{Kind: "unmix", Params: json.RawMessage(
		`{"cube": "jasper", "truth": "jasper", "endmembers": 4, "method": "rrlbs", "init": "upload",
		  "init_endmembers": "m0", "init_scale": "data", "iterations": 300}`)})
	if err != nil {
		t.Fatal(err)
	}
	r = waitState(t, svc, r.ID, 2*time.Minute, storage.Succeeded, storage.Failed)
	if r.State != storage.Succeeded {
		t.Fatalf("unmix failed: %s", r.Error)
	}
	m := r.Result.Metrics
	// RRLbS from the shipped M0, 300 iterations: measured mean SAD 0.074. The
	// initialisation itself (M0 with FCLS abundances) scores 0.093, so the bound
	// 0.085 needs the iterations to remove at least 0.008 rad: a run that barely
	// moves fails.
	if sad := m["mean_sad"].(float64); sad > 0.085 {
		t.Errorf("mean SAD %g > 0.085", sad)
	}
	if it := m["iterations"].(float64); it != 300 || m["stopped_by"] != "max_iterations" {
		t.Errorf("iterations %v, stopped_by %v", it, m["stopped_by"])
	}
	// Without the lambda param, rrlbs chooses λ from the data.
	if lam, _ := m["lambda"].(float64); m["lambda_rule"] != "discrepancy" || !(lam > 0) {
		t.Errorf("lambda %v, lambda_rule %v; want a positive λ by the discrepancy rule", m["lambda"], m["lambda_rule"])
	}
	if _, ok := m["mean_rmse"]; !ok || m["truth_abundances"] != "A" {
		t.Errorf("RMSE present %v, truth abundances %v; want RMSE from A", ok, m["truth_abundances"])
	}
	want := "abundances,abundances_truth,channel_weights,endmembers,endmembers_truth,guidance_map,match,objective_history"
	if got := strings.Join(r.Result.Datasets, ","); got != want {
		t.Errorf("datasets %s, want %s", got, want)
	}
}

// An absurd number of endmembers next to an initial-endmembers upload is a
// validation error; it used to size a matrix before the range check, which
// panicked (a 500) or exhausted memory and killed the server.
func TestUnmixHugeEndmembersIsAValidationError(t *testing.T) {
	k, _ := Lookup("unmix")
	for _, raw := range []string{
		`{"cube":"c","init":"upload","init_endmembers":"e","endmembers":9000000000000000000}`,
		`{"cube":"c","init":"upload","init_endmembers":"e","endmembers":100000000000}`,
		`{"cube":"c","init":"upload","init_endmembers":"e","endmembers":-5}`,
	} {
		_, _, err := k.Decode(json.RawMessage(raw))
		verr, ok := err.(ValidationError)
		found := false
		for _, e := range verr {
			found = found || e.Path == "/params/endmembers"
		}
		if !ok || !found {
			t.Errorf("%s: %v, want an error at /params/endmembers", raw, err)
		}
	}
}

// writeTruthH5 writes an HDF5 ground truth: the endmembers as dataset em
// (bands×K, or K×bands when em is GT) and, unless name is "", the abundance
// maps as dataset name in the given layout: "maps", K×rows×cols row-major;
// "flat", the same values as K×pixels (the pixels numbered row by row, as a
// NumPy reshape of the maps gives them); "last", rows×cols×K (a MAT-file's
// S_GT as a conversion keeps it).
func writeTruthH5(t *testing.T, path string, truth *hyperspectral.Truth, rows, cols int, em, name, layout string) {
	t.Helper()
	w, err := hdf5io.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	l, k := truth.Endmembers.Dims()
	if em == "GT" { // K×bands, as in Zhu's files
		err = w.WriteFloat64(em, mat.DenseCopyOf(truth.Endmembers.T()).RawMatrix().Data, []int{k, l}, "endmember,band", "")
	} else {
		err = w.WriteFloat64(em, mat.DenseCopyOf(truth.Endmembers).RawMatrix().Data, []int{l, k}, "band,endmember", "")
	}
	if name != "" && err == nil {
		res := &hyperspectral.Result{Abundances: truth.Abundances, Rows: rows, Cols: cols}
		data, shape, dims := res.AbundanceCube(), []int{k, rows, cols}, "endmember,row,col"
		switch layout {
		case "flat":
			shape, dims = []int{k, rows * cols}, "endmember,pixel"
		case "last":
			last := make([]float64, len(data))
			for q := range k {
				for px := range rows * cols {
					last[px*k+q] = data[q*rows*cols+px]
				}
			}
			data, shape, dims = last, []int{rows, cols, k}, "row,col,endmember"
		}
		err = w.WriteFloat64(name, data, shape, dims, "")
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// True abundances are found under the usual names (here S_GT) or the one the
// truth_abundances param gives; without them the result says so (metric
// truth_abundances none, a warning) instead of silently leaving RMSE out.
// K×pixels abundances numbered row by row are recognised by the cube and give
// the same RMSE as the maps, with a warning. An HDF5 file with the endmembers
// as GT, K×bands, and the maps rows×cols×K (a MAT scene converted) gives the
// same SAD and RMSE as one with endmembers, bands×K, and K×rows×cols maps.
// Abundances of the wrong size are a validation error at submit.
func TestUnmixTruthAbundanceNames(t *testing.T) {
	ctx := context.Background()
	scene, sc := jasperScene(t)
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	addUpload(t, db, dataDir, "jasper", scene, []storage.Dataset{{Name: "Y", Shape: []int{198, 10000}, Dtype: "uint16"}})
	tmp := t.TempDir()
	for _, c := range []struct {
		id, em, name, layout string
	}{{"sgt", "endmembers", "S_GT", "maps"}, {"maps", "endmembers", "maps", "maps"}, {"bare", "endmembers", "", ""},
		{"rowmajor", "endmembers", "A", "flat"}, {"gt", "GT", "S_GT", "last"}} {
		p := filepath.Join(tmp, c.id+".h5")
		writeTruthH5(t, p, sc.Truth, 100, 100, c.em, c.name, c.layout)
		ds := []storage.Dataset{{Name: "/endmembers", Shape: []int{198, 4}, Dtype: "float64"}}
		if c.em == "GT" {
			ds = []storage.Dataset{{Name: "/GT", Shape: []int{4, 198}, Dtype: "float64"}}
		}
		shape := map[string][]int{"maps": {4, 100, 100}, "flat": {4, 10000}, "last": {100, 100, 4}}[c.layout]
		if c.name != "" {
			ds = append(ds, storage.Dataset{Name: "/" + c.name, Shape: shape, Dtype: "float64"})
		}
		addUpload(t, db, dataDir, c.id, p, ds)
	}
	var rmseMaps, sadMaps any
	for _, c := range []struct {
		extra, want string
		rmse        bool
		order       any
	}{
		{`"truth": "sgt"`, "S_GT", true, "image"},
		{`"truth": "maps", "truth_abundances": "maps"`, "maps", true, "image"},
		{`"truth": "maps"`, "none", false, nil},
		{`"truth": "bare"`, "none", false, nil},
		{`"truth": "rowmajor"`, "A", true, hyperspectral.OrderRowMajor},
		{`"truth": "gt"`, "S_GT", true, "image"},
	} {
		id := submitKind(t, svc, "unmix", `{"cube": "jasper", "endmembers": 4, "method": "vca_fcls", `+c.extra+`}`)
		r := waitState(t, svc, id, time.Minute, storage.Succeeded, storage.Failed)
		if r.State != storage.Succeeded {
			t.Fatalf("%s: %s", c.extra, r.Error)
		}
		m := r.Result.Metrics
		_, rmse := m["mean_rmse"]
		if m["truth_abundances"] != c.want || rmse != c.rmse {
			t.Errorf("%s: truth_abundances %v, RMSE %v; want %s, %v", c.extra, m["truth_abundances"], rmse, c.want, c.rmse)
		}
		if warned := len(r.Result.Warnings) == 1 && strings.Contains(r.Result.Warnings[0], "no true abundances"); warned == c.rmse {
			t.Errorf("%s: warnings %q", c.extra, r.Result.Warnings)
		}
		if m["truth_pixel_order"] != c.order {
			t.Errorf("%s: truth_pixel_order %v, want %v", c.extra, m["truth_pixel_order"], c.order)
		}
		switch {
		case c.extra == `"truth": "sgt"`:
			rmseMaps, sadMaps = m["mean_rmse"], m["mean_sad"]
		case c.extra == `"truth": "gt"`:
			// The endmembers K×bands (GT) and the maps rows×cols×K, as a
			// MAT scene converted keeps them.
			if m["mean_rmse"] != rmseMaps || m["mean_sad"] != sadMaps {
				t.Errorf("%s: mean SAD %v, RMSE %v; with the endmembers bands×K %v, %v", c.extra, m["mean_sad"], m["mean_rmse"], sadMaps, rmseMaps)
			}
		case c.order == hyperspectral.OrderRowMajor:
			if m["mean_rmse"] != rmseMaps || len(r.Result.Warnings) != 1 || !strings.Contains(r.Result.Warnings[0], "row by row") {
				t.Errorf("%s: mean RMSE %v (from the maps %v), warnings %q", c.extra, m["mean_rmse"], rmseMaps, r.Result.Warnings)
			}
		}
	}
	_, _, err := svc.Submit(ctx, SubmitRequest{Kind: "unmix", Params: json.RawMessage(`{"cube": "jasper", "endmembers": 4, "truth": "bare", "truth_abundances": "A"}`)})
	if v, ok := err.(ValidationError); !ok || v[0].Path != "/params/truth_abundances" {
		t.Errorf("truth_abundances missing from the upload: %v", err)
	}
	// A listing with abundances of another scene's size (the file itself is
	// not read at submit).
	addUpload(t, db, dataDir, "other", filepath.Join(tmp, "bare.h5"), []storage.Dataset{
		{Name: "/endmembers", Shape: []int{198, 4}, Dtype: "float64"}, {Name: "/A", Shape: []int{4, 400}, Dtype: "float64"}})
	_, _, err = svc.Submit(ctx, SubmitRequest{Kind: "unmix", Params: json.RawMessage(`{"cube": "jasper", "endmembers": 4, "truth": "other"}`)})
	if v, ok := err.(ValidationError); !ok || v[0].Path != "/params/truth" || !strings.Contains(v[0].Message, "4×10000") {
		t.Errorf("true abundances of the wrong size: %v", err)
	}
}

// jasperScene returns the path of the shipped Jasper Ridge scene and the
// scene read from it.
func jasperScene(t *testing.T) (string, *hyperspectral.Scene) {
	t.Helper()
	scene := shippedScene(t, "Jasper_with_GT.mat")
	f, err := os.Open(scene)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, err := hyperspectral.ReadScene(f)
	if err != nil {
		t.Fatal(err)
	}
	return scene, sc
}

// addUploadAs registers a file of the given format ("mat", "hdf5", "envi") as
// an upload, as POST /v1/uploads would.
func addUploadAs(t *testing.T, db *storage.DB, dataDir, id, src, format string, datasets []storage.Dataset) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	key := "uploads/" + id + "." + format
	os.MkdirAll(filepath.Join(dataDir, "uploads"), 0o755)
	if err := os.WriteFile(filepath.Join(dataDir, key), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := storage.InsertUpload(context.Background(), db.SQL, &storage.Upload{ID: id, Format: format, Bytes: int64(len(b)),
		SHA256: "-", Datasets: datasets, Path: key, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// writeENVITar writes y (bands×pixels, pixel r + c·rows) as an ENVI cube:
// a tar of cube.hdr and cube.bil, uint16 big-endian, band-interleaved by line,
// with wavelengths 400, 402, … nm.
func writeENVITar(t *testing.T, path string, y *mat.Dense, rows, cols int) {
	t.Helper()
	bands, _ := y.Dims()
	var wl []string
	for l := range bands {
		wl = append(wl, strconv.Itoa(400+2*l))
	}
	hdr := fmt.Sprintf("ENVI\nsamples = %d\nlines = %d\nbands = %d\nheader offset = 0\ndata type = 12\ninterleave = bil\nbyte order = 1\n"+
		"wavelength units = Nanometers\nwavelength = {%s}\n", cols, rows, bands, strings.Join(wl, ", "))
	data := make([]byte, 0, 2*bands*rows*cols)
	for r := range rows {
		for l := range bands {
			for c := range cols {
				data = binary.BigEndian.AppendUint16(data, uint16(y.At(l, r+c*rows)))
			}
		}
	}
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, f := range []struct {
		name string
		body []byte
	}{{"cube.hdr", []byte(hdr)}, {"cube.bil", data}} {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		w.Write(f.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Jasper Ridge sent as an ENVI cube (uint16, BIL, big-endian) unmixes exactly
// as the MAT-file does (same SAD to the digit: the same samples in the same
// pixel order), the image shape comes from the header, and the result holds
// the header's wavelengths.
func TestUnmixENVICube(t *testing.T) {
	ctx := context.Background()
	scene, sc := jasperScene(t)
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	addUpload(t, db, dataDir, "jasper", scene, []storage.Dataset{{Name: "Y", Shape: []int{198, 10000}, Dtype: "uint16"},
		{Name: "GT", Shape: []int{4, 198}, Dtype: "float64"}, {Name: "A", Shape: []int{4, 10000}, Dtype: "float64"}})
	tarPath := filepath.Join(t.TempDir(), "jasper.tar")
	writeENVITar(t, tarPath, sc.Y, 100, 100)
	format, ds, err := fileformat.Inspect(ctx, tarPath, fileformat.Limits{})
	if err != nil || format != fileformat.ENVI {
		t.Fatalf("inspect: %q %v", format, err)
	}
	var listed []storage.Dataset
	for _, d := range ds {
		listed = append(listed, storage.Dataset{Name: d.Name, Shape: d.Shape, Dtype: d.Dtype})
	}
	addUploadAs(t, db, dataDir, "envi", tarPath, string(fileformat.ENVI), listed)

	sad := map[string]float64{}
	for _, cube := range []string{"jasper", "envi"} {
		id := submitKind(t, svc, "unmix", `{"cube": "`+cube+`", "truth": "jasper", "endmembers": 4, "method": "vca_fcls"}`)
		r := waitState(t, svc, id, time.Minute, storage.Succeeded, storage.Failed)
		if r.State != storage.Succeeded {
			t.Fatalf("%s: %s", cube, r.Error)
		}
		sad[cube] = r.Result.Metrics["mean_sad"].(float64)
		if cube != "envi" {
			continue
		}
		if !slices.Contains(r.Result.Datasets, "wavelengths") {
			t.Fatalf("datasets %v: no wavelengths", r.Result.Datasets)
		}
		out, err := hdf5io.Open(filepath.Join(dataDir, r.ResultPath))
		if err != nil {
			t.Fatal(err)
		}
		wl, shape, err := out.ReadFloat64("wavelengths")
		_, ashape, aerr := out.ReadFloat64("abundances")
		out.Close()
		if err != nil || aerr != nil || len(wl) != 198 || wl[1] != 402 || !slices.Equal(shape, []int{198}) || !slices.Equal(ashape, []int{4, 100, 100}) {
			t.Errorf("wavelengths %v %v (%v), abundances %v (%v)", shape, wl[:min(2, len(wl))], err, ashape, aerr)
		}
	}
	if sad["envi"] != sad["jasper"] {
		t.Errorf("mean SAD from the ENVI cube %v, from the MAT-file %v", sad["envi"], sad["jasper"])
	}
	// The ENVI cube's order is its own: a variable or layout does not apply,
	// and a cube of other bands than the truth's is refused at submit.
	if _, _, err := svc.Submit(ctx, SubmitRequest{Kind: "unmix", Params: json.RawMessage(`{"cube": "envi", "endmembers": 4, "truth": "jasper", "outlier_bands": [198]}`)}); err == nil {
		t.Errorf("outlier band 198 of 198 bands accepted")
	}
}
