package walloc

import (
	stdcontext "context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"eddy/codec/wavelet"
	"eddy/hdf5io"
	"eddy/nn"
)

// TrainConfig is the schedule of Trainer (spec §2, scaled down for a CPU).
type TrainConfig struct {
	Crop  int `json:"crop" min:"8" max:"4096" doc:"side of the random training crops in pixels (image) or their length in samples (audio); a multiple of 2^levels"`
	Batch int `json:"batch" min:"1" max:"256" doc:"crops per optimiser step"`
	// Steps bounds the optimiser steps; 0 means until Seconds. A run bounded
	// by steps is deterministic for a seed.
	Steps   int     `json:"steps" min:"0" max:"10000000" doc:"optimiser steps (0: as many as the time budget allows; a run bounded by steps is bit-reproducible for a seed)"`
	Seconds float64 `json:"seconds" min:"0" max:"604800" doc:"training budget in seconds of wall time (0: no time limit; steps must then be set)"`
	LR      float64 `json:"lr" gt:"0" max:"1" doc:"AdamW learning rate of the decoder's CNN"`
	// LinearLR is the learning rate of the encoder and the decoder's linear
	// path; 0 freezes them at the PCA solution.
	LinearLR float64 `json:"linear_lr" min:"0" max:"1" doc:"AdamW learning rate of the encoder and the decoder's linear path (0 keeps them at the PCA solution)"`
	// ValEvery is the number of steps between validations.
	ValEvery int    `json:"val_every" min:"1" max:"1000000" doc:"optimiser steps between validations; the best validated model is kept"`
	Augment  bool   `json:"augment" doc:"random flips, transposes and colour-channel permutations of the crops (audio: channel swap and sign flip)"`
	Seed     uint64 `json:"seed" min:"0" max:"9007199254740991" doc:"seed of the crops, augmentation and noise; step n draws from generators seeded by (seed, n)"`
}

// DefaultTrainConfig returns a schedule that trains within minutes on a
// CPU: 64-pixel crops in batches of 8, AdamW 2·10⁻⁴ on the CNN with the
// linear parts frozen, augmentation on, validation every 50 steps.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Crop: 64, Batch: 8, Seconds: 60, LR: 2e-4, ValEvery: 50, Augment: true, Seed: 1}
}

// Trainer trains a model (spec §2 and §6 C): mean squared error between the
// wavelet packet channels x of a crop and the decoder's output x̂, with the
// additive-noise bottleneck, by AdamW with weight decay 0. The wavelet
// packet transform is nearly orthonormal (bior4.4 with the PyWavelets
// scaling), so this loss is within a few per cent of the pixel-domain MSE of
// the reference, and it spares a backward pass through the inverse
// transform. Every ValEvery steps, and before the first, the model is
// validated with real rounding on the validation samples; Best returns the
// parameters of the best validation (step 0 included), so training never
// ends worse on validation than its start.
type Trainer struct {
	m          *Model
	cfg        TrainConfig
	train, val []Sample
	valX       []*nn.Tensor
	opt        *nn.Adam
	rng        *rand.Rand
	src, nsrc  *rand.PCG // reseeded at every step from (seed, step)
	noise      *Compander
	plan2      *wavelet.Packet2D[float32]
	plan1      *wavelet.Packet1D[float32]
	x, grad    *nn.Tensor
	crop       []float32

	step      int
	bestStep  int
	bestLoss  float64
	best      [][]float64
	TrainLoss []float64 // mean training loss of each validation period
	ValLoss   []float64 // validation loss at steps 0, ValEvery, …
	ValStep   []int
	sum       float64
	sumN      int
}

// NewTrainer returns a trainer of m on the samples train, validated on val
// (at least one sample each, sizes multiples of 2^J and at least one crop).
func NewTrainer(m *Model, train, val []Sample, c TrainConfig) (*Trainer, error) {
	bl := m.Block()
	if c.Crop < bl || c.Crop%bl != 0 || c.Batch < 1 || c.ValEvery < 1 || !(c.LR > 0) || c.LinearLR < 0 {
		return nil, fmt.Errorf("walloc: train: crop %d (a multiple of %d), batch %d, val_every %d, lr %g, linear_lr %g", c.Crop, bl, c.Batch, c.ValEvery, c.LR, c.LinearLR)
	}
	if c.Steps == 0 && c.Seconds == 0 {
		return nil, fmt.Errorf("walloc: train: neither steps nor seconds bound the run")
	}
	if len(train) == 0 || len(val) == 0 {
		return nil, fmt.Errorf("walloc: train: %d training and %d validation samples; need at least one of each", len(train), len(val))
	}
	for _, s := range train {
		if _, err := m.positions(s.Shape); err != nil {
			return nil, err
		}
		if s.Shape[len(s.Shape)-1] < c.Crop || (m.Signal == Image && s.Shape[1] < c.Crop) {
			return nil, fmt.Errorf("walloc: train: a sample of shape %v is smaller than the crop %d", s.Shape, c.Crop)
		}
	}
	t := &Trainer{m: m, cfg: c, train: train, val: val, bestLoss: math.Inf(1),
		src: rand.NewPCG(0, 0), nsrc: rand.NewPCG(0, 0)}
	t.rng = rand.New(t.src)
	t.noise = &Compander{Noise: rand.New(t.nsrc)}
	for _, s := range val {
		x, n, err := m.packets(s)
		if err != nil {
			return nil, err
		}
		t.valX = append(t.valX, packetTensor(m, x, s, n))
	}
	groups := []nn.ParamGroup{}
	if m.CNN != nil {
		groups = append(groups, nn.ParamGroup{Params: m.CNN.Params(), LR: c.LR})
	}
	lin := append(m.EncoderParams(), m.Skip.Params()...)
	nn.SetFrozen(lin, c.LinearLR == 0)
	if c.LinearLR > 0 {
		groups = append(groups, nn.ParamGroup{Params: lin, LR: c.LinearLR})
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("walloc: train: nothing to train (no CNN and linear_lr 0)")
	}
	t.opt = nn.NewAdamW(groups...)
	if m.Signal == Image {
		t.plan2 = wavelet.NewPacket2D[float32](c.Crop, c.Crop, m.Levels)
		g := c.Crop / bl
		t.x = nn.NewTensor(c.Batch, m.PacketChannels(), g, g)
		t.crop = make([]float32, 3*c.Crop*c.Crop)
	} else {
		t.plan1 = wavelet.NewPacket1D[float32](c.Crop, m.Levels)
		t.x = nn.NewTensor(c.Batch, m.PacketChannels(), c.Crop/bl)
		t.crop = make([]float32, 2*c.Crop)
	}
	t.grad = nn.NewTensor(t.x.Shape...)
	return t, nil
}

// packetTensor wraps the packet channels x (D, n) of sample s as a tensor
// (1, D, grid…).
func packetTensor(m *Model, x []float32, s Sample, n int) *nn.Tensor {
	bl := m.Block()
	shape := []int{1, m.PacketChannels(), n}
	if m.Signal == Image {
		shape = []int{1, m.PacketChannels(), s.Shape[1] / bl, s.Shape[2] / bl}
	}
	t := nn.NewTensor(shape...)
	for i, v := range x {
		t.Data[i] = float64(v)
	}
	return t
}

// Steps returns the optimiser steps taken.
func (t *Trainer) Steps() int { return t.step }

// BestStep returns the step of the best validation and its loss.
func (t *Trainer) BestStep() (int, float64) { return t.bestStep, t.bestLoss }

// fillBatch draws the batch of random (augmented) crops and transforms it.
func (t *Trainer) fillBatch() {
	c, per := t.cfg.Crop, len(t.x.Data)/t.cfg.Batch
	for b := range t.cfg.Batch {
		s := t.train[t.rng.IntN(len(t.train))]
		if t.m.Signal == Image {
			h, w := s.Shape[1], s.Shape[2]
			y0, x0 := t.rng.IntN(h-c+1), t.rng.IntN(w-c+1)
			perm := [3]int{0, 1, 2}
			flipY, flipX, tr := false, false, false
			if t.cfg.Augment {
				t.rng.Shuffle(3, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
				flipY, flipX, tr = t.rng.IntN(2) == 1, t.rng.IntN(2) == 1, t.rng.IntN(2) == 1
			}
			for ch := range 3 {
				src := s.Data[perm[ch]*h*w:]
				dst := t.crop[ch*c*c:]
				for y := range c {
					for x := range c {
						sy, sx := y, x
						if tr {
							sy, sx = x, y
						}
						if flipY {
							sy = c - 1 - sy
						}
						if flipX {
							sx = c - 1 - sx
						}
						dst[y*c+x] = src[(y0+sy)*w+x0+sx]
					}
				}
			}
			t.plan2.Forward(t.crop, t.crop)
		} else {
			l := s.Shape[1]
			x0 := t.rng.IntN(l - c + 1)
			swap, sign := false, float32(1)
			if t.cfg.Augment {
				swap = t.rng.IntN(2) == 1
				if t.rng.IntN(2) == 1 {
					sign = -1
				}
			}
			for ch := range 2 {
				sc := ch
				if swap {
					sc = 1 - ch
				}
				for i := range c {
					t.crop[ch*c+i] = sign * s.Data[sc*l+x0+i]
				}
			}
			t.plan1.Forward(t.crop, t.crop)
		}
		dst := t.x.Data[b*per : (b+1)*per]
		for i, v := range t.crop {
			dst[i] = float64(v)
		}
	}
}

// mse sets t.grad to ∂L/∂x̂ for L = mean((x̂ − x)²) and returns L.
func mse(pred, target, grad *nn.Tensor) float64 {
	var s float64
	c := 2 / float64(len(pred.Data))
	for i, p := range pred.Data {
		d := p - target.Data[i]
		s += d * d
		if grad != nil {
			grad.Data[i] = c * d
		}
	}
	return s / float64(len(pred.Data))
}

// Step takes one optimiser step on a fresh batch and returns its loss.
func (t *Trainer) Step() float64 {
	// The streams of step n depend on (seed, n) only, so a resumed run
	// draws what an uninterrupted one would.
	t.src.Seed(t.cfg.Seed, uint64(t.step))
	t.nsrc.Seed(t.cfg.Seed^0x6e6f_6973_65, uint64(t.step))
	t.fillBatch()
	nn.ZeroGrad(t.m.Params())
	y := t.m.forward(t.x, t.noise)
	loss := mse(y, t.x, t.grad)
	t.m.backward(t.grad, t.noise)
	t.opt.Step()
	t.step++
	t.sum += loss
	t.sumN++
	return loss
}

// Validate returns the mean squared error in the wavelet packet domain of
// the validation samples coded with real rounding.
func (t *Trainer) Validate() float64 {
	var s float64
	round := &Compander{}
	for _, x := range t.valX {
		y := t.m.forward(x, round)
		s += mse(y, x, nil)
	}
	return s / float64(len(t.valX))
}

// validate records a validation and keeps the parameters if they are the
// best so far.
func (t *Trainer) validate() float64 {
	v := t.Validate()
	t.ValLoss = append(t.ValLoss, v)
	t.ValStep = append(t.ValStep, t.step)
	if t.sumN > 0 {
		t.TrainLoss = append(t.TrainLoss, t.sum/float64(t.sumN))
	} else {
		t.TrainLoss = append(t.TrainLoss, math.NaN())
	}
	t.sum, t.sumN = 0, 0
	if v < t.bestLoss {
		t.bestLoss, t.bestStep = v, t.step
		ps := t.m.Params()
		if t.best == nil {
			t.best = make([][]float64, len(ps))
		}
		for i, p := range ps {
			t.best[i] = append(t.best[i][:0], p.Value.Data...)
		}
	}
	return v
}

// Run trains until Steps steps or Seconds seconds (whichever comes first),
// validating every ValEvery steps (and at the start and the end), and then
// sets the model to the best validated parameters. report, when not nil, is
// called after each validation. It stops early with ctx's error.
func (t *Trainer) Run(ctx stdcontext.Context, report func(step int, train, val float64)) error {
	start := time.Now()
	if t.step == 0 && len(t.ValLoss) == 0 {
		t.validate()
	}
	for {
		if t.cfg.Steps > 0 && t.step >= t.cfg.Steps {
			break
		}
		if t.cfg.Seconds > 0 && time.Since(start).Seconds() >= t.cfg.Seconds {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		t.Step()
		if t.step%t.cfg.ValEvery == 0 {
			tr := t.sum / float64(t.sumN)
			v := t.validate()
			if report != nil {
				report(t.step, tr, v)
			}
		}
	}
	if t.sumN > 0 {
		t.validate()
	}
	t.RestoreBest()
	return nil
}

// RestoreBest sets the model's parameters to those of the best validation.
func (t *Trainer) RestoreBest() {
	if t.best == nil {
		return
	}
	for i, p := range t.m.Params() {
		copy(p.Value.Data, t.best[i])
	}
}

// WriteState stores the training state (model, best parameters, optimiser
// moments, step, random state, histories) in w's group "/trainer" so that
// ReadState can resume the run exactly: a resumed run bounded by steps
// ends bit-identical to an uninterrupted one.
func (t *Trainer) WriteState(w *hdf5io.Writer) error {
	if err := t.m.Write(w, "/trainer/model"); err != nil {
		return err
	}
	for i, b := range t.best {
		if err := w.WriteFloat64(fmt.Sprintf("/trainer/best/%d", i), b, []int{len(b)}, "", ""); err != nil {
			return err
		}
	}
	st := t.opt.State()
	for i := range st.M {
		if err := w.WriteFloat64(fmt.Sprintf("/trainer/adam_m/%d", i), st.M[i], []int{len(st.M[i])}, "", ""); err != nil {
			return err
		}
		if err := w.WriteFloat64(fmt.Sprintf("/trainer/adam_v/%d", i), st.V[i], []int{len(st.V[i])}, "", ""); err != nil {
			return err
		}
	}
	hist := append(append(append([]float64{}, t.TrainLoss...), t.ValLoss...), float64(t.bestStep), t.bestLoss, float64(st.Steps), float64(t.step), float64(len(st.M)))
	for _, v := range t.ValStep {
		hist = append(hist, float64(v))
	}
	return w.WriteFloat64("/trainer/history", hist, []int{len(hist)}, "", "")
}

// ReadState restores a state written by WriteState for the same model
// configuration and training set.
func (t *Trainer) ReadState(f *hdf5io.File) error {
	m, err := Read(f, "/trainer/model")
	if err != nil {
		return err
	}
	if m.Config != t.m.Config {
		return fmt.Errorf("walloc: checkpoint of another configuration")
	}
	ps, qs := t.m.Params(), m.Params()
	for i, p := range ps {
		copy(p.Value.Data, qs[i].Value.Data)
	}
	hist, _, err := f.ReadFloat64("/trainer/history")
	if err != nil {
		return err
	}
	n := (len(hist) - 5) / 3
	if n < 0 || 3*n+5 != len(hist) {
		return fmt.Errorf("walloc: checkpoint history of %d values", len(hist))
	}
	t.TrainLoss = append([]float64{}, hist[:n]...)
	t.ValLoss = append([]float64{}, hist[n:2*n]...)
	t.bestStep, t.bestLoss = int(hist[2*n]), hist[2*n+1]
	adamT, step, moments := int(hist[2*n+2]), int(hist[2*n+3]), int(hist[2*n+4])
	t.ValStep = nil
	for _, v := range hist[2*n+5:] {
		t.ValStep = append(t.ValStep, int(v))
	}
	t.best = make([][]float64, len(ps))
	for i := range ps {
		b, _, err := f.ReadFloat64(fmt.Sprintf("/trainer/best/%d", i))
		if err != nil {
			return err
		}
		t.best[i] = b
	}
	st := nn.AdamState{Steps: adamT}
	for i := range moments {
		mm, _, err := f.ReadFloat64(fmt.Sprintf("/trainer/adam_m/%d", i))
		if err != nil {
			return err
		}
		vv, _, err := f.ReadFloat64(fmt.Sprintf("/trainer/adam_v/%d", i))
		if err != nil {
			return err
		}
		st.M, st.V = append(st.M, mm), append(st.V, vv)
	}
	if err := t.opt.SetState(st); err != nil {
		return err
	}
	t.step = step
	return nil
}
