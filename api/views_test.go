package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"eddy/hyperspectral"
)

// An unmixing with ground truth keeps the truth aligned with its estimates
// (endmembers_truth column j and abundances_truth map j are the true
// endmember matched to estimate j), so that the endmember spectra are drawn
// with their true spectra dashed over them and each abundance map next to
// the true one, on one colour scale.
func TestUnmixTruthViews(t *testing.T) {
	e := start(t, "sqlite")
	rng := rand.New(rand.NewPCG(5, 6))
	const bands, k, rows, cols = 12, 3, 4, 5
	m := mat.NewDense(bands, k, nil)
	for i := range bands {
		for j := range k {
			m.Set(i, j, 0.1+rng.Float64())
		}
	}
	y, a := hyperspectral.Synthetic(m, rows, cols, 0.3, 40, 9)
	cube, _ := e.uploadArrays(t, map[string]array{"Y": {mat.DenseCopyOf(y).RawMatrix().Data, []int{bands, rows * cols}}})
	truth, _ := e.uploadArrays(t, map[string]array{
		"endmembers": {mat.DenseCopyOf(m).RawMatrix().Data, []int{bands, k}},
		"abundances": {mat.DenseCopyOf(a).RawMatrix().Data, []int{k, rows * cols}}})
	id := e.succeeded(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"variable":"Y","truth":%q,"endmembers":%d,"rows":%d,"cols":%d,"seed":11,"iterations":40}}`,
		cube, truth, k, rows, cols))

	j := e.get(t, id)
	var match []int
	for _, v := range j.Result.Metrics["match"].([]any) {
		match = append(match, int(v.(float64)))
	}
	if len(match) != k {
		t.Fatalf("match %v", j.Result.Metrics["match"])
	}
	read := func(name string) []float64 {
		resp, body := e.do(t, "GET", "/v1/jobs/"+id+"/datasets/"+name+"?format=json", "", nil)
		var d struct {
			Data []float64 `json:"data"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &d) != nil {
			t.Fatalf("%s: %d %.300s", name, resp.StatusCode, body)
		}
		return d.Data
	}
	em, ab := read("endmembers_truth"), read("abundances_truth")
	for tr, est := range match {
		for b := range bands {
			if got := em[b*k+est]; got != m.At(b, tr) {
				t.Fatalf("endmembers_truth[%d, %d] = %v, want true endmember %d's %v", b, est, got, tr, m.At(b, tr))
			}
		}
		// The cube's pixels are column-major; the maps row-major.
		for r := range rows {
			for c := range cols {
				if got, want := ab[(est*rows+r)*cols+c], a.At(tr, r+c*rows); got != want {
					t.Fatalf("abundances_truth[%d, %d, %d] = %v, want %v", est, r, c, got, want)
				}
			}
		}
	}

	plots := e.plots(t, id)
	find := func(name string) plotDoc {
		i := slices.IndexFunc(plots, func(p plotDoc) bool { return p.Name == name })
		if i < 0 {
			t.Fatalf("no plot %s in %+v", name, plots)
		}
		return plots[i]
	}
	if p := find("endmembers"); p.Kind != "lines" || p.Truth != "endmembers_truth" {
		t.Errorf("endmembers plot %+v", p)
	}
	resp, body := e.do(t, "GET", "/v1/jobs/"+id+"/plots/endmembers?format=svg", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("endmembers_truth")) {
		t.Errorf("endmember spectra: %d, truth in the legend: %v", resp.StatusCode, bytes.Contains(body, []byte("endmembers_truth")))
	}
	if p := find("abundances"); p.Kind != "heatmap" || p.Truth != "abundances_truth" {
		t.Errorf("abundances plot %+v", p)
	}
	resp, body = e.do(t, "GET", "/v1/jobs/"+id+"/plots/abundances?endmember=2", "", nil)
	img, err := png.Decode(bytes.NewReader(body))
	if resp.StatusCode != 200 || err != nil || img.Bounds().Dx() != 1066 {
		t.Fatalf("abundance map next to the truth: %d %v", resp.StatusCode, err)
	}
	resp, body = e.do(t, "GET", "/v1/jobs/"+id+"/plots/abundances?endmember=2&format=svg", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("abundances_truth, endmember=2")) {
		t.Errorf("abundance map SVG: %d, truth panel titled: %v", resp.StatusCode, bytes.Contains(body, []byte("abundances_truth, endmember=2")))
	}
}
