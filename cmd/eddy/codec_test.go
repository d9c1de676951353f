package main

import (
	"bytes"
	"context"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"eddy/codec/walloc"
	"eddy/hdf5io"
)

// TestEncodeDecode codes a PNG with a linear model file through the
// command line, without a server, and checks the reconstruction's size and
// quality and that the rate comes from the real file.
func TestEncodeDecode(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "codec", "walloc", "images", "chelsea.png")
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	m, err := walloc.New(walloc.ImageConfig(12), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.InitPCA([]walloc.Sample{walloc.SampleFromImage(img, 8)}); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.h5")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	wlc, out := filepath.Join(dir, "c.wlc"), filepath.Join(dir, "c.png")
	run := func(args ...string) {
		t.Helper()
		var o, e bytes.Buffer
		c := &cli{stdout: &o, stderr: &e, getenv: func(string) string { return "" }}
		if code := c.run(context.Background(), args); code != 0 {
			t.Fatalf("eddy %v: exit %d\n%s", args, code, e.String())
		}
	}
	run("encode", "-m", model, src, wlc)
	run("decode", "-m", model, wlc, out)
	f, err = os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Bounds().Size() != img.Bounds().Size() {
		t.Fatalf("decoded %v, want %v", rec.Bounds(), img.Bounds())
	}
	// PCA of the image itself at 16×: above the 31.9 dB floor of the
	// held-out case (spec §6 B).
	if p := walloc.PSNR(img, rec); p < 31.9 {
		t.Fatalf("PSNR %.2f dB", p)
	}
	st, _ := os.Stat(wlc)
	t.Logf("%d bytes, %.3f bpp, PSNR %.2f dB", st.Size(), 8*float64(st.Size())/float64(img.Bounds().Dx()*img.Bounds().Dy()), walloc.PSNR(img, rec))
}

// Decoding with an HDF5 file that is not a model (a job's result) names the
// file and the missing model group instead of the reader's "not found".
func TestDecodeWithANonModelFile(t *testing.T) {
	dir := t.TempDir()
	notModel := filepath.Join(dir, "result.h5")
	w, err := hdf5io.Create(notModel)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFloat64("u", []float64{1, 2, 3, 4}, []int{2, 2}, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wlc := filepath.Join(dir, "c.wlc")
	os.WriteFile(wlc, []byte("\x89WLC"), 0o644)
	var o, e bytes.Buffer
	c := &cli{stdout: &o, stderr: &e, getenv: func(string) string { return "" }}
	if code := c.run(context.Background(), []string{"decode", "-m", notModel, wlc, filepath.Join(dir, "c.png")}); code == 0 {
		t.Fatal("decode with a non-model file succeeded")
	}
	if want := notModel + " is not a walloc.train model (no /model group)"; !strings.Contains(e.String(), want) {
		t.Errorf("stderr %q, want it to say %q", e.String(), want)
	}
}
