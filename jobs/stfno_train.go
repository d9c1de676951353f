package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"eddy/hdf5io"
	"eddy/nn"
	"eddy/pde/navierstokes"
	"eddy/progress"
	"eddy/solvers/stfno"
	"eddy/storage"
)

// STFNOTrainParams are the params of stfno.train: the data set, the
// network's architecture (stfno.Config, whose json names are the API) and
// the training schedule.
type STFNOTrainParams struct {
	Dataset string `json:"dataset" required:"true" ref:"upload|job:navier_stokes.simulate" datasets:"vorticity:4" doc:"id of a navier_stokes.simulate job (a queued or running one is waited for) or of an upload holding vorticity, an array (sample, t, y, x) of frames at equal time spacing on a square periodic grid"`
	stfno.Config
	stfno.TrainConfig
	ValFraction     float64 `json:"val_fraction" gt:"0" lt:"1" doc:"share of the trajectories held out for validation: the last ⌈val_fraction·samples⌉ of the data set (at least one, and at least one left to train on)"`
	TrainResolution int     `json:"train_resolution" min:"0" max:"8192" doc:"grid side the network trains on: the frames are truncated spectrally (Fourier modes beyond it dropped, amplitudes kept) to train_resolution²; 0 trains on the data set's grid. The model then runs on any grid at least 2·max(modes_x, modes_y) wide (zero-shot)"`
}

// Validate checks the architecture and the params against each other; what
// needs the data (grid, frames, samples) is checked when the job runs.
func (p *STFNOTrainParams) Validate(c *Checker) {
	c.Add(p.Config.Validate())
	if r := p.TrainResolution; r != 0 && r < 2*max(p.ModesX, p.ModesY) {
		c.Fail("/train_resolution", "is %d; the network keeps %d×%d Fourier modes and needs a grid of at least %d points per side", r, p.ModesX, p.ModesY, 2*max(p.ModesX, p.ModesY))
	}
}

// CheckUploads checks an uploaded data set's shape against the windows and
// the modes.
func (p *STFNOTrainParams) CheckUploads(c *Checker, uploads map[string]*storage.Upload) {
	if u := uploads["/dataset"]; u != nil {
		if d := findDataset(u, "vorticity"); d != nil && len(d.Shape) == 4 {
			p.checkShape(c, d.Shape[0], d.Shape[1], d.Shape[2], d.Shape[3])
		}
	}
}

// checkShape checks a data set of s trajectories of t frames of ny×nx.
func (p *STFNOTrainParams) checkShape(c *Checker, s, t, ny, nx int) {
	switch {
	case ny != nx:
		c.Fail("/dataset", "the frames are %d×%d; the network needs a square grid", ny, nx)
	case p.TrainResolution > nx:
		c.Fail("/train_resolution", "is %d, finer than the data set's %d×%d grid", p.TrainResolution, nx, nx)
	case p.TrainResolution == 0 && nx < 2*max(p.ModesX, p.ModesY):
		c.Fail("/modes_x", "the data set's %d×%d grid holds fewer than the %d×%d modes kept", nx, nx, p.ModesX, p.ModesY)
	}
	if t < p.TIn+p.TOut {
		c.Fail("/t_out", "a window of t_in + t_out = %d frames does not fit the data set's %d frames per trajectory", p.TIn+p.TOut, t)
	}
	if s < 2 {
		c.Fail("/dataset", "holds %d trajectory; training and validation need at least 2", s)
	}
	if p.ValStart+p.TIn+p.TOut > t {
		c.Fail("/val_start", "is %d: the validation window of %d frames from it does not fit the data set's %d frames", p.ValStart, p.TIn+p.TOut, t)
	}
}

// memory bounds a training run: the data set twice (as read and at the
// training resolution) when its size is known, and the activations of a batch.
func (p *STFNOTrainParams) memory(uploads map[string]*storage.Upload) int64 {
	var data int64
	n := int64(max(p.TrainResolution, 64))
	if u := uploads["/dataset"]; u != nil {
		if d := findDataset(u, "vorticity"); d != nil && len(d.Shape) == 4 {
			data = 2 * 8 * int64(d.Shape[0]) * int64(d.Shape[1]) * int64(d.Shape[2]) * int64(d.Shape[3])
			if p.TrainResolution == 0 {
				n = int64(d.Shape[2])
			}
		}
	}
	return data + stfnoActivations(p.Config, p.Batch, int(n), max(p.TIn, p.TOut))
}

// stfnoActivations bounds the memory of the activations a training step of a
// batch keeps for its backward pass: about 8 tensors of batch × expansion ·
// width × n² × T float64 per spectral layer (the channel MLP's hidden
// layer, its activation, the spectral and pointwise branches), and the
// replicas' buffers. It is an estimate for the memory budget, not a bound
// measured to the byte.
func stfnoActivations(c stfno.Config, batch, n, t int) int64 {
	per := int64(batch) * int64(c.Width) * int64(c.Expansion) * int64(n) * int64(n) * int64(max(t, c.TLat)) * 8
	return 8*int64(c.Layers)*per + 64<<20
}

// persistenceRelL2 is the mean relative L2 error of the persistence baseline
// (every predicted frame = the last input frame) over the windows at start of
// the given trajectories of data (sample, t, y, x).
func persistenceRelL2(data []float64, frames, n int, samples []int, start, tIn, tOut int) float64 {
	if len(samples) == 0 {
		return math.NaN()
	}
	area := n * n
	pred := make([]float64, tOut*area)
	var sum float64
	for _, s := range samples {
		traj := data[s*frames*area : (s+1)*frames*area]
		last := traj[(start+tIn-1)*area : (start+tIn)*area]
		for j := range tOut {
			copy(pred[j*area:], last)
		}
		sum += stfno.RelL2(pred, traj[(start+tIn)*area:(start+tIn+tOut)*area], tOut, n)
	}
	return sum / float64(len(samples))
}

func init() {
	Register(Spec[*STFNOTrainParams]{
		Name:  "stfno.train",
		Title: "ST-FNO: train a space-time Fourier neural operator on Navier–Stokes trajectories",
		Description: "Trains the space-time Fourier neural operator of Cao et al. (ICLR 2025) to map t_in vorticity frames " +
			"of a 2-D Navier–Stokes trajectory to the next t_out frames, on the trajectories of a navier_stokes.simulate " +
			"result or an upload: Adam with a one-cycle schedule, random window starts, relative L2 loss; the last " +
			"val_fraction of the trajectories validate after every epoch. The result holds the model (for stfno.predict), " +
			"the split and the per-epoch errors. Deterministic for a given seed and thread count. Checkpoints every few " +
			"minutes at epoch boundaries; a run interrupted by a restart resumes from the last one.",
		Defaults: func() *STFNOTrainParams {
			return &STFNOTrainParams{Config: stfno.DefaultConfig(),
				TrainConfig: stfno.TrainConfig{TIn: 10, TOut: 10, Epochs: 10, Batch: 4, LR: 1e-2}, ValFraction: 0.1}
		},
		Outputs: []string{"model", "train_rel_l2", "val_rel_l2", "split_train", "split_val"},
		Metrics: map[string]string{
			"train_rel_l2":       "float64: mean relative L2 error of the training windows in the last epoch",
			"val_rel_l2":         "float64: mean relative L2 error (Bochner L²(0,T;L²), per trajectory) of the validation trajectories after the last epoch, at window start val_start",
			"persistence_rel_l2": "float64: the same error of the persistence baseline (every predicted frame = the last input frame)",
			"epochs":             "int64: epochs trained",
			"resumed_epoch":      "int64: the epoch a checkpoint let this run resume from (0: trained from the start)",
			"steps":              "int64: optimiser steps",
			"parameters":         "int64: trainable parameters of the network",
			"resolution":         "int64: grid side the network trained on",
			"seconds":            "float64: wall time of the training, in seconds",
		},
		Class:       ClassTrain,
		Timeout:     12 * time.Hour,
		MaxAttempts: 3,
		Run:         runSTFNOTrain,
		Memory:      (*STFNOTrainParams).memory,
		MemoryParam: "/batch",
	})
}

// flowData is a trajectory data set with the flow it comes from.
type flowData struct {
	vorticity          []float64 // (sample, t, y, x)
	samples, frames, n int
	flow               navierstokes.Flow
	frameDt            float64
	hasFlow            bool // flow and frameDt were recorded with the data
}

// readFlowData reads the vorticity of a data set file and, when the file is
// a navier_stokes.simulate result, the flow and frame spacing it records.
func readFlowData(path string) (*flowData, error) {
	f, err := hdf5io.Open(path)
	if err != nil {
		return nil, Permanent(fmt.Errorf("data set: %w", err))
	}
	defer f.Close()
	v, shape, err := f.ReadFloat64("vorticity")
	if err != nil {
		return nil, Permanent(fmt.Errorf("data set: %w", err))
	}
	if len(shape) != 4 || shape[2] != shape[3] {
		return nil, Permanent(fmt.Errorf("data set: vorticity has shape %v; want (sample, t, y, x) with square frames", shape))
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, Permanent(fmt.Errorf("data set: vorticity holds a non-finite value at index %d", i))
		}
	}
	d := &flowData{vorticity: v, samples: shape[0], frames: shape[1], n: shape[2]}
	if kind, _ := f.AttrString("/", "eddy_kind"); kind == "navier_stokes.simulate" {
		if text, err := f.AttrString("/", "params_json"); err == nil {
			var c navierstokes.Config
			if json.Unmarshal([]byte(text), &c) == nil && c.SnapshotDt > 0 {
				d.flow, d.frameDt, d.hasFlow = c.Flow, c.SnapshotDt, true
			}
		}
	}
	return d, nil
}

func runSTFNOTrain(ctx context.Context, p *STFNOTrainParams, env *Env) error {
	start := time.Now()
	env.UseSeed(p.Seed)
	path, err := env.Resolve(p.Dataset)
	if err != nil {
		return err
	}
	env.Stage("reading the data set")
	d, err := readFlowData(path)
	if err != nil {
		return err
	}
	var c Checker
	p.checkShape(&c, d.samples, d.frames, d.n, d.n)
	if err := c.Err(); err != nil {
		return err
	}
	data, n := d.vorticity, d.n
	if r := p.TrainResolution; r != 0 && r != n {
		env.Stage("truncating the frames spectrally from %d² to %d²", n, r)
		coarse := make([]float64, d.samples*d.frames*r*r)
		stfno.Downsample(coarse, data, d.samples*d.frames, n, r)
		data, n = coarse, r
	}
	split := stfno.SplitLast(d.samples, p.ValFraction)
	m, err := stfno.New(p.Config, p.Seed)
	if err != nil {
		return Permanent(err)
	}
	tr, err := stfno.NewTrainer(m, data, d.samples, d.frames, n, split, p.TrainConfig)
	if err != nil {
		return Permanent(err)
	}
	resumed, err := env.Resume(tr.ReadState)
	if err != nil {
		env.Warn("%v", err)
	}
	resumedAt := 0
	if resumed {
		resumedAt = tr.Epoch()
		env.Stage("resumed at epoch %d of %d from a checkpoint", resumedAt, p.Epochs)
	}
	var last stfno.EpochStats
	for tr.Epoch() < p.Epochs {
		e := tr.Epoch()
		last, err = tr.RunEpoch(ctx, func(done, total int) {
			env.Progress.Report(progress.Update{
				Fraction: (float64(e) + float64(done)/float64(total)) / float64(p.Epochs),
				Message:  fmt.Sprintf("epoch %d of %d, step %d of %d", e+1, p.Epochs, done, total),
			})
		})
		if err != nil {
			return err
		}
		env.Progress.Report(progress.Update{
			Fraction: float64(tr.Epoch()) / float64(p.Epochs),
			Message:  fmt.Sprintf("epoch %d of %d: train rel. L2 %.3g, validation %.3g", tr.Epoch(), p.Epochs, last.TrainRelL2, last.ValRelL2),
			Metrics:  map[string]float64{"epoch": float64(tr.Epoch()), "train_rel_l2": last.TrainRelL2, "val_rel_l2": last.ValRelL2},
		})
		if tr.Epoch() < p.Epochs && env.CheckpointDue() {
			if err := env.Checkpoint(tr.WriteState); err != nil {
				env.Stage("checkpoint at epoch %d not saved: %v", tr.Epoch(), err)
			}
		}
	}
	hist := tr.History()
	trainErr, valErr := make([]float64, len(hist)), make([]float64, len(hist))
	for i, h := range hist {
		trainErr[i], valErr[i] = h.TrainRelL2, h.ValRelL2
	}
	w := env.Out
	if err := m.Write(w, "model"); err != nil {
		return fmt.Errorf("writing the model: %w", err)
	}
	rec := stfnoRecord{Dataset: p.Dataset, TIn: p.TIn, TOut: p.TOut, Resolution: n, DataResolution: d.n, ValStart: p.ValStart}
	if d.hasFlow {
		rec.Flow, rec.FrameDt = &d.flow, d.frameDt
	}
	text, _ := json.Marshal(rec)
	if err := w.SetAttrString("/model", "training", string(text)); err != nil {
		return err
	}
	for _, x := range []struct {
		name string
		v    []float64
	}{{"train_rel_l2", trainErr}, {"val_rel_l2", valErr}} {
		if err := w.WriteFloat64(x.name, x.v, []int{len(x.v)}, "epoch", ""); err != nil {
			return err
		}
	}
	for _, x := range []struct {
		name string
		v    []int
	}{{"split_train", split.Train}, {"split_val", split.Val}} {
		v := make([]int64, len(x.v))
		for i, s := range x.v {
			v[i] = int64(s)
		}
		if err := w.WriteInt64(x.name, v, []int{len(v)}, "sample", ""); err != nil {
			return err
		}
	}
	env.Metrics["train_rel_l2"] = last.TrainRelL2
	env.Metrics["val_rel_l2"] = last.ValRelL2
	env.Metrics["persistence_rel_l2"] = persistenceRelL2(data, d.frames, n, split.Val, p.ValStart, p.TIn, p.TOut)
	env.Metrics["epochs"] = p.Epochs
	env.Metrics["resumed_epoch"] = resumedAt
	env.Metrics["steps"] = tr.StepsPerEpoch() * p.Epochs
	env.Metrics["parameters"] = nn.CountParams(m.Params())
	env.Metrics["resolution"] = n
	env.Metrics["seconds"] = time.Since(start).Seconds()
	return nil
}

// stfnoRecord is what a trained model records of its training, as the JSON
// attribute training of the result's /model group.
type stfnoRecord struct {
	Dataset        string             `json:"dataset"`
	TIn            int                `json:"t_in"`
	TOut           int                `json:"t_out"`
	Resolution     int                `json:"resolution"`
	DataResolution int                `json:"data_resolution"`
	ValStart       int                `json:"val_start"`
	Flow           *navierstokes.Flow `json:"flow,omitempty"`
	FrameDt        float64            `json:"frame_dt,omitempty"`
}
