package dcdm

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"eddy/hdf5io"
	"eddy/nn"
	"eddy/pde/poisson"
)

// TrainConfig is the training schedule and data recipe. Its JSON names are
// API (the params of dcdm.train).
type TrainConfig struct {
	Epochs       int     `json:"epochs" min:"1" max:"100000" doc:"passes over the training vectors"`
	Samples      int     `json:"samples" min:"1" max:"1000000" doc:"training right-hand sides: random combinations of Ritz vectors of the training matrix, normalised to unit 2-norm"`
	Batch        int     `json:"batch" min:"1" max:"1024" doc:"training vectors per Adam step"`
	LR           float64 `json:"lr" gt:"0" max:"1" doc:"Adam learning rate (the authors use 1e-4 with far more steps)"`
	LanczosSteps int     `json:"lanczos_steps" min:"2" max:"100000" doc:"Lanczos steps m (full reorthogonalisation) on the training matrix; at most its number of unknowns. Costs m·n·8 bytes and about 4·m²·n flops"`
	Theta        int     `json:"theta" min:"0" max:"100000" doc:"Θ of spec §3: the lowest m/2 + Θ Ritz vectors get 9 times the weight of the others"`
	Seed         uint64  `json:"seed" min:"0" max:"9007199254740991" doc:"seed of the initial weights, the Lanczos start vector, the training vectors and their order"`
}

// Validate returns an error for a schedule that cannot run.
func (t TrainConfig) Validate() error {
	switch {
	case t.Epochs < 1 || t.Samples < 1 || t.Batch < 1:
		return fmt.Errorf("dcdm: epochs %d, samples %d, batch %d, want positive", t.Epochs, t.Samples, t.Batch)
	case !(t.LR > 0):
		return fmt.Errorf("dcdm: learning rate %g, want positive", t.LR)
	case t.LanczosSteps < 2 || t.Theta < 0:
		return fmt.Errorf("dcdm: lanczos_steps %d, theta %d, want at least 2 and non-negative", t.LanczosSteps, t.Theta)
	}
	return nil
}

// lowFactor is the weight of the low Ritz vectors' coefficients (spec §3).
const lowFactor = 9

// EpochStats records one epoch.
type EpochStats struct {
	Epoch   int
	Loss    float64 // mean training loss ‖b − αAq‖² over the epoch
	Seconds float64
}

// Trainer trains a Model on one training matrix.
type Trainer struct {
	tc    TrainConfig
	a     *poisson.Stencil
	ritz  *Ritz
	dp    *nn.DataParallel
	model *Model
	adam  *nn.Adam
	shape []int // one sample, 1×(grid)
	epoch int
	hist  []EpochStats
}

// NewTrainer builds the model of c, runs the Lanczos process on a and
// prepares Adam; workers replicas train in parallel (see
// nn.DataParallel). The grid sides of a must be multiples of 2^c.Levels.
func NewTrainer(ctx context.Context, a *poisson.Stencil, c Config, tc TrainConfig, workers int) (*Trainer, error) {
	if err := tc.Validate(); err != nil {
		return nil, err
	}
	m, err := New(c, tc.Seed)
	if err != nil {
		return nil, err
	}
	shape, err := inputShape(m, a)
	if err != nil {
		return nil, err
	}
	ritz, err := Lanczos(ctx, a, tc.LanczosSteps, tc.Seed)
	if err != nil {
		return nil, err
	}
	t := &Trainer{tc: tc, a: a, ritz: ritz, shape: shape[1:]}
	first := true
	t.dp = nn.NewDataParallel(workers, func() nn.Layer {
		if first {
			first = false
			return m
		}
		rep, _ := New(c, 0)
		return rep
	})
	t.model = m
	t.adam = nn.NewAdam(nn.ParamGroup{Params: m.Params(), LR: tc.LR})
	return t, nil
}

// Model returns the model being trained.
func (t *Trainer) Model() *Model { return t.model }

// Ritz returns the Ritz pairs the training vectors are drawn from.
func (t *Trainer) Ritz() *Ritz { return t.ritz }

// Epoch returns the number of epochs done.
func (t *Trainer) Epoch() int { return t.epoch }

// History returns the statistics of the epochs done.
func (t *Trainer) History() []EpochStats { return t.hist }

// StepsPerEpoch returns the number of Adam steps of an epoch.
func (t *Trainer) StepsPerEpoch() int { return (t.tc.Samples + t.tc.Batch - 1) / t.tc.Batch }

// sample writes training vector i into dst: it depends on the seed and i
// only, so the vectors need not be stored.
func (t *Trainer) sample(dst, coef []float64, i int) {
	rnd := rand.New(rand.NewPCG(t.tc.Seed, 0x5a3b1e<<32|uint64(i)))
	cut := min(t.ritz.Steps/2+t.tc.Theta, len(t.ritz.Values))
	t.ritz.Sample(dst, coef, rnd, cut, lowFactor)
}

// RunEpoch trains one epoch: the training vectors in an order drawn from
// the seed and the epoch, in batches, one Adam step each. report, if not
// nil, is called after every step with the steps done and the total.
func (t *Trainer) RunEpoch(ctx context.Context, report func(done, total int)) (EpochStats, error) {
	start := time.Now()
	tc := t.tc
	order := rand.New(rand.NewPCG(tc.Seed, 0xe90c<<32|uint64(t.epoch))).Perm(tc.Samples)
	n := t.a.Len()
	coef := make([]float64, t.ritz.Steps)
	loss := Loss{A: t.a}
	var sum float64
	steps := t.StepsPerEpoch()
	for s := range steps {
		if err := ctx.Err(); err != nil {
			return EpochStats{}, err
		}
		idx := order[s*tc.Batch : min((s+1)*tc.Batch, tc.Samples)]
		x := nn.NewTensor(append([]int{len(idx)}, t.shape...)...)
		for k, i := range idx {
			t.sample(x.Data[k*n:(k+1)*n], coef, i)
		}
		l, err := t.dp.LossAndGrad(x, x, loss)
		if err != nil {
			return EpochStats{}, fmt.Errorf("dcdm: epoch %d, step %d: %w", t.epoch+1, s+1, err)
		}
		t.adam.Step()
		sum += l * float64(len(idx))
		if report != nil {
			report(s+1, steps)
		}
	}
	t.epoch++
	st := EpochStats{Epoch: t.epoch, Loss: sum / float64(tc.Samples), Seconds: time.Since(start).Seconds()}
	t.hist = append(t.hist, st)
	return st, nil
}

// trainerGroup is the HDF5 group of a trainer's state besides the model.
const trainerGroup = "/trainer"

// WriteState writes the model (group /model), the Adam state, the epoch and
// the history, so that ReadState can resume training bit-identically.
func (t *Trainer) WriteState(w *hdf5io.Writer) error {
	if err := t.model.Write(w, "/model"); err != nil {
		return err
	}
	tc, err := json.Marshal(t.tc)
	if err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	st := t.adam.State()
	for _, g := range []string{trainerGroup, trainerGroup + "/adam_m", trainerGroup + "/adam_v"} {
		if err := w.CreateGroup(g); err != nil {
			return fmt.Errorf("dcdm: %w", err)
		}
	}
	loss, secs := make([]float64, len(t.hist)), make([]float64, len(t.hist))
	for i, h := range t.hist {
		loss[i], secs[i] = h.Loss, h.Seconds
	}
	errs := []error{
		w.SetAttrString(trainerGroup, "train_config", string(tc)),
		w.SetAttrInt64(trainerGroup, "epoch", int64(t.epoch)),
		w.SetAttrInt64(trainerGroup, "adam_steps", int64(st.Steps)),
		w.WriteFloat64(trainerGroup+"/loss", loss, []int{len(loss)}, "epoch", ""),
		w.WriteFloat64(trainerGroup+"/seconds", secs, []int{len(secs)}, "epoch", "s"),
	}
	for i, p := range t.model.Params() {
		errs = append(errs,
			w.WriteFloat64(trainerGroup+"/adam_m/"+p.Name, st.M[i], p.Value.Shape, "", ""),
			w.WriteFloat64(trainerGroup+"/adam_v/"+p.Name, st.V[i], p.Value.Shape, "", ""))
	}
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("dcdm: %w", err)
		}
	}
	return nil
}

// ReadState restores a state written by WriteState for the same
// architecture and schedule.
func (t *Trainer) ReadState(f *hdf5io.File) error {
	saved, err := Read(f, "/model")
	if err != nil {
		return err
	}
	if saved.Config != t.model.Config {
		return fmt.Errorf("dcdm: the state's architecture %+v differs from the model's %+v", saved.Config, t.model.Config)
	}
	text, err := f.AttrString(trainerGroup, "train_config")
	if err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	var tc TrainConfig
	if err := json.Unmarshal([]byte(text), &tc); err != nil || tc != t.tc {
		return fmt.Errorf("dcdm: the state's schedule %s differs from this run's", text)
	}
	epoch, err := f.AttrInt64(trainerGroup, "epoch")
	if err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	steps, err := f.AttrInt64(trainerGroup, "adam_steps")
	if err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	st := nn.AdamState{Steps: int(steps)}
	for _, p := range t.model.Params() {
		mv, _, err := f.ReadFloat64(trainerGroup + "/adam_m/" + p.Name)
		if err != nil {
			return fmt.Errorf("dcdm: %w", err)
		}
		vv, _, err := f.ReadFloat64(trainerGroup + "/adam_v/" + p.Name)
		if err != nil {
			return fmt.Errorf("dcdm: %w", err)
		}
		st.M, st.V = append(st.M, mv), append(st.V, vv)
	}
	loss, _, err := f.ReadFloat64(trainerGroup + "/loss")
	if err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	secs, _, err := f.ReadFloat64(trainerGroup + "/seconds")
	if err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	if len(loss) != int(epoch) || len(secs) != int(epoch) {
		return fmt.Errorf("dcdm: history of %d/%d entries for %d epochs", len(loss), len(secs), epoch)
	}
	if err := t.adam.SetState(st); err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	for i, p := range t.model.Params() {
		copy(p.Value.Data, saved.Params()[i].Value.Data)
	}
	t.epoch = int(epoch)
	t.hist = t.hist[:0]
	for i := range loss {
		t.hist = append(t.hist, EpochStats{Epoch: i + 1, Loss: loss[i], Seconds: secs[i]})
	}
	return nil
}
