package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	keepPlot(t, "views_unmix_abundances_vs_truth.png", body)
	_, spectra := e.do(t, "GET", "/v1/jobs/"+id+"/plots/endmembers", "", nil)
	keepPlot(t, "views_unmix_endmembers_vs_truth.png", spectra)
	resp, body = e.do(t, "GET", "/v1/jobs/"+id+"/plots/abundances?endmember=2&format=svg", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("abundances_truth, endmember=2")) {
		t.Errorf("abundance map SVG: %d, truth panel titled: %v", resp.StatusCode, bytes.Contains(body, []byte("abundances_truth, endmember=2")))
	}
}

// walloc.encode of an image keeps its original and decoded pixels; the
// decoded image is drawn next to the original, titled with the PSNR and
// rate of the job's metrics, and two encodings compare side by side.
func TestCodecViews(t *testing.T) {
	e := start(t, "sqlite")
	const w, h = 64, 48
	src := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			src.Set(x, y, color.NRGBA{uint8(4 * x), uint8(5 * y), uint8((x * y) % 256), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, src); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, "POST", "/v1/uploads", "image/png", &b)
	var u struct{ ID string }
	if resp.StatusCode != 201 || json.Unmarshal(body, &u) != nil {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	train := e.succeeded(t, `{"kind":"walloc.train","params":{"builtin":true,"steps":2,"seconds":0,"crop":32,"batch":2,"val_every":2,"decoder_channels":8,"blocks":1}}`)
	enc := e.succeeded(t, fmt.Sprintf(`{"kind":"walloc.encode","params":{"model":%q,"input":%q}}`, train, u.ID))
	enc2 := e.succeeded(t, fmt.Sprintf(`{"kind":"walloc.encode","params":{"model":%q,"input":%q,"coding":"png"}}`, train, u.ID))

	// The original is the upload's pixels, exactly.
	resp, body = e.do(t, "GET", "/v1/jobs/"+enc+"/datasets/original?format=json", "", nil)
	var d struct {
		Shape []int     `json:"shape"`
		Dims  string    `json:"dims"`
		Data  []float64 `json:"data"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &d) != nil || !slices.Equal(d.Shape, []int{h, w, 3}) || d.Dims != "y,x,rgb" {
		t.Fatalf("original: %d %.300s", resp.StatusCode, body)
	}
	for _, k := range []int{0, 7 * w, (h-1)*w + w - 1} {
		c := src.NRGBAAt(k%w, k/w)
		if d.Data[3*k] != float64(c.R) || d.Data[3*k+1] != float64(c.G) || d.Data[3*k+2] != float64(c.B) {
			t.Fatalf("original pixel %d: %v, want %v", k, d.Data[3*k:3*k+3], c)
		}
	}

	plots := e.plots(t, enc)
	i := slices.IndexFunc(plots, func(p plotDoc) bool { return p.Name == "decoded" })
	if i < 0 || plots[i].Kind != "image" || plots[i].Truth != "original" {
		t.Fatalf("decoded plot: %+v", plots)
	}
	j := e.get(t, enc)
	quality := fmt.Sprintf("PSNR %.2f dB, %.3f bpp", j.Result.Metrics["psnr"], j.Result.Metrics["bpp"])
	resp, body = e.do(t, "GET", plots[i].URL+"?format=svg", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(quality)) || !bytes.Contains(body, []byte(">original<")) {
		t.Errorf("decoded next to the original, titled %q: %d %v", quality, resp.StatusCode, bytes.Contains(body, []byte(quality)))
	}
	resp, body = e.do(t, "GET", plots[i].URL, "", nil)
	img, err := png.Decode(bytes.NewReader(body))
	if resp.StatusCode != 200 || err != nil || img.Bounds().Dx() != 960 {
		t.Fatalf("decoded: %d %v %v", resp.StatusCode, err, img)
	}
	keepPlot(t, "views_walloc_decoded_vs_original.png", body)

	resp, body = e.do(t, "GET", "/v1/compare/plots/decoded?jobs="+enc+","+enc2+"&format=svg", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(enc[len(enc)-8:]+": decoded: PSNR")) || !bytes.Contains(body, []byte(enc2[len(enc2)-8:]+": decoded: PSNR")) {
		t.Errorf("compared decodings: %d %.300s", resp.StatusCode, body)
	}
}

// keepPlot writes a picture to EDDY_PLOT_DIR, when set, to be looked at.
func keepPlot(t *testing.T, name string, b []byte) {
	if dir := os.Getenv("EDDY_PLOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Error(err)
		}
	}
}
