package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/codec/walloc"
	"eddy/codec/wav"
	"eddy/fileformat"
	"eddy/hdf5io"
	"eddy/storage"
)

// TestWallocChain trains a codec on the built-in images for a few steps,
// codes a committed test image with walloc.encode, uploads its bitstream
// and decodes it with walloc.decode: the decoded image has the input's
// size, the bitstream is a valid .wlc file of the model, and the rate and
// quality are those of the linear codec (PSNR above 31 dB on chelsea at
// 16×, spec §6 B).
func TestWallocChain(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	submit := func(kind, params string) *storage.Run {
		t.Helper()
		r, _, err := svc.Submit(ctx, SubmitRequest{Kind: kind, Params: json.RawMessage(params)})
		if err != nil {
			t.Fatalf("%s %s: %v", kind, params, err)
		}
		return r
	}
	wait := func(r *storage.Run) *hdf5io.File {
		t.Helper()
		r = waitState(t, svc, r.ID, 3*time.Minute, storage.Succeeded, storage.Failed)
		if r.State != storage.Succeeded {
			t.Fatalf("%s failed: %s", r.Kind, r.Error)
		}
		f, err := hdf5io.Open(filepath.Join(dataDir, r.ResultPath))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	addUploadAs(t, db, dataDir, "chelsea", filepath.Join("..", "codec", "walloc", "images", "chelsea.png"), "png", nil)
	train := submit("walloc.train", `{"builtin":true,"steps":4,"seconds":0,"crop":32,"batch":2,"val_every":2,"decoder_channels":8,"blocks":1}`)
	enc := submit("walloc.encode", fmt.Sprintf(`{"model":%q,"input":"chelsea"}`, train.ID))
	mf := wait(train)
	m, err := walloc.Read(mf, walloc.ModelGroup)
	if err != nil {
		t.Fatal(err)
	}
	// A decoder that never beat its PCA start says so; one that did, does not.
	trainRun, _ := svc.Get(ctx, train.ID)
	warned := strings.Contains(strings.Join(trainRun.Result.Warnings, "\n"), "did not improve on its PCA start")
	if best := trainRun.Result.Metrics["best_step"]; (best == float64(0)) != warned {
		t.Errorf("best_step %v, warnings %q", best, trainRun.Result.Warnings)
	}
	ef := wait(enc)
	bits, _, err := ef.ReadUint8("bitstream")
	if err != nil {
		t.Fatal(err)
	}
	encRun, _ := svc.Get(ctx, enc.ID)
	met := encRun.Result.Metrics
	if met["bytes"] != float64(len(bits)) || met["psnr"].(float64) < 31 {
		t.Fatalf("metrics %v for %d bytes", met, len(bits))
	}
	wlc := filepath.Join(t.TempDir(), "c.wlc")
	os.WriteFile(wlc, bits, 0o644)
	addUploadAs(t, db, dataDir, "bits", wlc, "wlc", nil)
	dec := submit("walloc.decode", fmt.Sprintf(`{"model":%q,"bitstream":"bits"}`, train.ID))
	df := wait(dec)
	img, shape, err := df.ReadUint8("image")
	if err != nil || len(shape) != 3 || shape[0] != 300 || shape[1] != 451 || shape[2] != 3 || len(img) != 300*451*3 {
		t.Fatalf("image %v: %v", shape, err)
	}
	if id, _ := mf.AttrString(walloc.ModelGroup, "model_id"); id != m.ID().String() {
		t.Fatalf("model_id attribute %q, model %s", id, m.ID())
	}
}

// TestWallocSubmitChecksFormats: uploads of the wrong kind are refused at
// submit, at the param that names them — a WAV file to an image model, an
// HDF5 file to code, a PNG as a bitstream, a bitstream of audio, of another
// number of latent channels or of another model — while the right ones are
// accepted.
func TestWallocSubmitChecksFormats(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	svc, db := newTestService(t, "sqlite://"+t.TempDir()+"/eddy.db", dataDir)
	defer svc.Stop(ctx)
	tmp := t.TempDir()
	// upload registers a file with the format and datasets that POST
	// /v1/uploads records for it.
	upload := func(id string, b []byte) {
		t.Helper()
		p := filepath.Join(tmp, id)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		format, infos, err := fileformat.Inspect(ctx, p, fileformat.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var ds []storage.Dataset
		for _, d := range infos {
			ds = append(ds, storage.Dataset{Name: d.Name, Shape: d.Shape, Dtype: d.Dtype})
		}
		addUploadAs(t, db, dataDir, id, p, string(format), ds)
	}
	png, err := os.ReadFile(filepath.Join("..", "codec", "walloc", "images", "chelsea.png"))
	if err != nil {
		t.Fatal(err)
	}
	upload("png", png)
	var wb bytes.Buffer
	wav.Encode(&wb, &wav.Audio{SampleRate: 44100, Data: [][]float64{make([]float64, 1024), make([]float64, 1024)}})
	upload("wav", wb.Bytes())
	hw, err := hdf5io.Create(filepath.Join(tmp, "x.h5"))
	if err != nil {
		t.Fatal(err)
	}
	hw.WriteFloat64("x", make([]float64, 4), []int{4}, "", "")
	if err := hw.Close(); err != nil {
		t.Fatal(err)
	}
	h5, _ := os.ReadFile(filepath.Join(tmp, "x.h5"))
	upload("h5", h5)
	latents := func(h walloc.Header) []byte {
		t.Helper()
		var b bytes.Buffer
		if err := walloc.WriteLatents(&b, h, make([]int8, shapeProduct(h.LatentShape()))); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	upload("audio-wlc", latents(walloc.Header{Signal: walloc.Audio, Coding: walloc.CodingRange, Levels: 8, LatentChannels: 12, Channels: 2, Samples: 512}))
	upload("k48-wlc", latents(walloc.Header{Signal: walloc.Image, Coding: walloc.CodingRange, Levels: 3, LatentChannels: 48, Channels: 3, Height: 16, Width: 24}))

	submit := func(kind, params string) error {
		t.Helper()
		_, _, err := svc.Submit(ctx, SubmitRequest{Kind: kind, Params: json.RawMessage(params)})
		return err
	}
	refused := func(kind, params, path string) {
		t.Helper()
		err := submit(kind, params)
		verr, ok := err.(ValidationError)
		if !ok || len(verr) != 1 || verr[0].Path != path {
			t.Errorf("%s %s: %v, want one error at %s", kind, params, err, path)
			return
		}
		t.Logf("%s: %s", path, verr[0].Message)
	}
	train, _, err := svc.Submit(ctx, SubmitRequest{Kind: "walloc.train",
		Params: json.RawMessage(`{"builtin":true,"steps":1,"seconds":0,"crop":32,"batch":1,"val_every":1,"decoder_channels":4,"blocks":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Before the model exists only the file's format is known.
	refused("walloc.encode", fmt.Sprintf(`{"model":%q,"input":"h5"}`, train.ID), "/params/input")
	refused("walloc.decode", fmt.Sprintf(`{"model":%q,"bitstream":"png"}`, train.ID), "/params/bitstream")
	if r := waitState(t, svc, train.ID, 3*time.Minute, storage.Succeeded, storage.Failed); r.State != storage.Succeeded {
		t.Fatalf("training failed: %s", r.Error)
	}
	refused("walloc.encode", fmt.Sprintf(`{"model":%q,"input":"wav"}`, train.ID), "/params/input")
	refused("walloc.encode", fmt.Sprintf(`{"model":%q,"input":"h5"}`, train.ID), "/params/input")
	refused("walloc.decode", fmt.Sprintf(`{"model":%q,"bitstream":"png"}`, train.ID), "/params/bitstream")
	refused("walloc.decode", fmt.Sprintf(`{"model":%q,"bitstream":"audio-wlc"}`, train.ID), "/params/bitstream")
	refused("walloc.decode", fmt.Sprintf(`{"model":%q,"bitstream":"k48-wlc"}`, train.ID), "/params/bitstream")
	// A bitstream of the model's signal and latent channels that another
	// model made, and one that the model made.
	r, _ := svc.Get(ctx, train.ID)
	var id walloc.ModelID
	if err := id.UnmarshalText([]byte(r.Result.Metrics["model_id"].(string))); err != nil {
		t.Fatal(err)
	}
	h := walloc.Header{Signal: walloc.Image, Coding: walloc.CodingRange, Model: id, Levels: 3, LatentChannels: 12, Channels: 3, Height: 16, Width: 24}
	upload("own-wlc", latents(h))
	h.Model[0] ^= 1
	upload("other-wlc", latents(h))
	refused("walloc.decode", fmt.Sprintf(`{"model":%q,"bitstream":"other-wlc"}`, train.ID), "/params/bitstream")
	if err := submit("walloc.decode", fmt.Sprintf(`{"model":%q,"bitstream":"own-wlc"}`, train.ID)); err != nil {
		t.Fatalf("a bitstream of the model: %v", err)
	}
	if err := submit("walloc.encode", fmt.Sprintf(`{"model":%q,"input":"png"}`, train.ID)); err != nil {
		t.Fatalf("a PNG to an image model: %v", err)
	}
}
