package checkpoint

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"eddy/nn"
)

// TestRoundTrip saves a trained-looking FNO, rebuilds it from the stored
// architecture with a different seed, loads the parameters and requires
// bit-identical outputs: float64 values survive HDF5 exactly.
func TestRoundTrip(t *testing.T) {
	cfg := nn.FNOConfig{In: 3, Out: 1, Width: 6, Modes: []int{3, 4}, Layers: 2, ProjWidth: 8, Activation: nn.ActGELU}
	src, err := nn.NewFNO(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	arch, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.h5")
	if err := Save(path, arch, src.Params()); err != nil {
		t.Fatal(err)
	}
	gotArch, err := Architecture(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := nn.ParseFNOConfig(gotArch)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := nn.NewFNO(cfg2, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := Load(path, dst.Params()); err != nil {
		t.Fatal(err)
	}
	x := nn.NewTensor(2, 3, 9, 10)
	x.FillNormal(rand.New(rand.NewPCG(3, 3)), 1)
	want := src.Forward(x).Clone()
	got := dst.Forward(x)
	for i := range want.Data {
		if got.Data[i] != want.Data[i] {
			t.Fatalf("output %d: %v after load, %v before save", i, got.Data[i], want.Data[i])
		}
	}
}

// TestMismatch loads a checkpoint into models of other architectures.
func TestMismatch(t *testing.T) {
	cfg := nn.FNOConfig{In: 1, Out: 1, Width: 4, Modes: []int{3}, Layers: 1, ProjWidth: 4, Activation: nn.ActReLU}
	m, _ := nn.NewFNO(cfg, rand.New(rand.NewPCG(1, 1)))
	path := filepath.Join(t.TempDir(), "model.h5")
	if err := Save(path, []byte(`{}`), m.Params()); err != nil {
		t.Fatal(err)
	}
	wider := cfg
	wider.Width = 5
	w, _ := nn.NewFNO(wider, rand.New(rand.NewPCG(1, 1)))
	if err := Load(path, w.Params()); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("loading into a wider model: %v, want a shape error", err)
	}
	deeper := cfg
	deeper.Layers = 2
	d, _ := nn.NewFNO(deeper, rand.New(rand.NewPCG(1, 1)))
	if err := Load(path, d.Params()); err == nil || !strings.Contains(err.Error(), "not in the file") {
		t.Errorf("loading into a deeper model: %v, want a missing-parameter error", err)
	}
	if err := Load(path, m.Params()[1:]); err == nil || !strings.Contains(err.Error(), "does not") {
		t.Errorf("loading into a subset: %v, want an extra-parameter error", err)
	}
	if err := Load(filepath.Join(t.TempDir(), "missing.h5"), m.Params()); err == nil {
		t.Error("loading a missing file succeeded")
	}
}
