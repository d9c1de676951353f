package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"eddy/codec/walloc"
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
