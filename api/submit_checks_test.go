package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// array is a row-major float64 array to upload.
type array struct {
	data  []float64
	shape []int
}

// h5Upload uploads an HDF5 file with the given datasets (name → shape), each
// filled with a ramp, and returns the upload's id.
func (e *env) h5Upload(t *testing.T, datasets map[string][]int) string {
	t.Helper()
	arrays := map[string]array{}
	for name, shape := range datasets {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float64, n)
		for i := range data {
			data[i] = 0.1 + float64(i%7)/10
		}
		arrays[name] = array{data, shape}
	}
	id, _ := e.uploadArrays(t, arrays)
	return id
}

// uploadArrays writes the arrays into an HDF5 file, uploads it and returns the
// upload's id and SHA-256.
func (e *env) uploadArrays(t *testing.T, arrays map[string]array) (id, sha256 string) {
	t.Helper()
	resp, body := e.do(t, "POST", "/v1/uploads", "application/x-hdf5", bytes.NewReader(writeH5Arrays(t, arrays)))
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var u struct{ ID, SHA256 string }
	if err := json.Unmarshal(body, &u); err != nil || u.ID == "" || len(u.SHA256) != 64 {
		t.Fatalf("upload answer %s (%v)", body, err)
	}
	return u.ID, u.SHA256
}

// Submissions that used to be accepted with 202 and then failed (or succeeded
// wrongly) are refused at submit: a 422 at the param at fault, in JSON names.
func TestBadSubmissionsAreRefusedAtTheirField(t *testing.T) {
	e := start(t, "sqlite")
	cube := e.h5Upload(t, map[string][]int{"Y": {10, 16}})
	truth12 := e.h5Upload(t, map[string][]int{"endmembers": {12, 3}})
	truthK4 := e.h5Upload(t, map[string][]int{"endmembers": {10, 4}})
	noEndmembers := e.h5Upload(t, map[string][]int{"spectra": {10, 3}})
	init12 := e.h5Upload(t, map[string][]int{"M0": {12, 3}})

	unmix := func(extra string) string {
		return fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"variable":"Y","endmembers":3%s}}`, cube, extra)
	}
	cases := []struct {
		name, body, path, want string
	}{
		{"CFL from the initial field", `{"kind":"navier_stokes.simulate","params":{"dt":1,"snapshot_dt":1,"t_end":10}}`, "/params/dt", "CFL"},
		{"too many steps", `{"kind":"navier_stokes.simulate","params":{"dt":1e-12}}`, "/params/dt", "steps"},
		{"grid beyond its range", `{"kind":"navier_stokes.simulate","params":{"n":8192}}`, "/params/n", ""},
		{"null is not the default", `{"kind":"navier_stokes.simulate","params":{"n":null}}`, "/params/n", "null"},
		{"NaN exact solution", `{"kind":"gp.solve","params":{"pde":"poisson1d","exact":"1/(x-x)"}}`, "/params/exact", ""},
		{"NaN source", `{"kind":"gp.solve","params":{"pde":"poisson1d","source":"sqrt(-1-x)","boundary":"0"}}`, "/params/source", "NaN"},
		{"truth with other bands", unmix(fmt.Sprintf(`,"truth":%q`, truth12)), "/params/truth", "12 bands"},
		{"endmembers other than the truth's K", unmix(fmt.Sprintf(`,"truth":%q`, truthK4)), "/params/endmembers", "K = 4"},
		{"truth without endmembers", unmix(fmt.Sprintf(`,"truth":%q`, noEndmembers)), "/params/truth", "spectra"},
		{"outlier band beyond the cube", unmix(`,"outlier_bands":[2,50]`), "/params/outlier_bands/1", "bands 0 to 9"},
		{"initial endmembers without a matrix", unmix(fmt.Sprintf(`,"init":"upload","init_endmembers":%q`, noEndmembers)), "/params/init_endmembers", "holds no initial endmembers (M0 (bands×K)"},
		{"initial endmembers with other bands", unmix(fmt.Sprintf(`,"init":"upload","init_endmembers":%q`, init12)), "/params/init_endmembers", "12 bands"},
		{"cube missing", `{"kind":"unmix","params":{"endmembers":3}}`, "/params/cube", "required"},
	}
	for _, tc := range cases {
		code, _, p := e.submit(t, tc.body)
		if code != 422 {
			t.Errorf("%s: %d, want 422", tc.name, code)
			continue
		}
		found := false
		for _, fe := range p.Errors {
			if fe.Path == tc.path && strings.Contains(fe.Message, tc.want) {
				found = true
			}
			if strings.Contains(fe.Path, "Config") || strings.Contains(fe.Message, "<nil>") {
				t.Errorf("%s: error %+v names a Go field or prints <nil>", tc.name, fe)
			}
		}
		if !found {
			t.Errorf("%s: errors %+v, want one at %s saying %q", tc.name, p.Errors, tc.path, tc.want)
		}
	}
}
