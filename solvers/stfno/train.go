package stfno

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"eddy/hdf5io"
	"eddy/nn"
)

// TrainConfig sets up training (spec §2): windows of TIn input and TOut
// target frames, Adam with the one-cycle schedule (peak LR, start LR/1e3,
// end LR/1e7) over Epochs epochs of ⌈|train|/Batch⌉ steps, and the
// relative L² loss per window. Its JSON names are parameter names of the
// training job.
type TrainConfig struct {
	TIn      int     `json:"t_in" min:"2" max:"1024" doc:"input frames per window"`
	TOut     int     `json:"t_out" min:"1" max:"1024" doc:"predicted frames per window, following the input frames at the same spacing"`
	Epochs   int     `json:"epochs" min:"1" max:"100000" doc:"passes over the training samples; the one-cycle learning-rate schedule spans them all"`
	Batch    int     `json:"batch" min:"1" max:"4096" doc:"windows per optimiser step (the paper uses 4); they are shared among the cores"`
	LR       float64 `json:"lr" gt:"0" max:"10" doc:"peak learning rate of the one-cycle schedule (the paper uses 1e-2); it starts at lr/1e3 and ends at lr/1e7"`
	Seed     uint64  `json:"seed" min:"0" max:"9007199254740991" doc:"seed of the random window starts and sample order; epoch e draws from a generator seeded by (seed, e), so a run resumed at an epoch boundary is bit-identical"`
	ValStart int     `json:"val_start" min:"0" max:"1000000" doc:"first frame of the fixed validation window of every validation sample"`
	// Workers is the number of data-parallel replicas; 0 means GOMAXPROCS.
	Workers int `json:"-"`
}

// EpochStats summarises one epoch: the number of optimiser steps, the mean
// training loss over its windows (relative L², measured before each step),
// the validation relative L² (RelL2 over the validation windows) and the
// wall time.
type EpochStats struct {
	Epoch, Steps         int
	TrainRelL2, ValRelL2 float64
	Seconds              float64
}

// Trainer trains a Model on trajectories with data-parallel steps over the
// cores (nn.DataParallel). Epoch e draws, from a PCG seeded by (Seed, e),
// a permutation of the training samples and, per sample, a window start in
// [0, frames − TIn − TOut]; a step is the batch-mean relative L² loss, its
// gradient summed over the replicas and one Adam step. Given the same data,
// configuration (Workers included: it fixes how the batch is split and the
// gradients summed) and state, epochs are bit-identical whatever was
// interrupted before (state saved with WriteState at an epoch boundary).
type Trainer struct {
	m     *Model
	dp    *nn.DataParallel
	adam  *nn.Adam
	data  []float64
	s, f  int // samples, frames
	n     int
	split Split
	tc    TrainConfig
	steps int // per epoch
	epoch int
	hist  []EpochStats
	x, y  *nn.Tensor
}

// window adapts a Model to nn.Layer with a fixed output length.
type window struct {
	m    *Model
	tOut int
}

func (w *window) Forward(x *nn.Tensor) *nn.Tensor   { return w.m.Forward(x, w.tOut) }
func (w *window) Backward(dy *nn.Tensor) *nn.Tensor { return w.m.Backward(dy) }
func (w *window) Params() []*nn.Param               { return w.m.Params() }

// NewTrainer returns a trainer of m on data, samples trajectories of frames
// frames of n×n (layout (sample, t, y, x)). m's parameters are the ones
// trained. It returns an error if the windows do not fit the data or the
// model, or the split names samples out of range.
func NewTrainer(m *Model, data []float64, samples, frames, n int, split Split, tc TrainConfig) (*Trainer, error) {
	switch {
	case len(data) != samples*frames*n*n:
		return nil, fmt.Errorf("stfno: %d values for %d samples of %d frames of %d²", len(data), samples, frames, n)
	case tc.TIn < 2 || tc.TOut < 1 || tc.TIn+tc.TOut > frames:
		return nil, fmt.Errorf("stfno: windows of %d + %d frames do not fit %d frames", tc.TIn, tc.TOut, frames)
	case len(split.Val) > 0 && (tc.ValStart < 0 || tc.ValStart+tc.TIn+tc.TOut > frames):
		return nil, fmt.Errorf("stfno: validation window at frame %d of %d + %d frames does not fit %d frames", tc.ValStart, tc.TIn, tc.TOut, frames)
	case tc.Epochs < 1 || tc.Batch < 1 || !(tc.LR > 0):
		return nil, fmt.Errorf("stfno: epochs %d, batch %d and lr %v must be positive", tc.Epochs, tc.Batch, tc.LR)
	case len(split.Train) == 0:
		return nil, fmt.Errorf("stfno: no training samples")
	}
	for _, i := range append(append([]int(nil), split.Train...), split.Val...) {
		if i < 0 || i >= samples {
			return nil, fmt.Errorf("stfno: sample %d of the split is not among the %d samples", i, samples)
		}
	}
	if err := m.checkGrid(n, tc.TIn, tc.TOut); err != nil {
		return nil, err
	}
	workers := tc.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, tc.Batch)
	first := true
	dp := nn.NewDataParallel(workers, func() nn.Layer {
		if first {
			first = false
			return &window{m, tc.TOut}
		}
		r, err := New(m.Config, 0)
		if err != nil {
			panic(err) // m.Config is valid
		}
		return &window{r, tc.TOut}
	})
	t := &Trainer{m: m, dp: dp, data: data, s: samples, f: frames, n: n, split: split, tc: tc}
	t.steps = (len(split.Train) + tc.Batch - 1) / tc.Batch
	t.adam = nn.NewAdam(nn.ParamGroup{Params: m.Params(), LR: tc.LR})
	t.adam.Schedule = nn.OneCycle{Total: tc.Epochs * t.steps, DivFactor: 1e3, FinalDivFactor: 1e4}
	return t, nil
}

// Epoch returns the number of completed epochs.
func (t *Trainer) Epoch() int { return t.epoch }

// History returns the statistics of the completed epochs.
func (t *Trainer) History() []EpochStats { return append([]EpochStats(nil), t.hist...) }

// StepsPerEpoch returns the number of optimiser steps of an epoch.
func (t *Trainer) StepsPerEpoch() int { return t.steps }

// load sets x and y to the windows of the given samples starting at the
// given frames.
func (t *Trainer) load(samples, starts []int) (x, y *nn.Tensor) {
	b, nn2 := len(samples), t.n*t.n
	t.x = reuseT(t.x, b, t.tc.TIn, t.n, t.n)
	t.y = reuseT(t.y, b, t.tc.TOut, t.n, t.n)
	for i, s := range samples {
		o := (s*t.f + starts[i]) * nn2
		copy(t.x.Data[i*t.tc.TIn*nn2:(i+1)*t.tc.TIn*nn2], t.data[o:o+t.tc.TIn*nn2])
		o += t.tc.TIn * nn2
		copy(t.y.Data[i*t.tc.TOut*nn2:(i+1)*t.tc.TOut*nn2], t.data[o:o+t.tc.TOut*nn2])
	}
	return t.x, t.y
}

// RunEpoch trains one epoch and evaluates on the validation windows. step,
// if not nil, is called after each optimiser step with the steps done and
// the total of the epoch. A non-finite loss is returned as an error; so is
// ctx's error when it is cancelled between steps. After an error the model
// holds a partly trained epoch: continue from a state saved at an epoch
// boundary.
func (t *Trainer) RunEpoch(ctx context.Context, step func(done, total int)) (EpochStats, error) {
	start := time.Now()
	r := rand.New(rand.NewPCG(t.tc.Seed, uint64(t.epoch)))
	order := r.Perm(len(t.split.Train))
	span := t.f - t.tc.TIn - t.tc.TOut + 1
	starts := make([]int, len(order))
	for i := range starts {
		starts[i] = r.IntN(span)
	}
	var sum float64
	samples := make([]int, 0, t.tc.Batch)
	for k := 0; k < t.steps; k++ {
		if err := ctx.Err(); err != nil {
			return EpochStats{}, err
		}
		lo, hi := k*t.tc.Batch, min((k+1)*t.tc.Batch, len(order))
		samples = samples[:0]
		for _, j := range order[lo:hi] {
			samples = append(samples, t.split.Train[j])
		}
		x, y := t.load(samples, starts[lo:hi])
		loss, err := t.dp.LossAndGrad(x, y, nn.RelL2{})
		if err != nil {
			return EpochStats{}, fmt.Errorf("stfno: epoch %d step %d: %w", t.epoch+1, k+1, err)
		}
		t.adam.Step()
		sum += loss * float64(hi-lo)
		if step != nil {
			step(k+1, t.steps)
		}
	}
	st := EpochStats{Epoch: t.epoch + 1, Steps: t.steps, TrainRelL2: sum / float64(len(order))}
	st.ValRelL2 = math.NaN()
	if len(t.split.Val) > 0 {
		st.ValRelL2 = t.Evaluate(t.split.Val, t.tc.ValStart)
	}
	st.Seconds = time.Since(start).Seconds()
	t.epoch++
	t.hist = append(t.hist, st)
	return st, nil
}

// Evaluate returns the mean relative L² error (RelL2) of the predictions
// of the windows starting at frame start of the given samples.
func (t *Trainer) Evaluate(samples []int, start int) float64 {
	var total float64
	starts := make([]int, t.tc.Batch)
	for i := range starts {
		starts[i] = start
	}
	for lo := 0; lo < len(samples); lo += t.tc.Batch {
		hi := min(lo+t.tc.Batch, len(samples))
		x, y := t.load(samples[lo:hi], starts[:hi-lo])
		p := t.dp.Predict(x)
		total += RelL2(p.Data, y.Data, t.tc.TOut, t.n) * float64(hi-lo)
	}
	return total / float64(len(samples))
}

// trainerGroup holds the optimiser state and history in WriteState's files.
const trainerGroup = "/trainer"

// WriteState stores the model (group /model, see Model.Write), the
// training configuration, the completed epochs, the Adam step count and
// moments (/trainer/adam_m/<param>, /trainer/adam_v/<param>) and the epoch
// history (/trainer/history/*), enough to continue bit-identically with
// ReadState.
func (t *Trainer) WriteState(w *hdf5io.Writer) error {
	if err := t.m.Write(w, "/model"); err != nil {
		return err
	}
	tc, err := json.Marshal(t.tc)
	if err != nil {
		return fmt.Errorf("stfno: %w", err)
	}
	st := t.adam.State()
	for _, g := range []string{trainerGroup, trainerGroup + "/adam_m", trainerGroup + "/adam_v", trainerGroup + "/history"} {
		if err := w.CreateGroup(g); err != nil {
			return fmt.Errorf("stfno: %w", err)
		}
	}
	errs := []error{
		w.SetAttrString(trainerGroup, "train_config", string(tc)),
		w.SetAttrInt64(trainerGroup, "epoch", int64(t.epoch)),
		w.SetAttrInt64(trainerGroup, "adam_steps", int64(st.Steps)),
	}
	for i, p := range t.m.Params() {
		errs = append(errs,
			w.WriteFloat64(trainerGroup+"/adam_m/"+p.Name, st.M[i], p.Value.Shape, "", ""),
			w.WriteFloat64(trainerGroup+"/adam_v/"+p.Name, st.V[i], p.Value.Shape, "", ""))
	}
	cols := map[string]func(EpochStats) float64{
		"epoch": func(e EpochStats) float64 { return float64(e.Epoch) }, "steps": func(e EpochStats) float64 { return float64(e.Steps) },
		"train_rel_l2": func(e EpochStats) float64 { return e.TrainRelL2 }, "val_rel_l2": func(e EpochStats) float64 { return e.ValRelL2 },
		"seconds": func(e EpochStats) float64 { return e.Seconds },
	}
	for name, get := range cols {
		v := make([]float64, len(t.hist))
		for i, e := range t.hist {
			v[i] = get(e)
		}
		errs = append(errs, w.WriteFloat64(trainerGroup+"/history/"+name, v, []int{len(v)}, "epoch", ""))
	}
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("stfno: %w", err)
		}
	}
	return nil
}

// ReadState restores a state written by WriteState into t, whose model
// must have the same architecture.
func (t *Trainer) ReadState(f *hdf5io.File) error {
	saved, err := Read(f, "/model")
	if err != nil {
		return err
	}
	if saved.Config != t.m.Config {
		return fmt.Errorf("stfno: the state's architecture %+v differs from the model's %+v", saved.Config, t.m.Config)
	}
	epoch, err := f.AttrInt64(trainerGroup, "epoch")
	if err != nil {
		return fmt.Errorf("stfno: %w", err)
	}
	steps, err := f.AttrInt64(trainerGroup, "adam_steps")
	if err != nil {
		return fmt.Errorf("stfno: %w", err)
	}
	st := nn.AdamState{Steps: int(steps)}
	for _, p := range t.m.Params() {
		mv, _, err := f.ReadFloat64(trainerGroup + "/adam_m/" + p.Name)
		if err != nil {
			return fmt.Errorf("stfno: %w", err)
		}
		vv, _, err := f.ReadFloat64(trainerGroup + "/adam_v/" + p.Name)
		if err != nil {
			return fmt.Errorf("stfno: %w", err)
		}
		st.M, st.V = append(st.M, mv), append(st.V, vv)
	}
	cols := map[string][]float64{}
	for _, name := range []string{"epoch", "steps", "train_rel_l2", "val_rel_l2", "seconds"} {
		v, _, err := f.ReadFloat64(trainerGroup + "/history/" + name)
		if err != nil {
			return fmt.Errorf("stfno: %w", err)
		}
		if len(v) != int(epoch) {
			return fmt.Errorf("stfno: history %q has %d entries for %d epochs", name, len(v), epoch)
		}
		cols[name] = v
	}
	if err := t.adam.SetState(st); err != nil {
		return fmt.Errorf("stfno: %w", err)
	}
	for i, p := range t.m.Params() {
		copy(p.Value.Data, saved.Params()[i].Value.Data)
	}
	t.epoch = int(epoch)
	t.hist = t.hist[:0]
	for i := 0; i < int(epoch); i++ {
		t.hist = append(t.hist, EpochStats{Epoch: int(cols["epoch"][i]), Steps: int(cols["steps"][i]),
			TrainRelL2: cols["train_rel_l2"][i], ValRelL2: cols["val_rel_l2"][i], Seconds: cols["seconds"][i]})
	}
	return nil
}
