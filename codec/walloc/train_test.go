package walloc

import (
	"bytes"
	stdcontext "context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"eddy/hdf5io"
	"eddy/nn"
)

// TestGradients checks ∂L/∂θ of encoder, bottleneck (with fixed noise) and
// decoder against central differences of L = mean((x̂ − t)²) on a small
// model, for every parameter tensor. The loss is smooth where no latent is
// clipped (the inputs keep |z| far below the clip at about 3.7 s), so with
// a step of 1e-5 the differences agree to about 1e-7 relative; the bound
// 1e-4 is loose enough for rounding and tight enough to catch a wrong term.
func TestGradients(t *testing.T) {
	for _, sig := range []Signal{Image, Audio} {
		c := Config{Signal: sig, Levels: 1, LatentChannels: 3, DecoderChannels: 8, Blocks: 1, Gain: 20, SampleRate: 8000}
		m, err := New(c, 3)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		// Make the CNN's last layer non-zero so that its gradient paths matter.
		for _, p := range m.Params() {
			for i := range p.Value.Data {
				p.Value.Data[i] += 0.3 * (r.Float64() - 0.5)
			}
		}
		shape := []int{2, c.PacketChannels(), 8, 8}
		if sig == Audio {
			shape = []int{2, c.PacketChannels(), 16}
		}
		x, target := nn.NewTensor(shape...), nn.NewTensor(shape...)
		x.FillUniform(r, -1, 1)
		target.FillUniform(r, -1, 1)
		src := rand.NewPCG(0, 0)
		comp := &Compander{Noise: rand.New(src)}
		loss := func(grad *nn.Tensor) float64 {
			src.Seed(7, 7)
			y := m.forward(x, comp)
			return mse(y, target, grad)
		}
		grad := nn.NewTensor(shape...)
		nn.ZeroGrad(m.Params())
		loss(grad)
		m.backward(grad, comp)
		const h = 1e-5
		for _, p := range m.Params() {
			for _, i := range []int{0, len(p.Value.Data) / 2, len(p.Value.Data) - 1} {
				v := p.Value.Data[i]
				p.Value.Data[i] = v + h
				lp := loss(nil)
				p.Value.Data[i] = v - h
				lm := loss(nil)
				p.Value.Data[i] = v
				fd := (lp - lm) / (2 * h)
				an := p.Grad.Data[i]
				if math.Abs(fd-an) > 1e-4*max(math.Abs(fd), 1e-3) {
					t.Errorf("%s %s[%d]: analytic %.8g, finite difference %.8g", sig, p.Name, i, an, fd)
				}
			}
		}
	}
}

// tinyTrainer returns a trainer of a small image model from random weights
// (no PCA), on 32-pixel crops of the training images.
func tinyTrainer(t *testing.T, steps int) (*Model, *Trainer) {
	c := ImageConfig(12)
	c.DecoderChannels, c.Blocks = 8, 1
	m, err := New(c, 5)
	if err != nil {
		t.Fatal(err)
	}
	small := func(s Sample) Sample { // a 64×64 corner keeps the test fast
		out := make([]float32, 3*64*64)
		for ch := range 3 {
			for y := range 64 {
				copy(out[(ch*64+y)*64:(ch*64+y+1)*64], s.Data[(ch*s.Shape[1]+y)*s.Shape[2]:])
			}
		}
		return Sample{Data: out, Shape: []int{3, 64, 64}}
	}
	train := []Sample{small(SampleFromImage(loadImage(t, "rocket.jpg"), 8))}
	val := []Sample{small(SampleFromImage(loadImage(t, "camera.png"), 8))}
	tc := TrainConfig{Crop: 32, Batch: 2, Steps: steps, LR: 3e-3, LinearLR: 3e-3, ValEvery: 10, Augment: true, Seed: 9}
	tr, err := NewTrainer(m, train, val, tc)
	if err != nil {
		t.Fatal(err)
	}
	return m, tr
}

// TestTrainingLossFalls trains a small model from random weights for 60
// steps: the mean training loss of the last 10 steps must be below half
// that of the first 10 (a random linear codec is far from the PCA one, so
// a working gradient path halves the loss quickly), and two runs with the
// same seed must end with identical parameters.
func TestTrainingLossFalls(t *testing.T) {
	m, tr := tinyTrainer(t, 60)
	var losses []float64
	for range 60 {
		losses = append(losses, tr.Step())
	}
	first, last := mean(losses[:10]), mean(losses[50:])
	t.Logf("training loss: first 10 steps %.4g, last 10 %.4g", first, last)
	if !(last < 0.5*first) {
		t.Errorf("the training loss did not fall: %.4g → %.4g", first, last)
	}
	m2, tr2 := tinyTrainer(t, 60)
	for range 60 {
		tr2.Step()
	}
	for i, p := range m.Params() {
		if !slices.Equal(p.Value.Data, m2.Params()[i].Value.Data) {
			t.Fatalf("parameter %s differs between two runs with one seed", p.Name)
		}
	}
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestTrainResume checks that a run stopped after 20 steps, saved and
// resumed for 20 more ends bit-identical to 40 uninterrupted steps, and
// that Run keeps the best validated parameters.
func TestTrainResume(t *testing.T) {
	ctx := stdcontext.Background()
	m1, tr1 := tinyTrainer(t, 40)
	if err := tr1.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// A run stopped by Step after 20 steps (Run would restore the best
	// parameters at its end), saved and resumed.
	_, tr3 := tinyTrainer(t, 40)
	tr3.validate()
	for range 20 {
		tr3.Step()
		if tr3.step%10 == 0 {
			tr3.validate()
		}
	}
	path := filepath.Join(t.TempDir(), "state.h5")
	w, err := hdf5io.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr3.WriteState(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	m4, tr4 := tinyTrainer(t, 40)
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr4.ReadState(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := tr4.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for i, p := range m1.Params() {
		if !slices.Equal(p.Value.Data, m4.Params()[i].Value.Data) {
			t.Fatalf("parameter %s: the resumed run differs from the uninterrupted one", p.Name)
		}
	}
	if s, _ := tr4.BestStep(); s != tr1.bestStep {
		t.Fatalf("best step %d after resuming, %d uninterrupted", s, tr1.bestStep)
	}
	if v := tr1.Validate(); v > tr1.ValLoss[0] {
		t.Fatalf("the kept model validates at %.4g, worse than the start %.4g", v, tr1.ValLoss[0])
	}
}

// TestModelFile saves a model, loads it, and requires the same id and the
// same bitstream and reconstruction.
func TestModelFile(t *testing.T) {
	m := linearModel(t, 12, 20)
	path := filepath.Join(t.TempDir(), "m.h5")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m2.ID() != m.ID() {
		t.Fatalf("id %s after loading, %s before", m2.ID(), m.ID())
	}
	img := loadImage(t, "chelsea.png")
	var a, b bytes.Buffer
	if err := Encode(&a, img, m); err != nil {
		t.Fatal(err)
	}
	if err := Encode(&b, img, m2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the loaded model encodes differently")
	}
	other := linearModel(t, 12, 10)
	if _, err := Decode(bytes.NewReader(a.Bytes()), other); err == nil {
		t.Fatal("a file of another model decoded without error")
	}
	// The file's description alone tells the model's files from others.
	f, err := hdf5io.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ReadInfo(f, ModelGroup)
	f.Close()
	if err != nil || info.ID != m.ID() || info.Config != m.Config {
		t.Fatalf("ReadInfo: %+v %v", info, err)
	}
	h, err := ReadHeader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := info.CheckHeader(h); err != nil {
		t.Fatalf("the model's own file: %v", err)
	}
	if err := (ModelInfo{Config: other.Config, ID: other.ID()}).CheckHeader(h); !errors.Is(err, ErrModel) {
		t.Fatalf("another model's description: %v, want ErrModel", err)
	}
	_ = os.Remove(path)
}

// TestDecodeBound: a header declaring a 65536 × 65536 image is refused by
// the decoder before it allocates the planes.
func TestDecodeBound(t *testing.T) {
	m := linearModel(t, 12, 20)
	h := Header{Signal: Image, Coding: CodingRange, Model: m.ID(), Levels: 3, LatentChannels: 12, Channels: 3, Height: 1 << 16, Width: 1 << 16}
	if _, err := m.DecodeImageLatents(h, nil); err == nil || errors.Is(err, ErrModel) {
		t.Fatalf("error %v, want a size refusal", err)
	}
}
