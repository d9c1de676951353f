package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"eddy/hdf5io"
)

// enviTar returns an ENVI cube as an uncompressed tar of scene.hdr and
// scene.bsq: lines×samples pixels of bands int16 little-endian samples, band
// sequential. Each pixel mixes two spectra, a rising and a falling one, in
// proportions that vary across the image, so that two endmembers fit it.
// dataBytes shortens (< 0) or pads (> 0) the data file.
func enviTar(t *testing.T, bands, lines, samples, dataBytes int) []byte {
	t.Helper()
	var wl []string
	for l := range bands {
		wl = append(wl, fmt.Sprint(450+25*l))
	}
	hdr := fmt.Sprintf("ENVI\nsamples = %d\nlines = %d\nbands = %d\nheader offset = 0\ndata type = 2\ninterleave = bsq\n"+
		"byte order = 0\nwavelength units = Nanometers\nwavelength = {%s}\n", samples, lines, bands, strings.Join(wl, ", "))
	var data []byte
	for l := range bands {
		for r := range lines {
			for c := range samples {
				a := float64(r*samples+c) / float64(lines*samples-1)
				v := a*float64(100+50*l) + (1-a)*float64(100+50*(bands-1-l))
				data = binary.LittleEndian.AppendUint16(data, uint16(int16(v)))
			}
		}
	}
	if dataBytes < 0 {
		data = data[:len(data)+dataBytes]
	} else {
		data = append(data, make([]byte, dataBytes)...)
	}
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, f := range []struct {
		name string
		body []byte
	}{{"scene.hdr", []byte(hdr)}, {"scene.bsq", data}} {
		if err := w.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		w.Write(f.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// An ENVI cube posted to a real API is recognised and listed (cube as
// lines×samples×bands, wavelengths), unmixes with the image shape of its
// header, and its wavelengths reach the result; a cube whose data file does
// not match its header is refused at upload with a message saying so.
func TestUnmixENVIUpload(t *testing.T) {
	addr := freeAddr(t)
	startProc(t, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + t.TempDir(), "DATABASE_URL=", "EDDY_WORKERS=1"})
	c := client{"http://" + addr}
	c.waitReady(t)

	const bands, lines, samples = 6, 5, 4
	code, _, body := c.upload(t, enviTar(t, bands, lines, samples, 0))
	if code != 201 {
		t.Fatalf("upload: %d %s", code, body)
	}
	var up struct {
		ID       string `json:"id"`
		Format   string `json:"format"`
		Datasets []struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
			Dtype string `json:"dtype"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal(body, &up); err != nil {
		t.Fatal(err)
	}
	if up.Format != "envi" || len(up.Datasets) != 2 || up.Datasets[0].Name != "cube" ||
		!slices.Equal(up.Datasets[0].Shape, []int{lines, samples, bands}) || up.Datasets[0].Dtype != "int16" {
		t.Fatalf("upload %s", body)
	}

	j := c.submit(t, fmt.Sprintf(`{"kind":"unmix","params":{"cube":%q,"endmembers":2,"method":"rrlbs","iterations":20}}`, up.ID))
	j = c.waitFor(t, j.ID, 2*time.Minute, final)
	if j.State != "succeeded" {
		t.Fatalf("unmix: %+v", j)
	}
	code, res := c.req(t, "GET", j.Result.URL, "")
	if code != 200 {
		t.Fatalf("result: %d", code)
	}
	p := filepath.Join(t.TempDir(), "unmix.h5")
	os.WriteFile(p, res, 0o644)
	f, err := hdf5io.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	wl, wshape, werr := f.ReadFloat64("wavelengths")
	_, ashape, aerr := f.ReadFloat64("abundances")
	f.Close()
	if werr != nil || aerr != nil || !slices.Equal(wshape, []int{bands}) || wl[0] != 450 || wl[bands-1] != 450+25*(bands-1) ||
		!slices.Equal(ashape, []int{2, lines, samples}) {
		t.Errorf("wavelengths %v %v (%v), abundances %v (%v)", wshape, wl, werr, ashape, aerr)
	}
	if it, ok := j.Result.Metrics["iterations"].(float64); !ok || it != 20 || j.Result.Metrics["stopped_by"] != "max_iterations" {
		t.Errorf("metrics %v", j.Result.Metrics)
	}

	for _, extra := range []int{-2, 2} {
		code, _, body := c.upload(t, enviTar(t, bands, lines, samples, extra))
		if code != 422 || !strings.Contains(string(body), "needs 240") {
			t.Errorf("data file %+d bytes: %d %s", extra, code, body)
		}
	}
}
