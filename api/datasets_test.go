package api_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"eddy/hdf5io"
)

// npyArray is a decoded .npy file.
type npyArray struct {
	descr string
	shape []int
	f64   []float64
}

// parseNpy decodes a .npy file of format version 1.0, as numpy.load reads
// it, checking the layout numpy requires: the magic string, a header
// dictionary padded to a multiple of 64 bytes that ends in a newline, and
// exactly the data the shape declares. Only <f8 data is decoded to f64.
func parseNpy(t *testing.T, b []byte) npyArray {
	t.Helper()
	if len(b) < 10 || string(b[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("not a .npy 1.0 file: % x", b[:min(len(b), 10)])
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if (10+hl)%64 != 0 || len(b) < 10+hl || b[10+hl-1] != '\n' {
		t.Fatalf("header of %d bytes is not padded to 64 with a final newline", hl)
	}
	h := string(b[10 : 10+hl])
	m := regexp.MustCompile(`^\{'descr': '([<|][fiu][1248])', 'fortran_order': False, 'shape': \(([0-9, ]*)\), \} *\n$`).FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("header %q", h)
	}
	a := npyArray{descr: m[1], shape: []int{}}
	count := 1
	for _, s := range strings.Split(m[2], ",") {
		if s = strings.TrimSpace(s); s != "" {
			n, _ := strconv.Atoi(s)
			a.shape = append(a.shape, n)
			count *= n
		}
	}
	size, _ := strconv.Atoi(a.descr[2:])
	data := b[10+hl:]
	if len(data) != count*size {
		t.Fatalf("%d data bytes for shape %v of %s", len(data), a.shape, a.descr)
	}
	if a.descr == "<f8" {
		a.f64 = make([]float64, count)
		for i := range a.f64 {
			a.f64[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	}
	return a
}

// readResult downloads a job's result and reads one dataset of it whole.
func (e *env) readResult(t *testing.T, id, name string) ([]float64, []int) {
	t.Helper()
	resp, body := e.do(t, "GET", "/v1/jobs/"+id+"/result", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("result: %d", resp.StatusCode)
	}
	path := filepath.Join(t.TempDir(), "r.h5")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, shape, err := f.ReadFloat64(name)
	if err != nil {
		t.Fatal(err)
	}
	return v, shape
}

// A dataset of a result, whole or sliced, is served as .npy and as JSON with
// exactly the values of the HDF5 file; names with slashes work escaped or
// not; bad slices, names and formats are clear 4xx problems.
func TestDatasetEndpoint(t *testing.T) {
	e := start(t, "sqlite")
	id := e.succeeded(t, `{"kind":"poisson.solve","params":{"dim":2,"n":24}}`)
	u, shape := e.readResult(t, id, "solution")
	ny, nx := shape[0], shape[1]

	resp, body := e.do(t, "GET", "/v1/jobs/"+id+"/datasets/solution", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-npy" {
		t.Fatalf("whole dataset: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp.Header.Get("X-Eddy-Dims") != "y,x" || resp.Header.Get("X-Eddy-Shape") != fmt.Sprintf("%d,%d", ny, nx) {
		t.Errorf("headers dims %q shape %q", resp.Header.Get("X-Eddy-Dims"), resp.Header.Get("X-Eddy-Shape"))
	}
	a := parseNpy(t, body)
	if a.descr != "<f8" || len(a.shape) != 2 || a.shape[0] != ny || a.shape[1] != nx {
		t.Fatalf("npy %s %v", a.descr, a.shape)
	}
	for i := range u {
		if math.Float64bits(a.f64[i]) != math.Float64bits(u[i]) {
			t.Fatalf("element %d: %g, file has %g", i, a.f64[i], u[i])
		}
	}

	// Row 3 (an index drops the axis), columns 2, 5, 8, …; and the last row
	// counted from the end.
	for _, c := range []struct {
		slice string
		row   int
		cols  []int
	}{
		{"3,2::3", 3, stepped(2, nx, 3)},
		{"-1,:", ny - 1, stepped(0, nx, 1)},
		{"5,-4:-1", 5, stepped(nx-4, nx-1, 1)},
	} {
		resp, body = e.do(t, "GET", "/v1/jobs/"+id+"/datasets/solution?slice="+c.slice, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("slice %s: %d %s", c.slice, resp.StatusCode, body)
		}
		a = parseNpy(t, body)
		if len(a.shape) != 1 || a.shape[0] != len(c.cols) || resp.Header.Get("X-Eddy-Dims") != "x" {
			t.Fatalf("slice %s: shape %v dims %q", c.slice, a.shape, resp.Header.Get("X-Eddy-Dims"))
		}
		for k, j := range c.cols {
			if a.f64[k] != u[c.row*nx+j] {
				t.Fatalf("slice %s: element %d is %g, want u[%d,%d] = %g", c.slice, k, a.f64[k], c.row, j, u[c.row*nx+j])
			}
		}
	}

	// JSON: flat data in row-major order with its shape.
	resp, body = e.do(t, "GET", "/v1/jobs/"+id+"/datasets/solution?slice=1:3,4:6&format=json", "", nil)
	var doc struct {
		Shape []int     `json:"shape"`
		Dims  string    `json:"dims"`
		Dtype string    `json:"dtype"`
		Data  []float64 `json:"data"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("json: %d %s", resp.StatusCode, body)
	}
	if len(doc.Shape) != 2 || doc.Shape[0] != 2 || doc.Shape[1] != 2 || doc.Dims != "y,x" || doc.Dtype != "float64" ||
		doc.Data[0] != u[1*nx+4] || doc.Data[1] != u[1*nx+5] || doc.Data[2] != u[2*nx+4] || doc.Data[3] != u[2*nx+5] {
		t.Errorf("json %+v", doc)
	}

	// A 1-D history with its units.
	resp, body = e.do(t, "GET", "/v1/jobs/"+id+"/datasets/residual_history?format=json", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Eddy-Units") != "relative" || resp.Header.Get("X-Eddy-Dims") != "iteration" {
		t.Errorf("history: %d units %q dims %q", resp.StatusCode, resp.Header.Get("X-Eddy-Units"), resp.Header.Get("X-Eddy-Dims"))
	}

	for _, c := range []struct {
		query string
		code  int
		path  string
	}{
		{"datasets/nope", 404, ""},
		{"datasets/solution?slice=a,:", 400, "/query/slice"},
		{"datasets/solution?slice=1:2:0", 400, "/query/slice"},
		{"datasets/solution?slice=1,2,3", 422, "/query/slice"},
		{fmt.Sprintf("datasets/solution?slice=%d", ny), 422, "/query/slice"},
		{fmt.Sprintf("datasets/solution?slice=0:%d", ny+1), 422, "/query/slice"},
		{"datasets/solution?format=xml", 400, "/query/format"},
	} {
		resp, body = e.do(t, "GET", "/v1/jobs/"+id+"/"+c.query, "", nil)
		var p problemDoc
		json.Unmarshal(body, &p)
		if resp.StatusCode != c.code || resp.Header.Get("Content-Type") != "application/problem+json" ||
			(c.path != "" && (len(p.Errors) != 1 || p.Errors[0].Path != c.path)) || p.Detail == "" {
			t.Errorf("%s: %d %s, want %d at %q", c.query, resp.StatusCode, body, c.code, c.path)
		}
	}
	if resp, _ := e.do(t, "GET", "/v1/jobs/no-such-job/datasets/solution", "", nil); resp.StatusCode != 404 {
		t.Errorf("unknown job: %d", resp.StatusCode)
	}

	// Names with slashes, escaped or not; and the listing.
	gp := e.succeeded(t, `{"kind":"gp.solve","params":{"pde":"poisson1d","exact":"sin(6*x)","n":24,"iterations":10,"seed":5}}`)
	w, _ := e.readResult(t, gp, "spectrum/x/weights")
	for _, path := range []string{"spectrum/x/weights", "spectrum%2Fx%2Fweights"} {
		resp, body = e.do(t, "GET", "/v1/jobs/"+gp+"/datasets/"+path, "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if a := parseNpy(t, body); len(a.f64) != len(w) || a.f64[0] != w[0] || resp.Header.Get("X-Eddy-Dims") != "component" {
			t.Errorf("%s: %v, want %v", path, a.f64, w)
		}
	}
	resp, body = e.do(t, "GET", "/v1/jobs/"+gp+"/datasets", "", nil)
	var list struct {
		Datasets []struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
			Dims  string `json:"dims"`
			URL   string `json:"url"`
		} `json:"datasets"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &list) != nil {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	found := false
	for _, d := range list.Datasets {
		if d.Name == "spectrum/x/weights" && d.Dims == "component" && d.URL == "/v1/jobs/"+gp+"/datasets/spectrum/x/weights" && d.Shape[0] == len(w) {
			found = true
		}
	}
	if !found {
		t.Errorf("listing %s lacks spectrum/x/weights", body)
	}

	// JSON is refused above its bound; .npy of the same selection is served.
	big := e.succeeded(t, `{"kind":"poisson.solve","params":{"dim":3,"n":66,"tol":0.5,"max_iter":1}}`)
	resp, body = e.do(t, "GET", "/v1/jobs/"+big+"/datasets/solution?format=json", "", nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("large JSON: %d %.200s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "GET", "/v1/jobs/"+big+"/datasets/solution?slice=7&format=json", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"dims": "y,x"`)) {
		t.Errorf("one plane as JSON: %d %.200s", resp.StatusCode, body)
	}
}

func stepped(start, stop, step int) []int {
	var out []int
	for i := start; i < stop; i += step {
		out = append(out, i)
	}
	return out
}
